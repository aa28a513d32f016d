"""Writes of the assistant: the interaction log, and answering one utterance."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from assistant import conf
from assistant.dialogue import Dialogue, DialogueState, Reply
from assistant.models import AIInteraction, InteractionOutcome
from assistant.redaction import redact_for

# The key of the utterance state that holds the current conversation's id.
CONVERSATION_KEY = "conversation"


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
    outcome: str = InteractionOutcome.NONE,
    conversation_id: uuid.UUID | str | None = None,
    at: dt.datetime | None = None,
) -> AIInteraction:
    """Record one exchange with the assistant, identifiers (SSN, card, insurance number) removed.

    Redacted here, the one way in, so that no caller can store them: the row,
    its audit-log copy, analytics and the admin only ever hold `[removed]`.
    """
    interaction = AIInteraction(
        user=user,
        input_text=redact_for(user, input_text),
        response_text=redact_for(user, response_text),
        detected_intent=detected_intent,
        confidence_score=confidence_score,
        resulted_in_appointment=resulted_in_appointment,
        resulted_in_provider_transfer=resulted_in_provider_transfer,
        outcome=outcome,
        conversation_id=conversation_id,
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
    new state is returned for the caller to keep. It carries the conversation's
    id: a missing state starts a new conversation. Whatever the action does and
    its log row commit together. Identifiers are taken out of the text before
    the dialogue sees it, so they are in no slot, message or reply either.
    """
    text = redact_for(user, " ".join((text or "").split()))
    if not text:
        raise UtteranceInvalid(_("Say or type something for the assistant."))
    if len(text) > conf.max_text_length():
        raise UtteranceInvalid(
            _("That is too long for the assistant (at most %(limit)d characters).")
            % {"limit": conf.max_text_length()}
        )
    conversation_id = conversation_of(state) or uuid.uuid4()
    reply, new_state = Dialogue(user, now=now, conversation_id=conversation_id).respond(
        text, DialogueState.from_dict(state)
    )
    interaction_log(
        user=user,
        input_text=text,
        response_text=reply.text,
        detected_intent=reply.intent,
        confidence_score=reply.confidence,
        resulted_in_appointment=reply.resulted_in_appointment,
        resulted_in_provider_transfer=reply.resulted_in_provider_transfer,
        outcome=reply.outcome,
        conversation_id=conversation_id,
        at=now,
    )
    reply.said = text
    return reply, with_conversation(new_state.to_dict(), conversation_id)


def conversation_of(state: Any) -> uuid.UUID | None:
    """The conversation id kept in an utterance state, or None (a new conversation starts)."""
    if not isinstance(state, dict):
        return None
    try:
        return uuid.UUID(str(state.get(CONVERSATION_KEY)))
    except (TypeError, ValueError, AttributeError):
        return None


def with_conversation(state: dict[str, Any], conversation_id: uuid.UUID | None) -> dict[str, Any]:
    """`state` carrying the conversation id into the next turn."""
    if conversation_id is not None:
        state = {**state, CONVERSATION_KEY: str(conversation_id)}
    return state
