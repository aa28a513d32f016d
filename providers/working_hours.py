"""A provider's working hours: the JSON kept on ProviderProfile, parsed, validated and normalised.

Stored form (``ProviderProfile.working_hours``)::

    {"timezone": "America/New_York", "slot_minutes": 30,
     "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}}

Days left out of ``weekly`` (or given an empty list) are days off. Times are
wall-clock times in the provider's zone, so 09:00 stays 09:00 across daylight
saving changes.

Pure on purpose: no database and no settings, so the model, the profile form
and the scheduler (which turns these hours into bookable slots) all share one
set of rules and one set of messages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

# Index in this tuple == date.weekday() (Monday is 0).
WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_MINUTES_CHOICES: tuple[int, ...] = (10, 15, 20, 30, 45, 60)
DEFAULT_SLOT_MINUTES = 30

# The keys under which parse_working_hours reports its errors, besides the weekday keys.
TIMEZONE_KEY = "timezone"
SLOT_MINUTES_KEY = "slot_minutes"
WEEKLY_KEY = "weekly"

Interval = tuple[dt.time, dt.time]
Slot = tuple[dt.datetime, dt.datetime]

_STRICT_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_LOOSE_TIME = r"(\d{1,2})[:.h](\d{2})"
# "9:00-12:00", "09:00 – 12:00", "9.00 to 12.00"
_LOOSE_RANGE = re.compile(rf"^\s*{_LOOSE_TIME}\s*(?:-|–|—|to)\s*{_LOOSE_TIME}\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (read once; the scan touches the disk)."""
    return frozenset(available_timezones())


def timezone_choices() -> list[str]:
    return sorted(timezone_names())


def day_name(weekday: int) -> str:
    return str(WEEKDAYS[weekday])


def format_time(value: dt.time) -> str:
    return value.strftime("%H:%M")


def format_interval(interval: Interval) -> str:
    return f"{format_time(interval[0])}–{format_time(interval[1])}"


def _minutes(value: dt.time) -> int:
    return value.hour * 60 + value.minute


@dataclass(frozen=True)
class WorkingHours:
    """Validated working hours. ``weekly`` has every weekday 0–6; an empty tuple is a day off."""

    tz: ZoneInfo
    slot_minutes: int
    weekly: dict[int, tuple[Interval, ...]]

    @property
    def timezone_name(self) -> str:
        return self.tz.key

    def intervals_on(self, weekday: int) -> tuple[Interval, ...]:
        return self.weekly.get(weekday, ())

    def to_json(self) -> dict[str, Any]:
        """The normalised stored form: working days only, in weekday order, intervals sorted."""
        return {
            "timezone": self.tz.key,
            "slot_minutes": self.slot_minutes,
            "weekly": {
                WEEKDAY_KEYS[day]: [
                    [format_time(start), format_time(end)] for start, end in intervals
                ]
                for day, intervals in sorted(self.weekly.items())
                if intervals
            },
        }

    def slots_on(self, day: dt.date) -> list[Slot]:
        """The bookable (start, end) slots of one calendar day, as aware datetimes in ``tz``.

        Slots are laid out on the wall clock from each interval's start; a slot
        that would run past the interval's end is left out. Wall-clock times
        that do not exist (the hour skipped when clocks go forward) give no
        slot; every slot lasts exactly ``slot_minutes`` of real time.
        """
        length = dt.timedelta(minutes=self.slot_minutes)
        slots: list[Slot] = []
        intervals = self.intervals_on(day.weekday())
        if intervals and not _changes_offset(day, self.tz):
            # Nearly every day: one UTC offset all day, so every wall-clock time exists and
            # wall-clock arithmetic is real time (the slot search builds weeks of these).
            for start, end in intervals:
                wall = dt.datetime.combine(day, start, tzinfo=self.tz)
                last_start = dt.datetime.combine(day, end, tzinfo=self.tz) - length
                while wall <= last_start:
                    slots.append((wall, wall + length))
                    wall += length
            return slots
        for start, end in intervals:
            wall = dt.datetime.combine(day, start)
            last_start = dt.datetime.combine(day, end) - length
            while wall <= last_start:
                local = wall.replace(tzinfo=self.tz)
                if _exists(local):
                    begins = local.astimezone(dt.UTC)
                    slots.append((local, (begins + length).astimezone(self.tz)))
                wall += length
        return slots


