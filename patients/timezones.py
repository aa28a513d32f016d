"""Showing stored (UTC) datetimes in the zone they belong to.

Appointments happen where the provider works, so a patient sees them in the
provider's zone (`working_hours["timezone"]`); anything without a known zone is
shown in UTC, and the zone's abbreviation is always printed next to the time.
Used from Python and, through `{% load zoned_time %}`, from templates.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.utils import formats, timezone

UTC = zoneinfo.ZoneInfo("UTC")
DEFAULT_FORMAT = "D j M Y, H:i T"  # Tue 3 Jun 2025, 09:30 EDT


def zone_named(name: object) -> zoneinfo.ZoneInfo | None:
    """The zone called `name` ("America/New_York"), or None for a blank or unknown name."""
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return zoneinfo.ZoneInfo(name.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # ValueError: names such as "../etc" that are not zone keys at all.
        return None


def zone_of(source: Any) -> dt.tzinfo:
    """The zone of `source`: a tzinfo, a zone name, or anything with `working_hours`
    (a provider profile). UTC when none is known, so a display never fails."""
    if isinstance(source, dt.tzinfo):
        return source
    if isinstance(source, str):
        return zone_named(source) or UTC
    zone = getattr(source, "zone", None)  # a provider profile
    return zone if isinstance(zone, dt.tzinfo) else UTC


def in_zone(value: dt.datetime, zone: Any) -> dt.datetime:
    """`value` (aware) as wall-clock time in the zone of `zone` (see `zone_of`)."""
    if timezone.is_naive(value):
        raise ValueError("in_zone() needs an aware datetime.")
    return timezone.localtime(value, zone_of(zone))


def format_in_zone(value: dt.datetime, zone: Any, fmt: str = DEFAULT_FORMAT) -> str:
    """`value` formatted (Django date format) in the zone of `zone`, e.g. "Tue 3 Jun 2025, 09:30 EDT"."""
    return formats.date_format(in_zone(value, zone), fmt)
