"""Writes to messages.

A message is stored first; the websocket push goes out only after the
transaction commits (`transaction.on_commit`), and a push that fails (the
channel layer, Redis, is down) is logged and dropped: the message is already
safe in the database and the other side sees it on the next page load or
socket reconnect.
"""

from __future__ import annotations

import datetime as dt
import uuid

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from messaging import push
from messaging.models import MESSAGE_MAX_LENGTH, Message
from messaging.selectors import refusal_reason


class MessageNotAllowed(Exception):
    """The sender may not write to this person; str(error) says why, for the sender."""


@transaction.atomic
def message_create(
    *, sender: User, receiver: User, content: str, sent_at: dt.datetime | None = None
) -> Message:
    """Store a message from sender to receiver, as it is (demo data and imports; no policy, no push).

    Portal pages and the assistant send with `message_send`, which checks who
    may write to whom.
    """
    message = Message(
        sender=sender, receiver=receiver, content=content.strip(), sent_at=sent_at or timezone.now()
    )
    message.full_clean()
    message.save()
    return message


def clean_content(content: str) -> str:
    """Plain text as it will be stored: trimmed, one kind of line break, within the limit."""
    text = content.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValidationError({"content": _("Write a message before sending.")})
    if "\x00" in text:
        raise ValidationError(
            {"content": _("The message contains a character that cannot be sent.")}
        )
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            {
                "content": _(
                    "A message can be at most %(limit)d characters (this one has %(length)d)."
                )
                % {"limit": MESSAGE_MAX_LENGTH, "length": len(text)}
            }
        )
    return text


@transaction.atomic
def message_send(*, sender: User, receiver: User, content: str) -> Message:
    """Send a message in the portal: check who may write to whom, store it, push it after commit.

    Raises MessageNotAllowed (with the reason) or ValidationError (content).
    """
    reason = refusal_reason(sender, receiver)
    if reason is not None:
        raise MessageNotAllowed(reason)
    message = message_create(sender=sender, receiver=receiver, content=clean_content(content))
    transaction.on_commit(lambda: push.message_sent(message))
    return message


@transaction.atomic
def message_mark_read(*, message: Message, at: dt.datetime | None = None) -> Message:
    """Mark one message read; read_at records when."""
    if not message.read:
        message.read = True
        message.read_at = at or timezone.now()
        message.save(update_fields=["read", "read_at"])
    return message


@transaction.atomic
def conversation_mark_read(
    *, reader: User, partner: User, ip_address: str | None = None
) -> list[uuid.UUID]:
    """Mark everything `partner` sent to `reader` read, and tell `partner` after commit.

    A fixed number of queries however many messages were waiting: one
    UPDATE, plus one INSERT of their audit entries (auditlog's signals do not
    see a bulk update, so the entries are written here, with the reader as
    actor). Returns the ids that were marked.
    """
    now = timezone.now()
    waiting = list(
        Message.objects.filter(sender=partner, receiver=reader, read=False).values_list(
            "pk", "sent_at"
        )
    )
    if not waiting:
        return []
    ids = [pk for pk, _sent_at in waiting]
    Message.objects.filter(pk__in=ids, read=False).update(read=True, read_at=now)
    _audit_marked_read(
        reader=reader, partner=partner, waiting=waiting, at=now, ip_address=ip_address
    )
    transaction.on_commit(
        lambda: push.messages_read(reader=reader, partner=partner, ids=ids, at=now)
    )
    return ids


def _audit_marked_read(
    *,
    reader: User,
    partner: User,
    waiting: list[tuple[uuid.UUID, dt.datetime]],
    at: dt.datetime,
    ip_address: str | None,
) -> None:
    content_type = ContentType.objects.get_for_model(Message)
    # The same shape auditlog gives a save(): old and new value as strings, naive UTC.
    changes = {"read": ["False", "True"], "read_at": ["None", str(timezone.make_naive(at, dt.UTC))]}
    cid = get_cid()
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                content_type=content_type,
                object_pk=str(pk),
                object_repr=f"{partner} → {reader} at {sent_at:%Y-%m-%d %H:%M}",
                action=LogEntry.Action.UPDATE,
                changes=changes,
                changes_text="",
                actor=reader,
                actor_email=reader.email,
                remote_addr=ip_address,
                timestamp=at,
                cid=cid,
            )
            for pk, sent_at in waiting
        ]
    )
