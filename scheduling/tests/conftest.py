"""Helpers for the scheduling tests (the personas live in the root conftest)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from patients.models import PatientProfile
from patients.services import patient_create
from providers.models import ProviderProfile
from providers.services import relationship_activate
from scheduling.models import ProviderTimeOff

NEW_YORK = ZoneInfo("America/New_York")


def next_weekday(
    days_ahead: int, *, tz: ZoneInfo = NEW_YORK, now: dt.datetime | None = None
) -> dt.date:
    """The first Monday–Friday at least ``days_ahead`` days after today in ``tz``."""
    day = (now or timezone.now()).astimezone(tz).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def at(day: dt.date, hour: int, minute: int = 0, *, tz: ZoneInfo = NEW_YORK) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def make_patients(
    count: int, *, provider: ProviderProfile | None = None, start: int = 0
) -> list[PatientProfile]:
    patients = []
    for n in range(start, start + count):
        profile = patient_create(
            email=f"sched{n}@example.org",
            full_name=f"Sched Patient{n:03d}",
            date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=n),
        )
        if provider is not None:
            relationship_activate(provider=provider, patient=profile)
        patients.append(profile)
    return patients


def block(
    provider: ProviderProfile, start: dt.datetime, end: dt.datetime, reason: str = ""
) -> ProviderTimeOff:
    return ProviderTimeOff.objects.create(
        provider=provider, starts_at=start, ends_at=end, reason=reason
    )


@pytest.fixture
def soon_day() -> dt.date:
    """A weekday three or more days ahead: past the lead time and the cut-off."""
    return next_weekday(3)
