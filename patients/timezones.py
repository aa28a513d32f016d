"""Showing stored (UTC) datetimes in the zone of the person reading them.

Every time a person sees is in their own zone, with the zone named: a patient's
is the one in their profile (guessed from the browser at registration), a
provider's is the zone of their working hours. Within a request (or a websocket
turn) `viewing_as` makes that zone the viewer's, and every formatting helper here
and in `{% load zoned_time %}` uses it; outside one (an email sent by a task) the
zone passed in is used. One format everywhere: "Wed 2 Dec 2026, 14:30 EST".
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from asgiref.local import Local
from django.conf import settings
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


# The zone of whoever the current request or websocket turn is for; asgiref's
# Local keeps it per thread and per coroutine, as Django's own active zone is.
_viewer = Local()
SESSION_KEY = "portal_time_zone"


def viewer_zone() -> dt.tzinfo | None:
    """The zone of the person this request is for, or None outside a request."""
    zone = getattr(_viewer, "zone", None)
    if callable(zone):
        # Resolved on first use, so a page that shows no time never looks it up.
        zone = zone()
        _viewer.zone = zone
        timezone.activate(zone)
    return zone


@contextmanager
def viewing_as(zone: dt.tzinfo | Callable[[], dt.tzinfo] | None) -> Iterator[None]:
    """Show every time inside the block in `zone` (also Django's active zone).

    `zone` may be a function that finds it, called only when a time is shown.
    """
    previous = getattr(_viewer, "zone", None)
    _viewer.zone = zone
    try:
        with timezone.override(zone if isinstance(zone, dt.tzinfo) else None):
            yield
    finally:
        _viewer.zone = previous


def default_patient_zone() -> zoneinfo.ZoneInfo:
    """For a patient who never set a zone: the practice's (PORTAL_TIME_ZONE)."""
    return zone_named(getattr(settings, "PORTAL_TIME_ZONE", "")) or UTC


def zone_for_user(user: Any) -> dt.tzinfo:
    """The zone `user` reads times in: their own setting, their working hours, or UTC (staff)."""
    profile = (
        getattr(user, "patient_profile", None) if getattr(user, "role", "") == "patient" else None
    )
    if profile is not None:
        return zone_named(profile.time_zone) or default_patient_zone()
    provider = (
        getattr(user, "provider_profile", None) if getattr(user, "role", "") == "provider" else None
    )
    if provider is not None:
        return zone_of(provider)
    return UTC


@lru_cache(maxsize=1)
def common_zone_names() -> tuple[str, ...]:
    """Every IANA zone name people pick from (no legacy aliases such as "US/Eastern")."""
    names = {
        n
        for n in zoneinfo.available_timezones()
        if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/"))
    }
    return tuple(sorted(names | {"UTC"}))


def in_zone(value: dt.datetime, zone: Any) -> dt.datetime:
    """`value` (aware) as wall-clock time for the viewer, or in the zone of `zone` outside a request."""
    if timezone.is_naive(value):
        raise ValueError("in_zone() needs an aware datetime.")
    return timezone.localtime(value, viewer_zone() or zone_of(zone))


def format_in_zone(value: dt.datetime, zone: Any, fmt: str = DEFAULT_FORMAT) -> str:
    """`value` formatted (Django date format) in the zone of `zone`, e.g. "Tue 3 Jun 2025, 09:30 EDT"."""
    return formats.date_format(in_zone(value, zone), fmt)
