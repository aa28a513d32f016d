"""Scheduling settings, each read from django.conf.settings with a default.

Read on every call (not at import) so tests and operators can change them
without a restart of the module.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

CANCEL_CUTOFF_HOURS = 24
CHANGE_GRACE_MINUTES = 15
MIN_LEAD_MINUTES = 120
HORIZON_DAYS = 28
PROVIDER_HORIZON_DAYS = 365
REMINDER_HOURS = 24
# Longer than any one SMTP conversation: a claim older than this was abandoned by a dead worker.
REMINDER_CLAIM_SECONDS = 10 * 60
FEED_PAST_DAYS = 90


def cancel_cutoff() -> dt.timedelta:
    """How long before the start a patient may still cancel or reschedule."""
    return dt.timedelta(
        hours=getattr(settings, "SCHEDULING_CANCEL_CUTOFF_HOURS", CANCEL_CUTOFF_HOURS)
    )


def change_grace() -> dt.timedelta:
    """How long after booking a patient may still change or cancel online, whatever the cut-off:
    a mistaken click on a slot that starts soon stays fixable."""
    return dt.timedelta(
        minutes=getattr(settings, "SCHEDULING_CHANGE_GRACE_MINUTES", CHANGE_GRACE_MINUTES)
    )


def min_lead() -> dt.timedelta:
    """The earliest a patient may book: now plus this much."""
    return dt.timedelta(minutes=getattr(settings, "SCHEDULING_MIN_LEAD_MINUTES", MIN_LEAD_MINUTES))


def horizon_days() -> int:
    """How many calendar days ahead (today included) patients see slots."""
    return int(getattr(settings, "SCHEDULING_HORIZON_DAYS", HORIZON_DAYS))


def provider_horizon_days() -> int:
    """How far ahead providers may book for their patients."""
    return int(getattr(settings, "SCHEDULING_PROVIDER_HORIZON_DAYS", PROVIDER_HORIZON_DAYS))


def reminder_ahead() -> dt.timedelta:
    """Reminders go out for appointments that start within this much time."""
    return dt.timedelta(hours=getattr(settings, "SCHEDULING_REMINDER_HOURS", REMINDER_HOURS))


def reminder_claim_timeout() -> dt.timedelta:
    """After this long, a reminder claimed but never marked sent is sent again."""
    return dt.timedelta(
        seconds=getattr(settings, "SCHEDULING_REMINDER_CLAIM_SECONDS", REMINDER_CLAIM_SECONDS)
    )


def feed_past_days() -> int:
    """How many days of past appointments the calendar feed still carries."""
    return int(getattr(settings, "SCHEDULING_FEED_PAST_DAYS", FEED_PAST_DAYS))


def portal_url() -> str:
    """Absolute base URL of the portal for links in emails sent without a request (cron)."""
    return str(getattr(settings, "PORTAL_BASE_URL", "")).rstrip("/")
