"""Which of the options just offered an answer picks: "the first one", "number 2", "two thirty".

Pure (no database): the actions hand in the options they listed, each as the
local date and time it was spoken with, and get back the index picked, or None
when the answer picks none of them (or more than one).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from assistant.nlu.normalise import normalise
from assistant.nlu.when import MONTHS, extract_when

_ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
}
_ORDINAL = re.compile(r"\b(?P<word>" + "|".join(_ORDINALS) + r")\b")
# "first thing in the morning" is a time of day, "the 3rd of april" and "march 3rd" dates.
_NOT_A_CHOICE_AFTER = re.compile(r"^\s+(?:thing\b|of\b|(?:" + "|".join(MONTHS) + r")\b)")
_LAST = re.compile(
    r"\b(?:the )?(?:last|final) (?:one|option|time|slot|appointment)\b|^(?:the )?last$"
)
_NUMBERED = re.compile(r"\b(?:number|option|choice) (?P<n>\d)\b")
_BARE_NUMBER = re.compile(r"^(?:the )?(?P<n>\d)(?: please)?$")


def _ordinal_index(value: str, count: int) -> int | None:
    if _LAST.search(value):
        return count - 1
    match = _NUMBERED.search(value)
    if match:
        index = int(match["n"]) - 1
        return index if 0 <= index < count else None
    for match in _ORDINAL.finditer(value):
        before = value[: match.start()].split()
        if before and before[-1] in MONTHS:
            continue
        if _NOT_A_CHOICE_AFTER.match(value[match.end() :]):
            continue
        index = _ORDINALS[match["word"]]
        return index if index < count else None
    return None


def pick_option(text: str, options: Sequence[dt.datetime], now: dt.datetime) -> int | None:
    """The index in `options` (local, aware datetimes) that `text` picks, else None.

    By position ("the second one", "number 3", "the last one"), by time
    ("two thirty", "the 9 am"), by time and day ("friday at 10"), by day when
    one option is on it ("the one on friday"), or by a bare number ("2").
    """
    if not options:
        return None
    value = normalise(text)
    index = _ordinal_index(value, len(options))
    if index is not None:
        return index
    when = extract_when(value, now)
    if when.time is not None:
        matches = [
            i
            for i, option in enumerate(options)
            if option.time().replace(tzinfo=None) == when.time
            and (when.date is None or option.date() == when.date)
        ]
        if len(matches) == 1:
            return matches[0]
        if matches:
            return None
    elif when.date is not None and when.precision == "day":
        matches = [i for i, option in enumerate(options) if option.date() == when.date]
        if len(matches) == 1:
            return matches[0]
        return None
    bare = _BARE_NUMBER.match(value)
    if bare:
        number = int(bare["n"])
        # A bare number is a position: times are said with minutes, am/pm or "o'clock".
        if 1 <= number <= len(options):
            return number - 1
    return None


def time_said(text: str, now: dt.datetime) -> dt.time | None:
    """The clock time said in `text` (clinic hours when no am/pm), if any."""
    return extract_when(text, now).time
