"""iCalendar (RFC 5545) text for appointments: one event to download, or a feed.

Written by hand: the format needed is small (VEVENTs with UTC times), and a
library would add a dependency for a few dozen lines. Times are UTC ("Z"), so
every calendar shows them in its owner's own zone, correctly across DST.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.models import Appointment, AppointmentStatus

PRODID = "-//Healthcare portal//Appointments//EN"
UID_DOMAIN = "appointments.healthcare-portal"


@dataclass(frozen=True)
class EventText:
    """What one VEVENT says: who, where and a link back to the portal, nothing clinical.

    Calendar files leave the portal for whatever cloud the calendar syncs
    with, so there is deliberately no free-text field: the reason, notes or
    a diagnosis cannot end up in one. The link is the way to the details.
    """

    summary: str
    location: str = ""
    url: str = ""


# Every control character (C0, DEL, C1) and the Unicode line and paragraph
# separators. A lone CR or a form feed from a name or an office location
# would otherwise break the line structure, and calendar libraries refuse
# the whole file.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11) on one line.

    Control characters (a lone CR included) become a space and runs of
    spaces one; then backslash, semicolon and comma are escaped.
    """
    line = " ".join(_CONTROLS.sub(" ", text).split())
    return line.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > limit:
            parts.append(current.decode())
            current = b""
            limit = 74  # continuation lines start with a space
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(appointment: Appointment, text: EventText, now: dt.datetime) -> list[str]:
    status = "CANCELLED" if appointment.status == AppointmentStatus.CANCELLED else "CONFIRMED"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{appointment.pk}@{UID_DOMAIN}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(appointment.date_time)}",
        f"DTEND:{_stamp(appointment.ends_at)}",
        f"LAST-MODIFIED:{_stamp(appointment.updated_at or now)}",
        # Clients replace an event they hold when the sequence grows.
        f"SEQUENCE:{appointment.sequence}",
        f"STATUS:{status}",
        f"SUMMARY:{_escape(text.summary)}",
    ]
    if text.location:
        lines.append(f"LOCATION:{_escape(text.location)}")
    if text.url:
        url = _CONTROLS.sub("", text.url)
        lines.append(f"URL:{url}")
        lines.append(
            f"DESCRIPTION:{_escape(_('Details and changes in the portal: %(url)s') % {'url': url})}"
        )
    lines.append("END:VEVENT")
    return lines


def calendar(
    events: Iterable[tuple[Appointment, EventText]],
    *,
    name: str = "",
    now: dt.datetime | None = None,
) -> str:
    """A VCALENDAR with one VEVENT per (appointment, text), CRLF line ends as the RFC asks."""
    now = now or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{_escape(name)}")
    for appointment, text in events:
        lines += _event(appointment, text, now)
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
