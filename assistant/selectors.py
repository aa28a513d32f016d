"""Reads for the assistant, scoped to the user asking."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from assistant.models import AIInteraction
from patients.models import PatientProfile
from providers.models import ProviderProfile, RelationshipStatus


def interactions_of_user(user: User) -> QuerySet[AIInteraction]:
    """The user's own exchanges with the assistant, newest first (they are PHI: nobody else's)."""
    if not getattr(user, "is_authenticated", False):
        return AIInteraction.objects.none()
    return AIInteraction.objects.filter(user=user).order_by("-interaction_timestamp")


def recent_conversation(user: User, *, limit: int = 20) -> list[AIInteraction]:
    """The user's latest exchanges in reading order (oldest of them first)."""
    return list(reversed(interactions_of_user(user)[:limit]))


def providers_of_patient(patient: PatientProfile) -> list[ProviderProfile]:
    """The providers currently caring for the patient, by name."""
    return list(
        ProviderProfile.objects.filter(
            patient_links__patient=patient, patient_links__status=RelationshipStatus.ACTIVE
        )
        .select_related("user")
        .order_by("user__full_name")
    )
