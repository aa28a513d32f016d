"""Writes of the assistant: the interaction log, and answering one utterance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from assistant import conf
from assistant.dialogue import Dialogue, DialogueState, Reply
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


class UtteranceInvalid(ValueError):
    """Nothing to answer (empty), or more text than the assistant handles at once; str() says which."""


@transaction.atomic
def utterance_respond(
    *,
    user: User,
    text: str,
    state: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> tuple[Reply, dict[str, Any]]:
    """Answer one typed or transcribed utterance and log the exchange (one ai_interactions row).

    `state` is the conversation so far (as returned by the previous call); the
    new state is returned for the caller to keep. Whatever the action does and
    its log row commit together.
    """
    text = " ".join((text or "").split())
    if not text:
        raise UtteranceInvalid(_("Say or type something for the assistant."))
    if len(text) > conf.max_text_length():
        raise UtteranceInvalid(
            _("That is too long for the assistant (at most %(limit)d characters).")
            % {"limit": conf.max_text_length()}
        )
    reply, new_state = Dialogue(user, now=now).respond(text, DialogueState.from_dict(state))
    interaction_log(
        user=user,
        input_text=text,
        response_text=reply.text,
        detected_intent=reply.intent,
        confidence_score=reply.confidence,
        resulted_in_appointment=reply.resulted_in_appointment,
        resulted_in_provider_transfer=reply.resulted_in_provider_transfer,
        at=now,
    )
    return reply, new_state.to_dict()
