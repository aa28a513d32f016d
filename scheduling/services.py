"""Writes to appointments."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from patients.models import PatientProfile
from providers.models import ProviderProfile
from scheduling.models import Appointment, AppointmentStatus, AppointmentType


@transaction.atomic
def appointment_create(
    *,
    patient: PatientProfile,
    provider: ProviderProfile,
    date_time: dt.datetime,
    duration_minutes: int = 30,
    type: AppointmentType | str = AppointmentType.REGULAR,  # noqa: A002 - the seed's column name
    reason: str = "",
    notes: str = "",
    status: AppointmentStatus | str = AppointmentStatus.SCHEDULED,
) -> Appointment:
    """Store an appointment as given, after validating the row."""
    appointment = Appointment(
        patient=patient,
        provider=provider,
        date_time=date_time,
        duration_minutes=duration_minutes,
        type=type,
        reason=reason.strip(),
        notes=notes.strip(),
        status=status,
    )
    appointment.full_clean()
    appointment.save()
    return appointment
