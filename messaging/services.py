"""Writes to messages."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from messaging.models import Message


@transaction.atomic
def message_create(
    *, sender: User, receiver: User, content: str, sent_at: dt.datetime | None = None
) -> Message:
    """Store a message from sender to receiver."""
    message = Message(
        sender=sender, receiver=receiver, content=content.strip(), sent_at=sent_at or timezone.now()
    )
    message.full_clean()
    message.save()
    return message


@transaction.atomic
def message_mark_read(*, message: Message, at: dt.datetime | None = None) -> Message:
    """Mark one message read; read_at records when."""
    if not message.read:
        message.read = True
        message.read_at = at or timezone.now()
        message.save(update_fields=["read", "read_at"])
    return message
