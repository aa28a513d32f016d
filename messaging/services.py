"""Writes to messages.

A message is stored first; the websocket push goes out only after the
transaction commits (`transaction.on_commit`), and a push that fails (the
channel layer, Redis, is down) is logged and dropped: the message is already
safe in the database and the other side sees it on the next page load or
socket reconnect.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

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


@dataclass(frozen=True)
class MarkedRead:
    ids: list[uuid.UUID]  # the messages just marked read
    unread_left: int | None  # the reader's unread messages now, where it came for free


def conversation_mark_read(
    *, reader: User, partner: User, ip_address: str | None = None
) -> list[uuid.UUID]:
    """Mark everything `partner` sent to `reader` read, and tell `partner` after commit.

    Returns the ids that were marked. See `conversation_mark_read_counting`.
    """
    return conversation_mark_read_counting(
        reader=reader, partner=partner, ip_address=ip_address
    ).ids


@transaction.atomic
def conversation_mark_read_counting(
    *, reader: User, partner: User, ip_address: str | None = None
) -> MarkedRead:
    """`conversation_mark_read`, also answering how many messages the reader has unread after it.

    Opening a conversation calls this, so it costs the same with or without
    anything waiting: on PostgreSQL one statement does it all (the UPDATE of
    the messages, of the conversation's unread count and the INSERT of their
    audit entries; auditlog's signals do not see a bulk update, so the
    entries are written here, with the reader as actor), and counts the
    reader's unread messages left, which the page's badge shows. Elsewhere
    one SELECT and, when something was waiting, an UPDATE of each table and
    one INSERT; the unread count is then left to whoever shows it (None).
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        marked = _mark_read_in_one_statement(
            reader=reader, partner=partner, at=now, ip_address=ip_address
        )
    else:
        marked = MarkedRead(
            ids=_mark_read_step_by_step(
                reader=reader, partner=partner, at=now, ip_address=ip_address
            ),
            unread_left=None,
        )
    ids = marked.ids
    if ids:
        transaction.on_commit(
            lambda: push.messages_read(reader=reader, partner=partner, ids=ids, at=now)
        )
    return marked


def _mark_read_step_by_step(
    *, reader: User, partner: User, at: dt.datetime, ip_address: str | None
) -> list[uuid.UUID]:
    waiting = list(
        Message.objects.filter(sender=partner, receiver=reader, read=False).values_list(
            "pk", "sent_at"
        )
    )
    if not waiting:
        return []
    ids = [pk for pk, _sent_at in waiting]
    marked = Message.objects.filter(pk__in=ids, read=False).update(read=True, read_at=at)
    _conversation_read(owner_id=reader.pk, partner_id=partner.pk, count=marked)
    _audit_marked_read(
        reader=reader, partner=partner, waiting=waiting, at=at, ip_address=ip_address
    )
    return ids


# Data-modifying CTEs all see the same snapshot and run once each, so the
# conversation loses exactly the number of messages this statement marked,
# and each marked message gets one audit entry in the shape `_audit_marked_read`
# writes (object_repr as Message.__str__, with the time in UTC). The unread
# count of the conversation row gates the UPDATE: the row is written with
# every message and every read in the same transaction (conversations_rebuild
# after a bulk import of messages).
_MARK_READ = """
WITH marked AS (
    UPDATE {messages} SET read = TRUE, read_at = %(at)s
    WHERE sender_id = %(partner)s AND receiver_id = %(reader)s AND NOT read
    -- Checked once, first: most openings find nothing unread, and then the
    -- messages are not read at all (else the whole pair's range of the index).
    AND EXISTS (
        SELECT 1 FROM {conversations}
        WHERE owner_id = %(reader)s AND partner_id = %(partner)s AND unread > 0
    )
    RETURNING id, sent_at
), counted AS (
    UPDATE {conversations} SET unread = GREATEST(unread - (SELECT COUNT(*) FROM marked), 0)
    WHERE owner_id = %(reader)s AND partner_id = %(partner)s AND EXISTS (SELECT 1 FROM marked)
), audited AS (
    INSERT INTO {logentry} (
        content_type_id, object_pk, object_repr, action, changes, changes_text,
        actor_id, actor_email, remote_addr, timestamp, cid
    )
    SELECT %(content_type)s, id::text,
        %(repr)s || to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
        %(action)s, %(changes)s::jsonb, '', %(reader)s, %(email)s, %(ip)s::inet, %(at)s, %(cid)s
    FROM marked
)
SELECT
    ARRAY(SELECT id FROM marked),
    -- The snapshot is from before the UPDATE: what was unread, less what it marked.
    (SELECT COUNT(*) FROM {messages} WHERE receiver_id = %(reader)s AND NOT read)
    - (SELECT COUNT(*) FROM marked)
"""


def _mark_read_in_one_statement(
    *, reader: User, partner: User, at: dt.datetime, ip_address: str | None
) -> MarkedRead:
    sql = _MARK_READ.format(
        messages=connection.ops.quote_name(Message._meta.db_table),
        conversations=connection.ops.quote_name(Conversation._meta.db_table),
        logentry=connection.ops.quote_name(LogEntry._meta.db_table),
    )
    params = {
        "at": at,
        "reader": reader.pk,
        "partner": partner.pk,
        "content_type": ContentType.objects.get_for_model(Message).pk,
        "repr": f"{partner} → {reader} at ",
        "action": LogEntry.Action.UPDATE,
        "changes": json.dumps(_read_changes(at)),
        "email": reader.email,
        "ip": ip_address,
        "cid": get_cid(),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids, unread_left = cursor.fetchone()
    return MarkedRead(ids=list(ids), unread_left=unread_left)


def _read_changes(at: dt.datetime) -> dict[str, list[str]]:
    # The same shape auditlog gives a save(): old and new value as strings, naive UTC.
    return {"read": ["False", "True"], "read_at": ["None", str(timezone.make_naive(at, dt.UTC))]}


def _audit_marked_read(
    *,
    reader: User,
    partner: User,
    waiting: list[tuple[uuid.UUID, dt.datetime]],
    at: dt.datetime,
    ip_address: str | None,
) -> None:
    content_type = ContentType.objects.get_for_model(Message)
    changes = _read_changes(at)
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
