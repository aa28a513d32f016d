"""Template filters for showing an aware datetime to the person reading the page.

    {% load zoned_time %}
    {{ appointment.date_time|zoned:appointment.provider }}         Tue 3 Jun 2025, 09:30 EDT
    {{ appointment.date_time|in_zone:appointment.provider|date:"H:i" }}
    <time datetime="{{ appointment.date_time|iso }}">

Inside a request the viewer's own zone wins (patients.timezones.viewing_as);
the argument (a provider profile, a zone name or a tzinfo) is the zone used
where there is no viewer, such as an email rendered by a task.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.templatetags.tz import do_timezone

from patients.timezones import DEFAULT_FORMAT, format_in_zone, viewer_zone, zone_of

register = template.Library()


@register.filter
def in_zone(value: Any, zone: Any) -> dt.datetime | str:
    """The datetime converted to the zone; chain `|date:"..."` to format it there."""
    if not isinstance(value, dt.datetime):
        return ""
    # Django's own filter marks the result so templates do not convert it back
    # to the active zone before `date` formats it.
    return do_timezone(value, viewer_zone() or zone_of(zone))


@register.filter
def zoned(value: Any, zone: Any) -> str:
    """The datetime formatted in the zone, with the zone's abbreviation."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        return ""
    return format_in_zone(value, zone, DEFAULT_FORMAT)


@register.filter
def zone_name(zone: Any) -> str:
    """The IANA name (or abbreviation) of the zone that `zone` resolves to."""
    resolved = viewer_zone() or zone_of(zone)
    return str(getattr(resolved, "key", None) or resolved.tzname(None) or "UTC")


@register.filter
def iso(value: Any) -> str:
    """A machine-readable time for `<time datetime>`: UTC, whole seconds (the HTML
    validator refuses the microseconds Django's "c" format prints)."""
    if not isinstance(value, dt.datetime):
        return ""
    if value.tzinfo is None:
        return value.replace(microsecond=0).isoformat()
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
