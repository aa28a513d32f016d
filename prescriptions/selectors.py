"""Reads of prescriptions, scoped to the user asking."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from patients.models import PatientProfile
from patients.policy import patient_filter
from prescriptions.models import Prescription, PrescriptionStatus


def prescriptions_visible_to(user: User) -> QuerySet[Prescription]:
    return Prescription.objects.filter(patient_filter(user, path="patient")).select_related(
        "patient__user", "provider__user"
    )


def active_prescriptions_for_patient(patient: PatientProfile, *, limit: int | None = None) -> list[Prescription]:
    qs = (
        Prescription.objects.filter(patient=patient, status=PrescriptionStatus.ACTIVE)
        .select_related("provider__user")
        .order_by("medication_name")
    )
    return list(qs[:limit] if limit else qs)