def _changes_offset(day: dt.date, tz: ZoneInfo) -> bool:
    """Whether the zone's UTC offset changes during `day` (a clock change)."""
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return midnight.utcoffset() != (midnight + dt.timedelta(days=1)).utcoffset()


def _exists(local: dt.datetime) -> bool:
    return local.astimezone(dt.UTC).astimezone(local.tzinfo).replace(tzinfo=None) == local.replace(
        tzinfo=None
    )


def local_day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar day in ``tz`` as aware datetimes (23 or 25 hours on DST days)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


# --- Parsing the stored JSON ------------------------------------------------------


def parse_time(value: object) -> dt.time | None:
    """A strict "HH:MM" (00:00–23:59) as a time, else None."""
    if not isinstance(value, str):
        return None
    match = _STRICT_TIME.match(value)
    if match is None:
        return None
    return dt.time(int(match[1]), int(match[2]))


def _parse_timezone(value: object) -> ZoneInfo:
    if not value:
        raise ValidationError(_("Choose a time zone."), code="timezone_required")
    if not isinstance(value, str) or value not in timezone_names():
        raise ValidationError(
            _("“%(value)s” is not a known time zone; use a name such as America/New_York."),
            code="timezone_invalid",
            params={"value": value},
        )
    return ZoneInfo(value)


def _parse_slot_minutes(value: object) -> int:
    # bool is an int in Python; true is not a slot length.
    if isinstance(value, bool) or not isinstance(value, int) or value not in SLOT_MINUTES_CHOICES:
        raise ValidationError(
            _("The slot length must be one of %(choices)s minutes."),
            code="slot_minutes_invalid",
            params={"choices": ", ".join(str(m) for m in SLOT_MINUTES_CHOICES)},
        )
    return value


def _parse_day(weekday: int, raw: object, slot_minutes: int | None) -> tuple[Interval, ...]:
    """One weekday's intervals, sorted; every problem found is raised together."""
    name = day_name(weekday)
    if not isinstance(raw, list | tuple):
        raise ValidationError(
            _('%(day)s: give a list of intervals such as [["09:00", "12:00"]].'),
            code="day_invalid",
            params={"day": name},
        )
    errors: list[ValidationError] = []
    intervals: list[Interval] = []
    for position, pair in enumerate(raw, start=1):
        start, end = _parse_pair(pair)
        if start is None or end is None:
            errors.append(
                ValidationError(
                    _('%(day)s: interval %(n)d must be two times like ["09:00", "12:00"].'),
                    code="interval_malformed",
                    params={"day": name, "n": position},
                )
            )
            continue
        if start >= end:
            errors.append(
                ValidationError(
                    _("%(day)s: %(interval)s must end after it starts."),
                    code="interval_reversed",
                    params={"day": name, "interval": format_interval((start, end))},
                )
            )
            continue
        if slot_minutes is not None and _minutes(end) - _minutes(start) < slot_minutes:
            errors.append(
                ValidationError(
                    _("%(day)s: %(interval)s is shorter than one %(minutes)d-minute slot."),
                    code="interval_too_short",
                    params={
                        "day": name,
                        "interval": format_interval((start, end)),
                        "minutes": slot_minutes,
                    },
                )
            )
            continue
        intervals.append((start, end))
    intervals.sort()
    for earlier, later in zip(intervals, intervals[1:], strict=False):
        # Touching intervals (12:00 end, 12:00 start) are fine; sharing any minute is not.
        if later[0] < earlier[1]:
            errors.append(
                ValidationError(
                    _("%(day)s: %(first)s overlaps %(second)s."),
                    code="interval_overlap",
                    params={
                        "day": name,
                        "first": format_interval(earlier),
                        "second": format_interval(later),
                    },
                )
            )
    if errors:
        raise ValidationError(errors)
    return tuple(intervals)


def _parse_pair(pair: object) -> tuple[dt.time | None, dt.time | None]:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return None, None
    return parse_time(pair[0]), parse_time(pair[1])


