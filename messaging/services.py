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
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from messaging import push
from messaging.models import MESSAGE_MAX_LENGTH, Conversation, Message
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
    _conversation_add(owner=sender, partner=receiver, at=message.sent_at, unread=0)
    _conversation_add(
        owner=receiver, partner=sender, at=message.sent_at, unread=int(not message.read)
    )
    return message


# --- The conversations table (the inbox rows; see messaging.models.Conversation) ----------


def _conversation_add(*, owner: User, partner: User, at: dt.datetime, unread: int) -> None:
    """Count one more message on `owner`'s side of the conversation with `partner`.

    An UPDATE first: it locks the row, so two messages sent at once both
    count. The first message of a pair inserts the row, in a savepoint, and a
    concurrent first message that inserted it already makes this an UPDATE.
    """
    changes = {
        "last_at": Greatest(F("last_at"), at),
        "total": F("total") + 1,
        "unread": F("unread") + unread,
    }
    rows = Conversation.objects.filter(owner=owner, partner=partner)
    if rows.update(**changes):
        return
    try:
        with transaction.atomic():
            Conversation.objects.create(
                owner=owner, partner=partner, last_at=at, total=1, unread=unread
            )
    except IntegrityError:
        rows.update(**changes)


def _conversation_read(*, owner_id: object, partner_id: object, count: int) -> None:
    """`count` of the messages the partner sent to the owner have just been read."""
    if count:
        Conversation.objects.filter(owner_id=owner_id, partner_id=partner_id).update(
            unread=Greatest(F("unread") - count, 0)
        )


# Each message counts once on each side: as sent (never unread) and as received.
_REBUILD = """
INSERT INTO conversations (owner_id, partner_id, last_at, total, unread)
SELECT owner_id, partner_id, MAX(sent_at), COUNT(*), SUM(unread_to_owner)
FROM (
    SELECT sender_id AS owner_id, receiver_id AS partner_id, sent_at, 0 AS unread_to_owner
    FROM messages
    UNION ALL
    SELECT receiver_id, sender_id, sent_at, CASE WHEN read THEN 0 ELSE 1 END
    FROM messages
) AS sides
GROUP BY owner_id, partner_id
"""


@transaction.atomic
def conversations_rebuild() -> int:
    """Recompute every conversation row from the messages (after a bulk import); returns the rows."""
    Conversation.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(_REBUILD)
    return Conversation.objects.count()


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
        _conversation_read(owner_id=message.receiver_id, partner_id=message.sender_id, count=1)
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
    marked = Message.objects.filter(pk__in=ids, read=False).update(read=True, read_at=now)
    _conversation_read(owner_id=reader.pk, partner_id=partner.pk, count=marked)
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
