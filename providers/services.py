"""Writes to provider profiles and care relationships."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from accounts.services import user_create
from patients.models import PatientProfile
from providers.models import ProviderPatient, ProviderProfile, RelationshipStatus


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
