"""Helpers of the assistant's tests: a conversation that keeps its state, and clinic times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from assistant.services import utterance_respond

# The personas' providers work Mon-Fri 09-12 and 13-17 here, in 30-minute slots.
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Conversation:
    """Says things as one user, keeping the state between turns like the page does."""

    def __init__(self, user) -> None:
        self.user = user
        self.state = None
        self.replies = []

    def say(self, text: str):
        reply, self.state = utterance_respond(user=self.user, text=text, state=self.state)
        self.replies.append(reply)
        return reply


def today_local() -> dt.date:
    return timezone.now().astimezone(NEW_YORK).date()


def next_weekday(name: str, *, after: dt.date | None = None) -> dt.date:
    """The first such day strictly after today (what "next tuesday" means to the assistant)."""
    today = after or today_local()
    ahead = (WEEKDAYS.index(name) - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=ahead)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware datetime at that wall-clock time in New York."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK)


def local_times(appointments) -> list[str]:
    return [a.date_time.astimezone(NEW_YORK).strftime("%H:%M") for a in appointments]
