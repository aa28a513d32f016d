"""Data helpers for the provider portal's tests (the personas live in the root conftest)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from messaging.models import Message
from messaging.services import message_create
from patients.models import PatientProfile
from patients.services import patient_create
from providers.models import ProviderProfile
from providers.services import relationship_activate
from scheduling.models import Appointment
from scheduling.services import appointment_create

NEW_YORK = ZoneInfo("America/New_York")


def make_patients(
    provider: ProviderProfile, count: int, *, start: int = 0, prefix: str = "Patient"
) -> list[PatientProfile]:
    """`count` patients in the provider's care, named "<prefix> Number000"…"""
    patients = []
    for n in range(start, start + count):
        patient = patient_create(
            email=f"{prefix.lower()}{n}@example.org",
            full_name=f"{prefix} Number{n:03d}",
            date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=n),
            phone_number=f"555-{n:04d}",
        )
        relationship_activate(
            provider=provider,
            patient=patient,
            start_date=dt.date(2024, 1, 1) + dt.timedelta(days=n),
        )
        patients.append(patient)
    return patients


def today_at(hour: int, minute: int = 0, *, tz: ZoneInfo = NEW_YORK, days: int = 0) -> dt.datetime:
    """A time on today's calendar day in `tz` (plus `days`), as an aware datetime."""
    day = timezone.now().astimezone(tz).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def make_appointments(
    provider: ProviderProfile, patients: list[PatientProfile], *, days: int = 0, start: int = 0
) -> list[Appointment]:
    """One appointment per patient on the same day, 15 minutes apart from 08:00 local.

    ``start`` continues an earlier call's sequence, so appointments never overlap.
    """
    return [
        appointment_create(
            patient=patient,
            provider=provider,
            date_time=today_at(8, tz=NEW_YORK, days=days) + dt.timedelta(minutes=15 * n),
            duration_minutes=15,
            reason=f"Visit {n:03d}",
        )
        for n, patient in enumerate(patients, start=start)
    ]


def make_unread_messages(
    provider: ProviderProfile, patients: list[PatientProfile]
) -> list[Message]:
    return [
        message_create(sender=patient.user, receiver=provider.user, content=f"Question {n:03d}")
        for n, patient in enumerate(patients)
    ]
