"""Reads of patient data, always scoped to the user asking (patients.policy)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from patients.models import EmergencyAccess, PatientProfile, PHIAccess
from patients.policy import visible_patients


def patient_for_user(user: User, patient_id: object) -> PatientProfile | None:
    """The patient profile if this user may open it, else None (views answer 404)."""
    return visible_patients(user).select_related("user").filter(pk=patient_id).first()


def phi_accesses_of_patient(patient: PatientProfile) -> QuerySet[PHIAccess]:
    """Who opened this patient's PHI, newest first ("who viewed my record")."""
    # The provider profile gives the accessor's credentials without a query per row.
    return (
        PHIAccess.objects.filter(patient=patient)
        # api_access: the app an API read went through (fhir_api), named in the same row.
        .select_related("accessor__provider_profile", "api_access")
        .order_by("-accessed_at", "-pk")
    )


def emergency_accesses_to_review() -> QuerySet[EmergencyAccess]:
    return EmergencyAccess.objects.filter(reviewed_at__isnull=True).select_related(
        "provider__user", "patient__user"
    )
