"""Template helpers of the messaging pages."""

from __future__ import annotations

import datetime as dt

from django import template

from messaging.push import display_time

register = template.Library()


@register.filter
def message_time(value: dt.datetime | None) -> str:
    """A message time as the live updates show it, so a reload looks the same."""
    return display_time(value)
