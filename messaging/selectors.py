"""Reads of messages, scoped to the user asking.

Who may write to whom: a patient to the providers with whom they have an
active care relationship; a provider to their own patients (active
relationship) and to other providers; nobody else. Who may *read* a
conversation is a little wider, because a message already exchanged belongs to
both people: a patient keeps their history with a provider whose care has
ended, and a provider keeps what they can see under the patient policy
(patients.policy), including emergency access. A conversation outside both is
a 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.translation import gettext as _

from accounts.models import Role, User
from messaging.models import Conversation, Message
from patients.policy import visible_patients
from patients.templatetags.zoned_time import iso as iso_utc
from providers.models import ProviderPatient, ProviderProfile, RelationshipStatus

# How many messages a conversation page and a catch-up return at most (a page shows
# a screenful; older ones are an "earlier" link away).
CONVERSATION_PAGE_SIZE = 20
SYNC_LIMIT = 200


def unread_count(user: User) -> int:
    """Messages to this user not yet read (uses the receiver/read index)."""
    return Message.objects.filter(receiver=user, read=False).count()


def latest_unread(user: User, *, limit: int = 5) -> list[Message]:
    return list(
        Message.objects.filter(receiver=user, read=False)
        .select_related("sender")
        .order_by("-sent_at")[:limit]
    )


def latest_unread_with_count(user: User, *, limit: int = 5) -> tuple[list[dict[str, Any]], int]:
    """The latest unread messages to `user` as plain values (sender_name, sent_at, content),
    newest first, and `unread_count(user)`, in one query.

    The count is an uncorrelated scalar subquery, worked out once from the
    receiver/read index; with no unread message there is no row, and the count is 0.
    """
    unread = Message.objects.filter(receiver=user, read=False)
    total = unread.order_by().values("receiver").annotate(n=Count("pk")).values("n")
    rows = list(
        unread.order_by("-sent_at").values(
            "sent_at", "content", sender_name=F("sender__full_name"), unread_total=Subquery(total)
        )[:limit]
    )
    return rows, rows[0]["unread_total"] if rows else 0


# --- Who may write to whom ------------------------------------------------------


def _is_portal_user(user: User) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_use_messaging(user: User) -> bool:
    """Patients and providers with their profile; staff work in the admin."""
    if not _is_portal_user(user):
        return False
    # The reverse one-to-one caches its answer (even "none") on the user, so the
    # role decorators' check and every later call here cost one query in all.
    if user.role == Role.PATIENT:
        return hasattr(user, "patient_profile")
    if user.role == Role.PROVIDER:
        return hasattr(user, "provider_profile")
    return False


def _cares_for(provider_user: OuterRef | User, patient_user: OuterRef | User) -> Exists:
    return Exists(
        ProviderPatient.objects.filter(
            provider__user=provider_user,
            patient__user=patient_user,
            status=RelationshipStatus.ACTIVE,
        )
    )


def _messageable_q(user: User) -> Q:
    """A Q on User selecting the people `user` may send a message to."""
    if not _is_portal_user(user):
        return Q(pk__in=[])
    active = Q(is_active=True) & ~Q(pk=user.pk)
    if user.role == Role.PATIENT:
        return active & Q(role=Role.PROVIDER) & Q(_cares_for(OuterRef("pk"), user))
    if user.role == Role.PROVIDER:
        colleague = Q(role=Role.PROVIDER) & Q(
            Exists(ProviderProfile.objects.filter(user=OuterRef("pk")))
        )
        own_patient = Q(role=Role.PATIENT) & Q(_cares_for(user, OuterRef("pk")))
        return active & (colleague | own_patient)
    return Q(pk__in=[])


def messageable_users(user: User) -> QuerySet[User]:
    """Everyone `user` may write to, by name (the compose form's choices)."""
    if not can_use_messaging(user):
        return User.objects.none()
    return (
        User.objects.filter(_messageable_q(user))
        .select_related("provider_profile")
        .order_by("full_name")
    )


def may_message(sender: User, receiver: User) -> bool:
    return (
        can_use_messaging(sender)
        and User.objects.filter(_messageable_q(sender), pk=receiver.pk).exists()
    )


def refusal_reason(sender: User, receiver: User) -> str | None:
    """Why `sender` may not write to `receiver`, in words for the sender; None when they may."""
    if sender.pk == receiver.pk:
        return _("You cannot send a message to yourself.")
    if may_message(sender, receiver):
        return None
    if not receiver.is_active:
        return _("This account no longer receives messages.")
    if sender.role == Role.PATIENT:
        return _("You can only message providers who are currently caring for you.")
    if sender.role == Role.PROVIDER:
        return _("You can only message your own patients and other providers.")
    return _("Messages are for patients and providers only.")


# --- Whose conversation may be opened --------------------------------------------


def _readable_q(user: User) -> Q:
    """A Q on User: counterparts whose exchanged messages with `user` `user` may read."""
    if user.role == Role.PATIENT:
        # Their own messages, whoever the other side was.
        return Q(pk__isnull=False)
    if user.role == Role.PROVIDER:
        # Another provider's messages are not PHI; a patient's are, so the
        # patient policy decides (active care or emergency access).
        return Q(role=Role.PROVIDER) | Q(Exists(visible_patients(user).filter(user=OuterRef("pk"))))
    return Q(pk__in=[])


def _history_with(user: User) -> Exists:
    return Exists(
        Message.objects.filter(
            Q(sender=user, receiver=OuterRef("pk")) | Q(sender=OuterRef("pk"), receiver=user)
        )
    )


_PATIENT_DETAILS = (
    "insurance_number",
    "ssn",
    "ssn_hash",
    "date_of_birth",
    "address",
    "emergency_contact",
    "emergency_contact_phone",
)


def conversation_partner(user: User, partner_id: uuid.UUID | str) -> User | None:
    """The person whose conversation with `user` is at this id, or None (a 404) if `user` may not open it.

    The person comes with `may_reply` (`may_message(user, them)`, for the
    page's reply form) and `in_care` (an active care relationship between the
    two; a provider's page logs the opening of a patient's messages, flagged
    when it is under emergency access).
    """
    if not can_use_messaging(user) or str(partner_id) == str(user.pk):
        return None
    # One query in the usual case: whoever `user` may write to, they may also
    # open. Only when they may not write does a second query ask whether their
    # history is readable (care ended, emergency access).
    # `may_message` is worked out here from the one care relationship that can
    # matter, read by profile ids (`user` comes with their profile): the whole
    # `_messageable_q` as an annotation cost ~4 ms of ORM compiling and
    # PostgreSQL planning per opening, more than the query itself.
    if user.role == Role.PROVIDER:
        cares = ProviderPatient.objects.filter(
            provider_id=user.provider_profile.pk, patient_id=OuterRef("patient_profile__id")
        )
    else:
        cares = ProviderPatient.objects.filter(
            provider_id=OuterRef("provider_profile__id"), patient_id=user.patient_profile.pk
        )
    found_rows = list(
        User.objects.filter(pk=partner_id)
        .select_related("provider_profile", "patient_profile")
        # The page needs who the patient is, not their record (the SSN would be decrypted).
        .defer(*(f"patient_profile__{name}" for name in _PATIENT_DETAILS))
        .annotate(in_care=Exists(cares.filter(status=RelationshipStatus.ACTIVE)))
        .order_by()[:1]
    )
    if not found_rows:
        return None
    found = found_rows[0]
    if not found.is_active:
        found.may_reply = False
    elif user.role == Role.PROVIDER:
        # Another provider (with a profile), or their own patient.
        colleague = found.role == Role.PROVIDER and hasattr(found, "provider_profile")
        found.may_reply = colleague or (found.role == Role.PATIENT and found.in_care)
    else:
        found.may_reply = found.role == Role.PROVIDER and found.in_care
    if not found.may_reply:
        readable = Q(_history_with(user)) & _readable_q(user)
        if not User.objects.filter(readable, pk=found.pk).exists():
            return None
    return found


# --- Inbox -------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    """One conversation of the inbox, with what its row shows already made."""

    partner_id: uuid.UUID
    partner_name: str
    partner_role: str
    last_at: dt.datetime
    unread: int
    total: int

    @property
    def partner_role_display(self) -> str:
        return Role(self.partner_role).label if self.partner_role in Role.values else ""


@dataclass(frozen=True)
class InboxCursor:
    """Where an inbox window starts: after the conversation (last_at, partner_id)."""

    last_at: dt.datetime
    partner_id: uuid.UUID

    def __str__(self) -> str:
        return f"{self.last_at.isoformat()}_{self.partner_id}"

    @classmethod
    def parse(cls, value: str | None) -> InboxCursor | None:
        """The cursor in an "Older" link, or None (the newest window) for anything else."""
        moment, _sep, partner = (value or "").partition("_")
        try:
            last_at = dt.datetime.fromisoformat(moment)
            partner_id = uuid.UUID(partner)
        except ValueError:
            return None
        return cls(last_at, partner_id) if last_at.tzinfo is not None else None


@dataclass(frozen=True)
class InboxPage:
    conversations: list[InboxRow]
    older: InboxCursor | None  # the next window's cursor; None when this is the last
    # All of the user's unread messages (the navigation's badge), when the window has rows.
    unread_total: int | None = None


_INBOX_FIELDS = ("partner_id", "partner__full_name", "partner__role", "last_at", "unread", "total")


def conversation_summaries(user: User) -> QuerySet[Conversation]:
    """One row per person `user` has exchanged messages with, newest first, with the person's name.

    Read from the conversations table (see messaging.models.Conversation),
    newest first through its inbox index, so a window of the inbox reads one
    window of rows however many messages there are. A provider's rows are
    limited to people whose messages they may still read (`_readable_q`).
    """
    rows = Conversation.objects.filter(owner=user)
    if user.role == Role.PROVIDER:
        # Tested per row of the index range, never by listing every readable
        # person first. "Is a provider" is asked of provider_profiles (200
        # rows, hashed once) rather than of the partner's users.role: with the
        # role test beside the join, PostgreSQL hash-joined all 20,000 users
        # (5 ms) instead of walking the index and stopping at the window. A
        # provider account without a profile cannot use messaging at all.
        rows = rows.filter(
            Q(Exists(ProviderProfile.objects.filter(user=OuterRef("partner"))))
            | Q(Exists(visible_patients(user).filter(user=OuterRef("partner"))))
        )
    elif user.role != Role.PATIENT:
        return Conversation.objects.none().values(*_INBOX_FIELDS)
    return rows.values(*_INBOX_FIELDS).order_by("-last_at", "partner_id")


def inbox_page(user: User, *, after: InboxCursor | None = None, size: int) -> InboxPage:
    """A window of `size` conversations, newest first, after `after`: one query, no COUNT.

    Fetches one row more than it shows to know whether an older window exists.
    """
    rows = conversation_summaries(user)
    if after is not None:
        rows = rows.filter(
            Q(last_at__lt=after.last_at) | Q(last_at=after.last_at, partner_id__gt=after.partner_id)
        )
    # The badge's count rides along: the sum of every conversation's unread
    # count is `unread_count` (each message is counted on its receiver's row),
    # read once (it does not depend on the row) from the owner's index range.
    # SUM as a plain function: Django's Sum would add a GROUP BY (a
    # GroupAggregate) to this one-group subquery.
    rows = rows.annotate(
        unread_total=Subquery(
            Conversation.objects.filter(owner=user)
            .annotate(unread_sum=Func(F("unread"), function="SUM"))
            .values("unread_sum")
            .order_by(),
            output_field=IntegerField(),
        )
    )
    fetched = list(rows[: size + 1])
    found = [
        InboxRow(
            partner_id=row["partner_id"],
            partner_name=row["partner__full_name"],
            partner_role=row["partner__role"],
            last_at=row["last_at"],
            unread=row["unread"],
            total=row["total"],
        )
        for row in fetched
    ]
    shown = found[:size]
    older = InboxCursor(shown[-1].last_at, shown[-1].partner_id) if len(found) > size else None
    unread_total = fetched[0]["unread_total"] if fetched else None
    return InboxPage(conversations=shown, older=older, unread_total=unread_total)


# --- One conversation --------------------------------------------------------------


def conversation_messages(user: User, partner: User) -> QuerySet[Message]:
    """Messages between the two, oldest first (the conversation index serves both directions)."""
    return (
        Message.objects.filter(Q(sender=user, receiver=partner) | Q(sender=partner, receiver=user))
        .select_related("sender")
        .order_by("sent_at", "id")
    )


def _after_q(anchor: Message) -> Q:
    return Q(sent_at__gt=anchor.sent_at) | Q(sent_at=anchor.sent_at, id__gt=anchor.id)


@dataclass(frozen=True)
class ConversationPage:
    messages: list[Message]
    has_earlier: bool


@dataclass(frozen=True)
class MessageRow:
    """One message as the conversation page shows it, every value already made."""

    id: uuid.UUID
    sender_id: uuid.UUID
    mine: bool
    author: str
    content: str
    sent_at_iso: str
    sent_at_display: str
    read: bool
    status: str  # under the viewer's own messages: "Sent", or "Read <time>"


def message_rows(user: User, partner: User, messages: list[Message]) -> list[MessageRow]:
    """Display rows of a conversation page's messages, so the template only prints them.

    The author is one of the two people, so no join on the sender: the
    partner's name comes from `partner`.
    """
    from messaging.push import TimeDisplay  # push imports this module

    display_time = TimeDisplay()
    you, sent, read = _("You"), _("Sent"), _("Read")
    rows = []
    for message in messages:
        mine = message.sender_id == user.pk
        rows.append(
            MessageRow(
                id=message.pk,
                sender_id=message.sender_id,
                mine=mine,
                author=you if mine else partner.full_name,
                content=message.content,
                sent_at_iso=iso_utc(message.sent_at),
                sent_at_display=display_time(message.sent_at),
                read=message.read,
                status=f"{read} {display_time(message.read_at)}" if message.read else sent,
            )
        )
    return rows


# Each direction's newest from the end of its own range of the conversation
# index, then the two merged: reads 2 x (size + 1) rows, where an OR of the
# two directions reads every message of the pair and sorts them (2,000 for a
# long conversation, and growing with it). Written by hand: the ORM's union of
# two sliced querysets took longer to compile (~1 ms) than the query to run.
_CONVERSATION_SIDE_SQL = (
    "SELECT * FROM (SELECT id, sender_id, receiver_id, content, read, sent_at, read_at"
    " FROM messages WHERE sender_id = %s AND receiver_id = %s{before}"
    " ORDER BY sent_at DESC, id DESC LIMIT %s) AS {name}"
)
# (SQLite takes no parentheses around the parts of a UNION: hence SELECT * FROM.)
_CONVERSATION_PAGE_SQL = (
    _CONVERSATION_SIDE_SQL.replace("{name}", "sent")
    + " UNION ALL "
    + _CONVERSATION_SIDE_SQL.replace("{name}", "received")
    + " ORDER BY sent_at DESC, id DESC LIMIT %s"
)


def conversation_page(
    user: User,
    partner: User,
    *,
    before: uuid.UUID | None = None,
    size: int = CONVERSATION_PAGE_SIZE,
) -> ConversationPage:
    """The latest `size` messages (or those before message `before`), oldest first, in one query."""
    ids = Message._meta.pk
    mine, theirs = (
        ids.get_db_prep_value(user.pk, connection),
        ids.get_db_prep_value(partner.pk, connection),
    )
    before_sql, before_params = "", []
    if before is not None:
        both = conversation_messages(user, partner).select_related(None)
        anchor = both.filter(pk=before).only("id", "sent_at").first()
        if anchor is not None:
            # Earlier, or at the same moment with a smaller id (the page's order).
            before_sql = " AND (sent_at < %s OR (sent_at = %s AND id < %s))"
            at = connection.ops.adapt_datetimefield_value(anchor.sent_at)
            before_params = [at, at, ids.get_db_prep_value(anchor.pk, connection)]
    sql = _CONVERSATION_PAGE_SQL.format(before=before_sql)
    params = [
        *(mine, theirs, *before_params, size + 1),
        *(theirs, mine, *before_params, size + 1),
        size + 1,
    ]
    # The page knows both people: no join for the sender (see message_rows).
    newest_first = list(Message.objects.raw(sql, params))
    has_earlier = len(newest_first) > size
    return ConversationPage(messages=newest_first[:size][::-1], has_earlier=has_earlier)


@dataclass(frozen=True)
class Missed:
    messages: list[Message]
    complete: bool


def messages_after(
    user: User, partner: User, *, after: uuid.UUID | dt.datetime | None, limit: int = SYNC_LIMIT
) -> Missed:
    """What a page that last saw `after` (a message id or a time) missed, oldest first.

    `complete` is False when more than `limit` are missing: the page should
    then reload rather than catch up message by message.
    """
    rows = conversation_messages(user, partner)
    if isinstance(after, dt.datetime):
        rows = rows.filter(sent_at__gt=after)
    elif after is not None:
        anchor = rows.filter(pk=after).select_related(None).only("id", "sent_at").first()
        if anchor is None:
            return Missed(messages=[], complete=False)
        rows = rows.filter(_after_q(anchor))
    found = list(rows[: limit + 1])
    return Missed(messages=found[:limit], complete=len(found) <= limit)


def read_receipts(sender: User, partner: User, ids: list[uuid.UUID]) -> list[Message]:
    """Of these messages `sender` sent to `partner`, those now read."""
    if not ids:
        return []
    return list(
        Message.objects.filter(sender=sender, receiver=partner, pk__in=ids, read=True).only(
            "id", "read_at"
        )
    )
