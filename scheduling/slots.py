"""Bookable slots: working hours minus busy time, inside a window. Pure: no database.

The selectors fetch the busy intervals (appointments and time off, one query
each) and hand them here; keeping the arithmetic pure lets the tests pin every
rule (lead time, horizon, overlaps, daylight-saving days) without a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from providers.working_hours import WorkingHours, local_day_bounds, parse_working_hours

Interval = tuple[dt.datetime, dt.datetime]
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Slot:
    """One bookable slot; both ends are aware datetimes in the provider's zone."""

    starts_at: dt.datetime
    ends_at: dt.datetime

    @property
    def key(self) -> str:
        """The slot's start in UTC as form value and URL parameter: 2030-03-04T14:00:00Z."""
        return slot_key(self.starts_at)

    @property
    def minutes(self) -> int:
        # In UTC: Python subtracts two datetimes of one zone on the wall clock,
        # which is wrong across a daylight-saving change.
        return int(
            (self.ends_at.astimezone(dt.UTC) - self.starts_at.astimezone(dt.UTC)).total_seconds()
            // 60
        )


@dataclass(frozen=True)
class SlotDay:
    day: dt.date
    slots: list[Slot]


def slot_key(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_slot_key(value: object) -> dt.datetime | None:
    """The aware UTC datetime of a slot key, or None for anything else."""
    if not isinstance(value, str) or not value.endswith("Z") or len(value) > 25:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(dt.UTC)


def hours_of(working_hours: object) -> WorkingHours | None:
    """The provider's parsed hours; None when unset or (for old rows) invalid: no slots then."""
    if not working_hours:
        return None
    try:
        return parse_working_hours(working_hours)
    except ValidationError:
        return None


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint union of the intervals (in UTC); touching ones are joined."""
    merged: list[Interval] = []
    for start, end in sorted((s.astimezone(dt.UTC), e.astimezone(dt.UTC)) for s, e in intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def free_slots(
    hours: WorkingHours,
    *,
    busy: Iterable[Interval],
    earliest: dt.datetime,
    until: dt.datetime,
) -> list[Slot]:
    """Slots of ``hours`` starting in [earliest, until) that overlap nothing in ``busy``.

    One pass over the days and one over the merged busy intervals (both in
    time order), so the cost is linear in slots plus busy intervals. Every
    comparison is made in UTC: Python compares two datetimes of the same zone
    on the wall clock, which is wrong in the hour repeated when clocks go back.
    """
    earliest, until = earliest.astimezone(dt.UTC), until.astimezone(dt.UTC)
    if until <= earliest:
        return []
    blocked = merge_intervals(busy)
    count = len(blocked)
    # Every slot lasts exactly this much real time (WorkingHours.slots_on), so its
    # end in UTC is its start plus this: no second zone conversion per slot.
    length = dt.timedelta(minutes=hours.slot_minutes)
    tz = hours.tz
    day = earliest.astimezone(tz).date()
    last_day = until.astimezone(tz).date()
    found: list[Slot] = []
    index = 0
    while day <= last_day:
        for start, end in hours.slots_on(day):
            start_utc = start.astimezone(dt.UTC)
            if start_utc < earliest:
                continue
            if start_utc >= until:
                # Slots come in time order, day after day: none of the rest is in the window.
                return found
            while index < count and blocked[index][1] <= start_utc:
                index += 1
            if index < count and blocked[index][0] < start_utc + length:
                continue
            found.append(Slot(start, end))
        day += _ONE_DAY
    return found


def window_for(
    tz: ZoneInfo, *, now: dt.datetime, lead: dt.timedelta, days: int
) -> tuple[dt.datetime, dt.datetime]:
    """[now + lead, local midnight after ``days`` calendar days from today) in ``tz``."""
    today = now.astimezone(tz).date()
    until, _ = local_day_bounds(today + dt.timedelta(days=max(days, 0)), tz)
    return now + lead, until


def by_day(slots: Iterable[Slot]) -> list[SlotDay]:
    """Slots grouped by their local calendar day, in order."""
    return [
        SlotDay(day, list(group)) for day, group in groupby(slots, key=lambda s: s.starts_at.date())
    ]


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class SlotWeek:
    monday: dt.date
    days: list[SlotDay]

    @property
    def count(self) -> int:
        return sum(len(day.slots) for day in self.days)

    @property
    def key(self) -> str:
        return self.monday.isoformat()


def by_week(slots: Iterable[Slot], first_monday: dt.date, last_monday: dt.date) -> list[SlotWeek]:
    """Every week from ``first_monday`` to ``last_monday``, each with its days that have slots."""
    days = by_day(slots)
    weeks: list[SlotWeek] = []
    monday = first_monday
    while monday <= last_monday:
        sunday = monday + dt.timedelta(days=6)
        weeks.append(SlotWeek(monday, [d for d in days if monday <= d.day <= sunday]))
        monday += dt.timedelta(days=7)
    return weeks


def parse_week(value: object) -> dt.date | None:
    """The Monday of the week named by an ISO date ("2030-03-04"), or None."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return week_start(dt.date.fromisoformat(value))
    except ValueError:
        return None
