"""Writes to the assistant's interaction log."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from assistant.models import AIInteraction


@transaction.atomic
def interaction_log(
    *,
    user: User,
    input_text: str,
    response_text: str,
    detected_intent: str,
    confidence_score: float,
    resulted_in_appointment: bool = False,
    resulted_in_provider_transfer: bool = False,
    at: dt.datetime | None = None,
) -> AIInteraction:
    """Record one exchange with the assistant."""
    interaction = AIInteraction(
        user=user,
        input_text=input_text,
        response_text=response_text,
        detected_intent=detected_intent,
        confidence_score=confidence_score,
        resulted_in_appointment=resulted_in_appointment,
        resulted_in_provider_transfer=resulted_in_provider_transfer,
        interaction_timestamp=at or timezone.now(),
    )
    interaction.full_clean()
    interaction.save()
    return interaction
