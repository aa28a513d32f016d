"""Reads of appointments, scoped to the user asking."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from patients.models import PatientProfile
from patients.policy import patient_filter
from providers.models import ProviderProfile
from scheduling.models import Appointment, AppointmentStatus


def appointments_visible_to(user: User) -> QuerySet[Appointment]:
    """Every appointment the user may see: their own as a patient, their patients' as a provider."""
    return Appointment.objects.filter(patient_filter(user, path="patient")).select_related(
        "patient__user", "provider__user"
    )


def upcoming_appointments_for_patient(patient: PatientProfile, *, limit: int = 5) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            patient=patient, status=AppointmentStatus.SCHEDULED, date_time__gte=timezone.now()
        )
        .select_related("provider__user")
        .order_by("date_time")[:limit]
    )


def appointments_of_provider_between(
    provider: ProviderProfile, start: dt.datetime, end: dt.datetime
) -> list[Appointment]:
    """The provider's appointments starting in [start, end), any status, in time order."""
    return list(
        Appointment.objects.filter(provider=provider, date_time__gte=start, date_time__lt=end)
        .select_related("patient__user")
        .order_by("date_time")
    )
