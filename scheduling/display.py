"""Per-row display values for the scheduling lists, built once per row in Python.

A list page shows dozens of times and links. Through template filters each one
costs a Django ``DateFormat`` (a format string parsed per call) and a URL
``reverse``; here each costs a few string operations and the output is the
same, character for character (the tests compare the two).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable, Mapping
from uuid import UUID

from django.urls import reverse
from django.utils import formats
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.safestring import SafeData, SafeString, mark_safe

from patients.timezones import DEFAULT_FORMAT

# Stands in for the object's id in a URL reversed once; no real id is all zeros.
_PLACEHOLDER = str(UUID(int=0))


def url_for(name: str, kwarg: str) -> Callable[[object], str]:
    """A function from an id to the URL ``name`` with that id as ``kwarg``: one
    ``reverse`` per page instead of one per row."""
    pattern = reverse(name, kwargs={kwarg: _PLACEHOLDER})
    head, _, tail = pattern.partition(_PLACEHOLDER)
    return lambda pk: f"{head}{pk}{tail}"


def _ambiguous(local: dt.datetime) -> bool:
    # Django's DateFormat leaves out the zone's name in the hour repeated (or
    # skipped) at a clock change; those rare times go through it to say the same.
    return local.utcoffset() != local.replace(fold=1 - local.fold).utcoffset()


def when_text(value: dt.datetime, tz: dt.tzinfo) -> str:
    """``value`` as ``format_in_zone`` shows it in ``tz``: "Tue 3 Jun 2025, 09:30 EDT"."""
    local = value.astimezone(tz)
    if _ambiguous(local):
        return formats.date_format(local, DEFAULT_FORMAT)
    return (
        f"{WEEKDAYS_ABBR[local.weekday()]} {local.day} {MONTHS_3[local.month].title()} "
        f"{local.year:04d}, {local.hour:02d}:{local.minute:02d} {local.tzname()}"
    )


def clock(value: dt.datetime, tz: dt.tzinfo) -> str:
    """The wall-clock time in ``tz`` as the ``date:"H:i"`` filter shows it: "09:30"."""
    local = value.astimezone(tz)
    return f"{local.hour:02d}:{local.minute:02d}"


def iso(value: dt.datetime) -> str:
    """As the ``iso`` filter: UTC, whole seconds, for ``<time datetime>``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_heading(day: dt.date) -> str:
    """As ``date:"D j M"``: "Tue 3 Jun"."""
    return f"{WEEKDAYS_ABBR[day.weekday()]} {day.day} {MONTHS_3[day.month].title()}"


def day_legend(day: dt.date) -> str:
    """As ``date:"l j F"``: "Tuesday 3 June"."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month]}"


def slot_id(key: str) -> str:
    """As ``key|slugify`` for a slot key: "2030-03-04T14:00:00Z" -> "2030-03-04t140000z"."""
    return key.replace(":", "").lower()


def rows_html(template: str, rows: Iterable[Mapping[str, object]]) -> SafeString:
    """``template`` filled in with each row's values, one row a line.

    The same as ``format_html_join("\\n", template, rows)``: every value is escaped
    as Django's ``escape`` does (it is ``html.escape``), safe strings are kept. But
    ``escape`` wraps each call in lazy-string and safe-string machinery that costs
    several times the escaping, and a page of rows makes hundreds of these calls.
    """
    return mark_safe(  # noqa: S308 - every value is escaped or already safe
        "\n".join(
            template.format_map(
                {
                    key: value if isinstance(value, SafeData) else html.escape(str(value))
                    for key, value in row.items()
                }
            )
            for row in rows
        )
    )
