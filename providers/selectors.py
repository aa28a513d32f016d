"""Reads for the provider portal."""

from __future__ import annotations

from django.db.models import QuerySet

from patients.models import PatientProfile
from providers.models import ProviderProfile, RelationshipStatus


def patients_of_provider(provider: ProviderProfile) -> QuerySet[PatientProfile]:
    """Patients in an active care relationship with the provider, by name."""
    return (
        PatientProfile.objects.filter(
            provider_links__provider=provider, provider_links__status=RelationshipStatus.ACTIVE
        )
        .select_related("user")
        .order_by("user__full_name")
    )
