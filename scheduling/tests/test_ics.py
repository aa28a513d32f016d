"""iCalendar text: escaping, folding, UTC times and cancelled events."""

from __future__ import annotations

import datetime as dt
import uuid

from scheduling import ics
from scheduling.models import Appointment, AppointmentStatus

START = dt.datetime(2030, 3, 10, 6, 30, tzinfo=dt.UTC)  # 01:30 EST, the night clocks go forward


def _appointment(**kwargs) -> Appointment:
    values = {
        "id": uuid.UUID(int=1),
        "date_time": START,
        "duration_minutes": 60,
        "updated_at": START,
        **kwargs,
    }
    return Appointment(**values)


def _unfold(text: str) -> str:
    return text.replace("\r\n ", "")


def test_one_event_in_utc_with_escaped_text() -> None:
    text = ics.calendar(
        [
            (
                _appointment(),
                ics.EventText(
                    summary="Appointment with Anika Patel, MD", location="Room 1; Floor 2"
                ),
            )
        ],
        now=START,
    )

    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    # An hour of real time across the DST change: 06:30–07:30 UTC (01:30 EST–03:30 EDT).
    assert "DTSTART:20300310T063000Z\r\nDTEND:20300310T073000Z\r\n" in text
    assert "SUMMARY:Appointment with Anika Patel\\, MD\r\n" in text
    assert "LOCATION:Room 1\\; Floor 2\r\n" in text
    assert "STATUS:CONFIRMED" in text
    assert "UID:00000000-0000-0000-0000-000000000001@" in text


def test_long_lines_are_folded_at_75_octets() -> None:
    location = "Ünïcode building " * 20 + "second wing"
    text = ics.calendar(
        [(_appointment(), ics.EventText(summary="x", location=location))], now=START
    )

    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "LOCATION:" + location in _unfold(text)


def test_a_cancelled_appointment_is_a_cancelled_event() -> None:
    text = ics.calendar(
        [(_appointment(status=AppointmentStatus.CANCELLED), ics.EventText(summary="x"))], now=START
    )
    assert "STATUS:CANCELLED" in text
