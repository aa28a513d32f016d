"""Pushes to the open tabs of a user, over the channel layer.

Every signed-in tab of a user joins the group "user-<uuid>"; a push goes to
the groups and the consumers forward it to their sockets. Pushes are sent
after the transaction commits, and a failure (Redis down or unreachable) is
logged and swallowed: the message is already stored, and pages catch up on
their next load or reconnect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from functools import lru_cache
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime

from accounts.models import User
from messaging.models import Message
from messaging.selectors import unread_count
from patients.timezones import UTC, viewer_zone

logger = logging.getLogger(__name__)

# The channel-layer event type; consumers handle it in `messaging_event`.
EVENT_TYPE = "messaging.event"


def _push_timeout() -> float:
    # A blackholed Redis must not hold a request open: sending has already succeeded.
    return float(getattr(settings, "MESSAGING_PUSH_TIMEOUT_SECONDS", 2.0))


def user_group(user_id: uuid.UUID | str) -> str:
    return f"user-{user_id}"


def display_time(value: dt.datetime | None) -> str:
    """The time as every page shows it, in the zone of whoever it is shown to."""
    return TimeDisplay()(value)


class TimeDisplay:
    """Formats times as `display_time` does, for a viewer and language fixed when it is made.

    The same text as `patients.timezones.format_in_zone` ("Wed 2 Dec 2026,
    14:30 EST"), made without Django's per-character date formatter: a
    conversation shows two times per message, and that formatter was a good
    part of the page. The day ("Wed 2 Dec 2026") is formatted once per date
    and language; the clock and the zone's abbreviation are plain strftime.
    The viewer's zone and the language are looked up once (each is a
    per-request lookup), not once per time shown.
    """

    def __init__(self) -> None:
        self.zone = viewer_zone() or UTC
        self.language = translation.get_language()

    def __call__(self, value: dt.datetime | None) -> str:
        if value is None:
            return ""
        if timezone.is_naive(value):
            raise ValueError("display_time() needs an aware datetime.")
        local = value.astimezone(self.zone)
        zone = self.zone
        # As Django's "T": no abbreviation for a wall-clock time that a clock
        # change makes ambiguous or skips.
        ambiguous = zone.utcoffset(local.replace(fold=not local.fold)) != zone.utcoffset(local)
        abbreviation = "" if ambiguous else str(zone.tzname(local))
        return f"{_day_label(local.date(), self.language)}, {local:%H:%M} {abbreviation}"


@lru_cache(maxsize=1024)
def _day_label(day: dt.date, language: str | None) -> str:
    # `language` is only part of the key: date_format() uses the active one.
    return formats.date_format(day, "D j M Y")


def for_viewer(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` with each "<x>_display" re-made from "<x>" in the current viewer's zone.

    A push is made once for both people in a conversation, who may live in
    different zones; each socket shows it in its own user's.
    """
    shown = dict(payload)
    for key, value in payload.items():
        if isinstance(value, dict):
            shown[key] = for_viewer(value)
        elif key.endswith("_display"):
            moment = parse_datetime(str(payload.get(key.removesuffix("_display")) or ""))
            shown[key] = display_time(moment) if moment is not None and moment.tzinfo else value
    return shown


def message_payload(message: Message) -> dict[str, Any]:
    """What a conversation page needs to show one message, and no more."""
    return {
        "id": str(message.pk),
        "sender_id": str(message.sender_id),
        "receiver_id": str(message.receiver_id),
        "sender_name": message.sender.full_name,
        "content": message.content,
        "sent_at": message.sent_at.isoformat(),
        "sent_at_display": display_time(message.sent_at),
        "read": message.read,
        "read_at": message.read_at.isoformat() if message.read_at else None,
        "read_at_display": display_time(message.read_at),
    }


def send_to_users(events: list[tuple[uuid.UUID | str, dict[str, Any]]]) -> bool:
    """Push each payload to its user's tabs; False (and a log line) when the channel layer failed."""
    layer = get_channel_layer()
    if layer is None or not events:
        return True
    try:
        async_to_sync(_group_send_all)(layer, events)
    except Exception:
        # Never let the push undo or fail the write: it has been committed.
        logger.warning(
            "Messaging push to %d user(s) failed; their pages catch up on reload or reconnect",
            len(events),
            exc_info=True,
        )
        return False
    return True


async def _group_send_all(layer: Any, events: list[tuple[uuid.UUID | str, dict[str, Any]]]) -> None:
    async with asyncio.timeout(_push_timeout()):
        for user_id, payload in events:
            await layer.group_send(user_group(user_id), {"type": EVENT_TYPE, "payload": payload})


def message_sent(message: Message) -> bool:
    """A new message: to the receiver's tabs with their unread count, and to the sender's other tabs."""
    payload = message_payload(message)
    unread = unread_count(message.receiver)
    return send_to_users(
        [
            (message.receiver_id, {"type": "message.new", "message": payload, "unread": unread}),
            (message.sender_id, {"type": "message.new", "message": payload}),
        ]
    )


def messages_read(*, reader: User, partner: User, ids: list[uuid.UUID], at: dt.datetime) -> bool:
    """A read receipt to the sender's tabs, and the new unread count to the reader's."""
    receipt = {
        "type": "message.read",
        "reader_id": str(reader.pk),
        "ids": [str(pk) for pk in ids],
        "read_at": at.isoformat(),
        "read_at_display": display_time(at),
    }
    count = {"type": "unread", "count": unread_count(reader), "partner_id": str(partner.pk)}
    return send_to_users([(partner.pk, receipt), (reader.pk, count)])
