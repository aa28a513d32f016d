"""Reads of the FHIR API, through the portal's policy-scoped selectors.

Each queryset starts from the selector the portal's own pages use (so the
policy of patients.policy applies unchanged) and is narrowed to the patients
an API token may reach: a patient's own record; a provider's patients in an
active care relationship. Emergency ("break the glass") access is an
interactive, logged, one-hour exception for a person in front of the chart and
is never extended to an app.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.models import User
from messaging.models import Message
from patients.models import PatientProfile
from patients.policy import visible_patients
from prescriptions.models import Prescription
from prescriptions.selectors import prescriptions_visible_to
from providers.models import ProviderPatient, ProviderProfile, RelationshipStatus
from records.models import MedicalRecord
from records.selectors import medical_records_visible_to
from scheduling.models import Appointment
from scheduling.selectors import appointments_visible_to


def api_patients(user: User, *, only: PatientProfile | None = None) -> QuerySet[PatientProfile]:
    """The patients an API token of `user` reaches (`only`: narrowed to one launch patient)."""
    patients = visible_patients(user)
    if user.is_provider:
        patients = patients.filter(
            Exists(
                ProviderPatient.objects.filter(
                    patient=OuterRef("pk"), provider__user=user, status=RelationshipStatus.ACTIVE
                )
            )
        )
    if only is not None:
        patients = patients.filter(pk=only.pk)
    return patients.select_related("user")


def api_appointments(user: User, patients: QuerySet[PatientProfile]) -> QuerySet[Appointment]:
    return appointments_visible_to(user).filter(patient__in=patients.values("pk"))


def api_medical_records(user: User, patients: QuerySet[PatientProfile]) -> QuerySet[MedicalRecord]:
    return medical_records_visible_to(user).filter(patient__in=patients.values("pk"))


def api_conditions(user: User, patients: QuerySet[PatientProfile]) -> QuerySet[MedicalRecord]:
    """Records that carry a diagnosis: each is one Condition."""
    return api_medical_records(user, patients).exclude(diagnosis="")


def api_prescriptions(user: User, patients: QuerySet[PatientProfile]) -> QuerySet[Prescription]:
    return (
        prescriptions_visible_to(user)
        .filter(patient__in=patients.values("pk"))
        .select_related("patient__user", "provider__user")
    )


def api_messages(user: User, patients: QuerySet[PatientProfile]) -> QuerySet[Message]:
    """Messages between a reachable patient and their care team that `user` is entitled to.

    A patient reads all of their own messages; a provider only the ones they
    sent or received themselves (the portal's inbox rule), never a colleague's.
    """
    patient_users = patients.values("user_id")
    if user.is_patient:
        scope = Q(sender__in=patient_users) | Q(receiver__in=patient_users)
    else:
        scope = Q(sender=user, receiver__in=patient_users) | Q(
            receiver=user, sender__in=patient_users
        )
    return (
        Message.objects.filter(scope)
        .annotate(last_updated=Coalesce("read_at", "sent_at"))
        .select_related(
            "sender__patient_profile__user",
            "sender__provider_profile__user",
            "receiver__patient_profile__user",
            "receiver__provider_profile__user",
        )
    )


def api_practitioners() -> QuerySet[ProviderProfile]:
    """The practice's clinicians: a directory (no patient data), as the booking pages show it."""
    return ProviderProfile.objects.filter(user__is_active=True).select_related("user")


def message_patient(message: Message) -> PatientProfile | None:
    """The patient party of a message (the other party is their clinician)."""
    for party in (message.sender, message.receiver):
        if party.is_patient and hasattr(party, "patient_profile"):
            return party.patient_profile
    return None


def connected_apps_of(user: User) -> list[dict[str, object]]:
    """The apps holding a live token or refresh token of this user, for the Security page."""
    apps: dict[object, dict[str, object]] = {}
    for token in AccessToken.objects.filter(user=user, application__isnull=False).select_related(
        "application"
    ):
        entry = apps.setdefault(
            token.application_id, {"application": token.application, "scopes": set()}
        )
        entry["scopes"].update(token.scope.split())  # type: ignore[union-attr]
    for refresh in RefreshToken.objects.filter(user=user, revoked__isnull=True).select_related(
        "application"
    ):
        apps.setdefault(
            refresh.application_id, {"application": refresh.application, "scopes": set()}
        )
    return sorted(apps.values(), key=lambda entry: str(entry["application"].name).lower())  # type: ignore[attr-defined]
