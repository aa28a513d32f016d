"""Reads of messages, scoped to the user asking."""

from __future__ import annotations

from accounts.models import User
from messaging.models import Message


def unread_count(user: User) -> int:
    """Messages to this user not yet read (uses the receiver/read index)."""
    return Message.objects.filter(receiver=user, read=False).count()


def latest_unread(user: User, *, limit: int = 5) -> list[Message]:
    return list(
        Message.objects.filter(receiver=user, read=False).select_related("sender").order_by("-sent_at")[:limit]
    )
