"""The access policy for patient data, in one place.

A patient sees only their own data. A provider sees the patients with whom
they have an active care relationship, or an unexpired emergency access. Staff
work in the admin, not the portals. Every selector of PHI filters through
`visible_patients`, so another person's object is simply not found (404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from accounts.models import Role
from patients.models import EmergencyAccess, PatientProfile
from providers.models import ProviderPatient, RelationshipStatus


def provider_id_of(user: Any) -> object | None:
    """The id of the user's provider profile, or None when they have none.

    Relationships and grants are matched on this id rather than through a join
    to provider_profiles on user_id: the profile is one-to-one with the user, so
    the rows selected are the same, and the session's user already comes with
    the profile loaded (accounts/backends.py), so no query is spent finding it.
    Compiling and planning the join cost more than the database's work.
    """
    try:
        profile = user.provider_profile
    except ObjectDoesNotExist:
        return None
    return profile.pk


def _active_relationship(provider_id: object, patient_ref: Any) -> Exists:
    return Exists(
        ProviderPatient.objects.filter(
            patient=patient_ref, provider_id=provider_id, status=RelationshipStatus.ACTIVE
        )
    )


def _emergency_grant(provider_id: object, patient_ref: Any) -> Exists:
    return Exists(
        EmergencyAccess.objects.filter(
            patient=patient_ref, provider_id=provider_id, expires_at__gt=timezone.now()
        )
    )


def patient_filter(user: Any, *, path: str = "") -> Q:
    """A Q selecting rows whose patient (reached by `path`, e.g. "patient") the user may see."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    prefix = f"{path}__" if path else ""
    if user.role == Role.PATIENT:
        return Q(**{f"{prefix}user": user})
    if user.role == Role.PROVIDER:
        provider_id = provider_id_of(user)
        if provider_id is None:
            return Q(pk__in=[])
        ref = OuterRef(path or "pk")
        return Q(_active_relationship(provider_id, ref)) | Q(_emergency_grant(provider_id, ref))
    return Q(pk__in=[])


def visible_patients(user: Any) -> QuerySet[PatientProfile]:
    """The patient profiles this user may open."""
    return PatientProfile.objects.filter(patient_filter(user))


def has_care_relationship(user: Any, patient: PatientProfile) -> bool:
    """True when the provider has an active relationship (emergency access does not count)."""
    provider_id = provider_id_of(user)
    if provider_id is None:
        return False
    return ProviderPatient.objects.filter(
        patient=patient, provider_id=provider_id, status=RelationshipStatus.ACTIVE
    ).exists()


def emergency_access_active(user: Any, patient: PatientProfile) -> bool:
    provider_id = provider_id_of(user)
    if provider_id is None:
        return False
    return EmergencyAccess.objects.filter(
        patient=patient, provider_id=provider_id, expires_at__gt=timezone.now()
    ).exists()


def patients_in_care_of(user: Any, patient_ids: Iterable[object]) -> set[object]:
    """Of these patient ids, those in an active care relationship with the provider (one query)."""
    provider_id = provider_id_of(user)
    if provider_id is None:
        return set()
    return set(
        ProviderPatient.objects.filter(
            patient__in=list(patient_ids), provider_id=provider_id, status=RelationshipStatus.ACTIVE
        ).values_list("patient_id", flat=True)
    )


def patients_under_emergency_access(user: Any, patient_ids: Iterable[object]) -> set[object]:
    """Of these patient ids, those the provider holds an unexpired emergency grant for (one query)."""
    provider_id = provider_id_of(user)
    if provider_id is None:
        return set()
    return set(
        EmergencyAccess.objects.filter(
            patient__in=list(patient_ids), provider_id=provider_id, expires_at__gt=timezone.now()
        ).values_list("patient_id", flat=True)
    )


@dataclass(frozen=True)
class VisiblePatients:
    """The patients a provider may open, read once: their user ids, and on which basis.

    `cared` and `granted` are patient profile ids (a patient may be in both). The
    access log flags an emergency opening by the same split (`phi_access_record_many`),
    so a page that read it here need not ask the database again.
    """

    user_ids: list[object]
    cared: frozenset[object]
    granted: frozenset[object]


NO_VISIBLE_PATIENTS = VisiblePatients(user_ids=[], cared=frozenset(), granted=frozenset())


def visible_patient_access(user: Any) -> VisiblePatients:
    """The patients a provider may open (care or emergency), and on which basis, in one query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_VISIBLE_PATIENTS
    if user.role != Role.PROVIDER:
        return NO_VISIBLE_PATIENTS
    provider_id = provider_id_of(user)
    if provider_id is None:
        return NO_VISIBLE_PATIENTS
    # No ordering: a compound statement takes none in its parts. UNION ALL with the
    # basis as a column: one row per relationship or grant, split below.
    cared = (
        ProviderPatient.objects.filter(provider_id=provider_id, status=RelationshipStatus.ACTIVE)
        .order_by()
        .annotate(in_care=Value(True))
        .values_list("patient_id", "patient__user_id", "in_care")
    )
    granted = (
        EmergencyAccess.objects.filter(provider_id=provider_id, expires_at__gt=timezone.now())
        .order_by()
        .annotate(in_care=Value(False))
        .values_list("patient_id", "patient__user_id", "in_care")
    )
    user_ids: dict[object, None] = {}
    in_care: set[object] = set()
    under_grant: set[object] = set()
    for patient_id, user_id, is_care in cared.union(granted, all=True):
        user_ids[user_id] = None
        (in_care if is_care else under_grant).add(patient_id)
    return VisiblePatients(
        user_ids=list(user_ids), cared=frozenset(in_care), granted=frozenset(under_grant)
    )


def visible_patient_user_ids(user: Any) -> list[object]:
    """The user ids of the patients a provider may open (care or emergency), in one query.

    For reads keyed by user (the assistant's exchanges): the database then
    reads each person's rows through a (user, ...) index instead of testing
    every row against the policy.
    """
    return visible_patient_access(user).user_ids
