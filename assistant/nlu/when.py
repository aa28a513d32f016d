"""Dates and times in spoken-style text: "next tuesday at 3 30 pm", "tomorrow morning".

Works on normalised text (numbers already digits, see normalise.py) and a
reference "now" in the user's zone. Relative words (today, tomorrow, weekdays,
"in 2 weeks", "a week from friday") are resolved here; calendar dates with a
month ("march 20th", "the 3rd of may", "3/18") are handed to dateparser, which
knows month names, ordinals and numeric forms.

Conventions (the labelled set follows them):
- a weekday on its own, or with "this"/"next"/"coming"/"on", is the first such
  day after today; "<weekday> next week" is that day in the next calendar week;
- "next week" without a day means the week starting next Monday (precision "week");
- a time without am/pm is read as clinic hours: 7-11 in the morning, 12-6 afternoon;
- a day of the month already past this month ("the 3rd" on the 12th) is next month's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import dateparser

from assistant.nlu.normalise import normalise

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
PARTS_OF_DAY = ("morning", "afternoon", "evening")
# Typical start of each part of the day, for slot searches that need one.
PART_OF_DAY_START = {
    "morning": dt.time(8, 0),
    "afternoon": dt.time(12, 0),
    "evening": dt.time(17, 0),
}

_WD = "|".join(WEEKDAYS)
_MO = "|".join(MONTHS)
_ORD = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"


@dataclass(frozen=True)
class When:
    """What the text says about when. Any part may be missing."""

    date: dt.date | None = None
    time: dt.time | None = None
    part_of_day: str | None = None
    # "day" for a calendar day, "week" for "next week", "month" for "next month".
    precision: str = "day"

    @property
    def empty(self) -> bool:
        return self.date is None and self.time is None and self.part_of_day is None

    def to_json(self) -> dict[str, str | None]:
        return {
            "date": self.date.isoformat() if self.date else None,
            "time": self.time.strftime("%H:%M") if self.time else None,
            "part_of_day": self.part_of_day,
            "precision": self.precision,
        }

    @classmethod
    def from_json(cls, data: dict | None) -> When:
        if not data:
            return cls()
        return cls(
            date=dt.date.fromisoformat(data["date"]) if data.get("date") else None,
            time=dt.time.fromisoformat(data["time"]) if data.get("time") else None,
            part_of_day=data.get("part_of_day"),
            precision=data.get("precision") or "day",
        )

    def merged(self, newer: When) -> When:
        """This answer completed by a newer one ("tuesday" then "at 3"): newer parts win."""
        return When(
            date=newer.date or self.date,
            time=newer.time or self.time,
            part_of_day=newer.part_of_day or (None if newer.time else self.part_of_day),
            precision=newer.precision if newer.date else self.precision,
        )


# --- Times -------------------------------------------------------------------------

_MINUTES = r"(?P<m>[0-5]\d)"
_TIME_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        # 15:30, 3:30 pm
        rf"\b(?P<h>\d{{1,2}}):{_MINUTES}(?:\s?(?P<ampm>am|pm))?\b",
        # 3 30 pm, 9 oh 5 am, 3 30 (spoken); not "march 5 10" (a date then a number)
        r"\b(?P<h>\d{1,2}) (?:oh )?(?P<m>[0-5]?\d)(?:\s(?P<ampm>am|pm))?\b(?! (?:days?|weeks?|months?|minutes?|hours?|mg|milligrams?|pills?|tablets?|refills?))",
        # 3 pm, 10 am
        r"\b(?P<h>\d{1,2})\s?(?P<ampm>am|pm)\b",
        # 3 oclock
        r"\b(?P<h>\d{1,2}) oclock\b",
    )
)
_HALF_PAST = re.compile(r"\bhalf past (?P<h>\d{1,2})\b")
_QUARTER_PAST = re.compile(r"\b(?:a )?quarter (?:past|after) (?P<h>\d{1,2})\b")
_QUARTER_TO = re.compile(r"\b(?:a )?quarter (?:to|till|before|of) (?P<h>\d{1,2})\b")
_AT_HOUR = re.compile(
    r"\b(?:at|around|about|by|after|before|for|until|till) (?P<h>\d{1,2})\b(?![/:]\d|(?:st|nd|rd|th)\b| (?:days?|weeks?|months?|minutes?|hours?|mg|milligrams?|pills?|tablets?|refills?|people|of)\b)"
)
_NOON = re.compile(r"\b(?:noon|midday|12 noon|lunchtime|lunch time)\b")
_PART_WORDS = {
    "morning": re.compile(r"\b(?:morning|mornings|first thing|early in the day)\b"),
    "afternoon": re.compile(r"\b(?:afternoon|afternoons|after lunch)\b"),
    "evening": re.compile(r"\b(?:evening|evenings|tonight|end of the day|after work)\b"),
}


def _clinic_hour(hour: int, ampm: str | None, part: str | None) -> int | None:
    if ampm == "am":
        return None if hour > 12 else hour % 12
    if ampm == "pm":
        return None if hour > 12 else hour % 12 + 12
    if hour > 23:
        return None
    if hour >= 13 or hour == 0:
        return hour
    if part == "morning":
        return hour % 12
    if part in {"afternoon", "evening"}:
        return hour % 12 + 12
    # Clinic hours: nobody books 3 in the morning.
    return hour if 7 <= hour <= 11 else hour % 12 + 12


def _part_of_day(text: str) -> str | None:
    for part, pattern in _PART_WORDS.items():
        if pattern.search(text):
            return part
    return None


def _after_month(text: str, position: int) -> bool:
    before = text[:position].split()
    return bool(before) and before[-1] in MONTHS


def extract_time(text: str, part: str | None = None) -> dt.time | None:
    """The clock time in normalised text, if one is said."""
    if _NOON.search(text):
        return dt.time(12, 0)
    for pattern, minute_of in (
        (_HALF_PAST, lambda _m: 30),
        (_QUARTER_PAST, lambda _m: 15),
    ):
        match = pattern.search(text)
        if match:
            hour = _clinic_hour(int(match["h"]), None, part)
            return None if hour is None else dt.time(hour, minute_of(match))
    match = _QUARTER_TO.search(text)
    if match:
        hour = _clinic_hour(int(match["h"]), None, part)
        return None if hour is None else dt.time((hour - 1) % 24, 45)
    for pattern in _TIME_PATTERNS:
        for match in pattern.finditer(text):
            if _after_month(text, match.start()):
                continue  # "march 5 10 am": the 5 is the day
            groups = match.groupdict()
            ampm = groups.get("ampm")
            minute = int(groups.get("m") or 0)
            hour = _clinic_hour(int(match["h"]), ampm, part)
            if hour is None or minute > 59:
                continue
            return dt.time(hour, minute)
    match = _AT_HOUR.search(text)
    if match:
        hour = _clinic_hour(int(match["h"]), None, part)
        if hour is not None:
            return dt.time(hour, 0)
    return None


# --- Dates -------------------------------------------------------------------------

_IN_N = re.compile(
    r"\bin (?:about )?(?P<n>\d+|a|an|one|two|three|a couple of|a few|couple of) (?P<unit>days?|weeks?|months?)\b"
)
_WEEK_FROM = re.compile(rf"\b(?:a|1|one) week from (?P<base>today|tomorrow|{_WD})\b")
_WEEKDAY = re.compile(
    rf"\b(?:(?P<mod>this|next|coming|on|this coming|the following|following) )?(?P<wd>{_WD})(?P<after> after next| next week| of next week| the week after)?\b"
)
_NEXT_WEEK_WD = re.compile(rf"\bnext week (?:on )?(?P<wd>{_WD})\b")
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MO}) (?:the )?{_ORD}\b(?! (?:days?|weeks?|minutes?|hours?|am|pm|oclock)\b)"
)
_DAY_OF_MONTH = re.compile(
    rf"\b(?:the )?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?: day)? of (?P<month>{_MO})\b"
)
_DAY_MONTH = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th) (?P<month>{_MO})\b")
_NUMERIC = re.compile(r"\b(?P<a>\d{1,4})/(?P<b>\d{1,2})(?:/(?P<c>\d{2,4}))?\b")
_ISO = re.compile(r"\b(?P<y>\d{4}) (?P<mo>\d{1,2}) (?P<d>\d{1,2})\b|\b\d{4}-\d{2}-\d{2}\b")
_THE_NTH = re.compile(
    r"\b(?:on )?the (?P<day>\d{1,2})(?:st|nd|rd|th)\b(?! (?:of )?(?:appointment|option|slot|one)\b)"
)
_SPAN_WORDS = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "later today": 0,
    "tomorrow": 1,
    "day after tomorrow": 2,
    "the day after tomorrow": 2,
}
_TOMORROW = re.compile(
    r"\b(?:the )?day after tomorrow\b|\btomorrow\b|\btoday\b|\btonight\b|\blater today\b|\bthis (?:morning|afternoon|evening)\b"
)
_NEXT_WEEK = re.compile(r"\b(?:next week|the week after this|the following week)\b")
_THIS_WEEK = re.compile(r"\b(?:this week|later this week)\b")
_NEXT_MONTH = re.compile(r"\bnext month\b")
_WEEKEND = re.compile(r"\b(?:this|next|the)? ?weekend\b")


def _count(word: str) -> int:
    if word.isdigit():
        return int(word)
    words = {
        "a": 1,
        "an": 1,
        "one": 1,
        "two": 2,
        "three": 3,
        "a couple of": 2,
        "couple of": 2,
        "a few": 3,
    }
    return words.get(word, 1)


def _next_weekday(today: dt.date, weekday: int) -> dt.date:
    """The first `weekday` strictly after today."""
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=ahead)


def _monday_of_next_week(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday())


def _calendar_date(span: str, today: dt.date) -> dt.date | None:
    """A calendar date with a month (or numeric), the next one on or after today."""
    parsed = dateparser.parse(
        span,
        languages=["en"],
        settings={
            "RELATIVE_BASE": dt.datetime.combine(today, dt.time(12, 0)),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "MDY",
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    return parsed.date() if parsed else None


def _day_of_month(day: int, today: dt.date) -> dt.date | None:
    year, month = today.year, today.month
    for _ in range(3):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            candidate = None
        if candidate and candidate >= today:
            return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return None


def extract_date(text: str, today: dt.date) -> tuple[dt.date | None, str]:
    """(date, precision) said in normalised text; (None, "day") when none."""
    for pattern in (_MONTH_DAY, _DAY_OF_MONTH, _DAY_MONTH):
        match = pattern.search(text)
        if match:
            found = _calendar_date(f"{match['month']} {int(match['day'])}", today)
            if found:
                return found, "day"
    match = _NUMERIC.search(text)
    if match:
        found = _calendar_date(match.group(0), today)
        if found:
            return found, "day"
    match = _WEEK_FROM.search(text)
    if match:
        base = match["base"]
        if base == "today":
            start = today
        elif base == "tomorrow":
            start = today + dt.timedelta(days=1)
        else:
            start = _next_weekday(today, WEEKDAYS.index(base))
        return start + dt.timedelta(days=7), "day"
    match = _NEXT_WEEK_WD.search(text)
    if match:
        monday = _monday_of_next_week(today)
        return monday + dt.timedelta(days=WEEKDAYS.index(match["wd"])), "day"
    match = _THE_NTH.search(text)
    if match:
        found = _day_of_month(int(match["day"]), today)
        if found:
            return found, "day"
    match = _WEEKDAY.search(text)
    if match:
        weekday = WEEKDAYS.index(match["wd"])
        after = (match["after"] or "").strip()
        if after in {"next week", "of next week"}:
            return _monday_of_next_week(today) + dt.timedelta(days=weekday), "day"
        day = _next_weekday(today, weekday)
        if after in {"after next", "the week after"} or (match["mod"] or "") in {
            "the following",
            "following",
        }:
            day += dt.timedelta(days=7)
        return day, "day"
    match = _TOMORROW.search(text)
    if match:
        return today + dt.timedelta(days=_SPAN_WORDS[match.group(0)]), "day"
    match = _IN_N.search(text)
    if match:
        n = _count(match["n"])
        unit = match["unit"].rstrip("s")
        if unit == "day":
            return today + dt.timedelta(days=n), "day"
        if unit == "week":
            return today + dt.timedelta(weeks=n), "day"
        month = today.month - 1 + n
        year = today.year + month // 12
        return _day_of_month(1, dt.date(year, month % 12 + 1, 1)) or today, "month"
    if _NEXT_WEEK.search(text):
        return _monday_of_next_week(today), "week"
    if _THIS_WEEK.search(text):
        return today, "week"
    if _NEXT_MONTH.search(text):
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return dt.date(year, month, 1), "month"
    if _WEEKEND.search(text):
        return _next_weekday(today, 5) if today.weekday() != 5 else today, "day"
    return None, "day"


# "from thursday to friday", "move my 3 pm to 4 30": the new date or time
# follows the last "to"/"for"/"until", so that part of the sentence is read first.
_TARGET = re.compile(r"\b(?:to|for|until|till|into|instead)\b")


def _target_first(value: str) -> list[str]:
    matches = list(_TARGET.finditer(value))
    if not matches:
        return [value]
    return [value[matches[-1].end() :], value]


def extract_when(text: str, now: dt.datetime) -> When:
    """Date, time and part of the day said in `text`, relative to `now` (the user's local time)."""
    value = normalise(text)
    part = _part_of_day(value)
    time: dt.time | None = None
    date: dt.date | None = None
    precision = "day"
    for piece in _target_first(value):
        time = time or extract_time(piece, part)
        if date is None:
            date, precision = extract_date(piece, now.date())
    if time is not None:
        part = None
    elif part is None and date is not None and re.search(r"\b(?:tonight)\b", value):
        part = "evening"
    return When(date=date, time=time, part_of_day=part, precision=precision)