def parse_working_hours(data: object) -> WorkingHours:
    """Validate the stored JSON and return it as WorkingHours.

    Every problem is reported at once, in a ValidationError keyed by where it
    is: "timezone", "slot_minutes", a weekday key ("mon"…"sun"), "weekly" or
    NON_FIELD_ERRORS. Each message names its day and interval.
    """
    if not isinstance(data, Mapping):
        raise ValidationError(
            _("Working hours must be an object with timezone, slot_minutes and weekly."),
            code="invalid",
        )
    errors: dict[str, list[ValidationError]] = {}
    unknown = sorted(
        str(key) for key in data if key not in {TIMEZONE_KEY, SLOT_MINUTES_KEY, WEEKLY_KEY}
    )
    if unknown:
        errors[NON_FIELD_ERRORS] = [
            ValidationError(
                _("Unknown working-hours setting: %(keys)s."),
                code="unknown_key",
                params={"keys": ", ".join(unknown)},
            )
        ]

    tz: ZoneInfo | None = None
    try:
        tz = _parse_timezone(data.get(TIMEZONE_KEY))
    except ValidationError as exc:
        errors[TIMEZONE_KEY] = exc.error_list

    slot_minutes: int | None = None
    try:
        slot_minutes = _parse_slot_minutes(data.get(SLOT_MINUTES_KEY))
    except ValidationError as exc:
        errors[SLOT_MINUTES_KEY] = exc.error_list

    weekly: dict[int, tuple[Interval, ...]] = dict.fromkeys(range(7), ())
    raw_weekly = data.get(WEEKLY_KEY, {})
    if not isinstance(raw_weekly, Mapping):
        errors[WEEKLY_KEY] = [
            ValidationError(
                _("The weekly schedule must map weekdays (mon…sun) to lists of intervals."),
                code="weekly_invalid",
            )
        ]
        raw_weekly = {}
    for key, raw_day in raw_weekly.items():
        if key not in WEEKDAY_KEYS:
            errors.setdefault(WEEKLY_KEY, []).append(
                ValidationError(
                    _("“%(key)s” is not a weekday; use mon, tue, wed, thu, fri, sat or sun."),
                    code="weekday_invalid",
                    params={"key": key},
                )
            )
            continue
        weekday = WEEKDAY_KEYS.index(key)
        try:
            weekly[weekday] = _parse_day(weekday, raw_day, slot_minutes)
        except ValidationError as exc:
            errors[key] = exc.error_list

    if errors:
        raise ValidationError(errors)
    assert tz is not None and slot_minutes is not None  # no errors means both parsed
    return WorkingHours(tz=tz, slot_minutes=slot_minutes, weekly=weekly)


def working_hours_or_none(data: object) -> WorkingHours | None:
    """None when no hours are set (the model's default, {}), else the parsed hours."""
    if data is None or data == {}:
        return None
    return parse_working_hours(data)


def normalise_working_hours(data: object) -> dict[str, Any]:
    """The canonical stored form of ``data`` ({} stays {}); ValidationError when invalid."""
    hours = working_hours_or_none(data)
    return {} if hours is None else hours.to_json()


# --- The profile form's text: "09:00-12:00, 13:00-17:00" ------------------------------


def parse_day_text(text: str) -> list[list[str]]:
    """One day typed as text, as the stored list of ["HH:MM", "HH:MM"] pairs; "" is a day off.

    Only the syntax is checked here (with some leniency: "9:00", "9.00", en
    dashes, "to"); order, overlaps and slot length are parse_working_hours' job.
    """
    pairs: list[list[str]] = []
    for piece in re.split(r"[,;\n]", text or ""):
        if not piece.strip():
            continue
        match = _LOOSE_RANGE.match(piece)
        times = _loose_times(match) if match else None
        if times is None:
            raise ValidationError(
                _("“%(piece)s” is not a time range; write ranges like 09:00-12:00, 13:00-17:00."),
                code="text_malformed",
                params={"piece": piece.strip()},
            )
        pairs.append(times)
    return pairs


def _loose_times(match: re.Match[str]) -> list[str] | None:
    hour1, minute1, hour2, minute2 = (int(g) for g in match.groups())
    if hour1 > 23 or hour2 > 23 or minute1 > 59 or minute2 > 59:
        return None
    return [f"{hour1:02d}:{minute1:02d}", f"{hour2:02d}:{minute2:02d}"]


def format_day_text(intervals: Sequence[Interval]) -> str:
    """The text the profile form shows for one day: "09:00-12:00, 13:00-17:00"."""
    return ", ".join(f"{format_time(start)}-{format_time(end)}" for start, end in intervals)
