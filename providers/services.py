"""Writes to provider profiles and care relationships."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import user_create
from patients.models import EmergencyAccess, PatientProfile
from patients.policy import has_care_relationship
from patients.services import emergency_access_grant
from providers.models import (
    EmergencyLookupFailure,
    EmergencyLookupOutcome,
    ProviderPatient,
    ProviderProfile,
    RelationshipStatus,
)
from providers.selectors import patients_by_identity
from providers.working_hours import WorkingHours

logger = logging.getLogger(__name__)


@transaction.atomic
def provider_create(
    *,
    email: str,
    full_name: str,
    password: str | None = None,
    phone_number: str = "",
    credentials: str = "",
    specialization: str = "",
    license_number: str = "",
    department: str = "",
    office_location: str = "",
    working_hours: dict[str, Any] | None = None,
) -> ProviderProfile:
    """Create a provider account with its profile (providers never self-register)."""
    user = user_create(
        email=email, full_name=full_name, role=Role.PROVIDER, password=password, phone_number=phone_number
    )
    profile = ProviderProfile(
        user=user,
        credentials=credentials.strip(),
        specialization=specialization.strip(),
        license_number=license_number.strip(),
        department=department.strip(),
        office_location=office_location.strip(),
        working_hours=working_hours or {},
    )
    profile.full_clean(exclude=["user"])
    profile.save()
    return profile


@transaction.atomic
def relationship_activate(
    *, provider: ProviderProfile, patient: PatientProfile, start_date: dt.date | None = None
) -> ProviderPatient:
    """Make the provider–patient relationship active, creating it or reactivating an old one."""
    link, created = ProviderPatient.objects.select_for_update().get_or_create(
        provider=provider,
        patient=patient,
        defaults={
            "relationship_start_date": start_date or timezone.localdate(),
            "status": RelationshipStatus.ACTIVE,
        },
    )
    if not created and link.status != RelationshipStatus.ACTIVE:
        link.status = RelationshipStatus.ACTIVE
        link.relationship_start_date = start_date or timezone.localdate()
        link.save(update_fields=["status", "relationship_start_date", "updated_at"])
    return link


@transaction.atomic
def relationship_deactivate(*, link: ProviderPatient) -> ProviderPatient:
    """End a care relationship; the provider loses access to the patient's PHI."""
    link.status = RelationshipStatus.INACTIVE
    link.save(update_fields=["status", "updated_at"])
    return link


# The profile columns a provider may change themselves.
_PROFILE_EDITABLE_FIELDS = (
    "credentials",
    "specialization",
    "department",
    "office_location",
    "working_hours",
)


@transaction.atomic
def provider_update_profile(
    *,
    profile: ProviderProfile,
    credentials: str,
    specialization: str,
    department: str,
    office_location: str,
    phone_number: str,
    working_hours: WorkingHours | Mapping[str, Any],
) -> ProviderProfile:
    """The provider edits their own practice details, phone and working hours.

    Everything is validated before anything is written, so invalid input
    changes nothing. The license number is not the provider's to change; staff
    set it in the admin.
    """
    user = profile.user
    profile.credentials = credentials.strip()
    profile.specialization = specialization.strip()
    profile.department = department.strip()
    profile.office_location = office_location.strip()
    profile.working_hours = (
        working_hours.to_json() if isinstance(working_hours, WorkingHours) else dict(working_hours)
    )
    user.phone_number = phone_number.strip()
    profile.full_clean(exclude=["user"])
    user.full_clean(
        exclude=[f.name for f in user._meta.fields if f.name != "phone_number"],
        validate_unique=False,
        validate_constraints=False,
    )
    profile.save(update_fields=[*_PROFILE_EDITABLE_FIELDS, "updated_at"])
    user.save(update_fields=["phone_number", "updated_at"])
    return profile


class PatientNotFound(Exception):
    """No patient has that name and date of birth."""


class PatientAmbiguous(Exception):
    """More than one patient has that name and date of birth; more detail is needed."""


@transaction.atomic
def emergency_lookup_failure_record(
    *,
    provider: ProviderProfile,
    outcome: EmergencyLookupOutcome,
    reason: str = "",
    ip_address: str | None = None,
) -> EmergencyLookupFailure:
    """Keep a break-the-glass search that matched no single patient, for staff to review."""
    return EmergencyLookupFailure.objects.create(
        provider=provider, outcome=outcome, reason=reason.strip(), ip_address=ip_address
    )


@transaction.atomic
def emergency_lookup_failures_mark_reviewed(
    *, failures: QuerySet[EmergencyLookupFailure], reviewer: User
) -> int:
    """Staff sign off failed break-the-glass searches; returns how many were still open."""
    return failures.filter(reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=reviewer
    )


@dataclass(frozen=True)
class EmergencyAccessOutcome:
    patient: PatientProfile
    # None when the provider already cares for the patient and needs no grant.
    grant: EmergencyAccess | None


def emergency_access_request(
    *,
    provider: ProviderProfile,
    full_name: str,
    date_of_birth: dt.date,
    reason: str,
    insurance_number: str = "",
    ip_address: str | None = None,
) -> EmergencyAccessOutcome:
    """Break the glass: find the one patient named, and grant an hour's access to their chart.

    Raises PatientNotFound or PatientAmbiguous (the caller says so without
    naming anyone), or ValidationError for a reason that is too short. A
    provider who already has an active care relationship gets no grant.
    """
    matches = patients_by_identity(
        full_name=full_name, date_of_birth=date_of_birth, insurance_number=insurance_number
    )
    if len(matches) != 1:
        # Who searched is kept for the review of emergency access; what they typed
        # is PHI and stays out of the log and the record.
        logger.warning(
            "Emergency access lookup by provider %s matched %s patients",
            provider.pk,
            "no" if not matches else "several",
        )
        emergency_lookup_failure_record(
            provider=provider,
            outcome=(
                EmergencyLookupOutcome.AMBIGUOUS if matches else EmergencyLookupOutcome.NOT_FOUND
            ),
            reason=reason,
            ip_address=ip_address,
        )
        raise PatientNotFound if not matches else PatientAmbiguous
    patient = matches[0]
    if has_care_relationship(provider.user, patient):
        return EmergencyAccessOutcome(patient=patient, grant=None)
    grant = emergency_access_grant(
        provider=provider, patient=patient, reason=reason, ip_address=ip_address
    )
    return EmergencyAccessOutcome(patient=patient, grant=grant)


@transaction.atomic
def provider_invite(
    *,
    email: str,
    full_name: str,
    base_url: str,
    credentials: str = "",
    specialization: str = "",
    department: str = "",
    office_location: str = "",
) -> ProviderProfile:
    """Create a provider account without a password and email a one-time link to set one."""
    from accounts.emails import send_provider_invitation

    profile = provider_create(
        email=email,
        full_name=full_name,
        credentials=credentials,
        specialization=specialization,
        department=department,
        office_location=office_location,
    )
    send_provider_invitation(user=profile.user, base_url=base_url)
    return profile


def provider_invitation_resend(*, profile: ProviderProfile, base_url: str) -> bool:
    """Send a fresh invitation link unless the provider has already chosen a password."""
    from accounts.emails import send_provider_invitation

    if profile.user.has_usable_password() or not profile.user.is_active:
        return False
    send_provider_invitation(user=profile.user, base_url=base_url)
    return True
