"""Writes of the assistant: the interaction log, and answering one utterance."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from assistant import conf
from assistant.dialogue import Dialogue, DialogueState, Reply
from assistant.models import (
    AIInteraction,
    ConversationRollup,
    InteractionDailyCount,
    InteractionOutcome,
    InteractionRollupState,
)
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


# --- Analytics rollup --------------------------------------------------------------

# Each run counts again the last days it closed: an exchange logged a moment before
# midnight may commit after the previous run read that day.
ROLLUP_RECOUNT_DAYS = 2


@transaction.atomic
def interactions_roll_up(*, now: dt.datetime | None = None) -> int:
    """Count every closed day (in settings.TIME_ZONE) not yet counted into
    InteractionDailyCount; return the number of days counted.

    One GROUP BY over the days' rows through the time index, one DELETE, one
    bulk INSERT; idempotent (a day is replaced, never added to). The conversations
    of those days move to their last day in ConversationRollup (a maximum: idempotent too).
    """
    from assistant.selectors import interaction_day_counts, rollup_time_zone

    tz = rollup_time_zone()
    now = now or timezone.now()
    through = now.astimezone(tz).date() - dt.timedelta(days=1)
    state = InteractionRollupState.objects.select_for_update().filter(pk=1).first()
    if state is not None:
        start = state.complete_through - dt.timedelta(days=ROLLUP_RECOUNT_DAYS - 1)
    else:
        first = (
            AIInteraction.objects.order_by("interaction_timestamp")
            .values_list("interaction_timestamp", flat=True)
            .first()
        )
        start = first.astimezone(tz).date() if first else through + dt.timedelta(days=1)
    if start <= through:
        rows = AIInteraction.objects.filter(
            interaction_timestamp__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            interaction_timestamp__lt=dt.datetime.combine(
                through + dt.timedelta(days=1), dt.time.min, tzinfo=tz
            ),
        )
        InteractionDailyCount.objects.filter(day__gte=start, day__lte=through).delete()
        InteractionDailyCount.objects.bulk_create(
            InteractionDailyCount(**row) for row in interaction_day_counts(rows, tz=tz)
        )
        _conversations_roll_up(rows, tz=tz, first_run=state is None)
    if state is None:
        InteractionRollupState.objects.create(pk=1, complete_through=through)
    elif through > state.complete_through:
        state.complete_through = through
        state.save(update_fields=["complete_through"])
    return max((through - start).days + 1, 0)


# Conversations merged with their earlier rollup rows per query (an IN list of ids).
_CONVERSATION_BATCH = 1000


def _conversations_roll_up(rows: QuerySet[AIInteraction], *, tz: ZoneInfo, first_run: bool) -> None:
    """Each conversation of `rows` (the days being counted) gets its last day, and last day
    with a completed task, of those days or of its earlier rollup row, whichever is later."""
    from assistant.selectors import conversation_last_days

    counted = conversation_last_days(rows, tz=tz)
    for start in range(0, len(counted), _CONVERSATION_BATCH):
        batch = counted[start : start + _CONVERSATION_BATCH]
        earlier: dict[Any, tuple[dt.date, dt.date | None]] = (
            {}
            if first_run
            else {
                pk: (last, completed)
                for pk, last, completed in ConversationRollup.objects.filter(
                    pk__in=[row["conversation_id"] for row in batch]
                ).values_list("conversation_id", "last_day", "last_completed_day")
            }
        )
        merged = []
        for row in batch:
            last, completed = row["last_day"], row["last_completed_day"]
            if row["conversation_id"] in earlier:
                before, completed_before = earlier[row["conversation_id"]]
                last = max(last, before)
                completed = max(
                    (d for d in (completed, completed_before) if d is not None), default=None
                )
            merged.append(
                ConversationRollup(
                    conversation_id=row["conversation_id"],
                    last_day=last,
                    last_completed_day=completed,
                )
            )
        ConversationRollup.objects.bulk_create(
            merged,
            update_conflicts=True,
            unique_fields=["conversation_id"],
            update_fields=["last_day", "last_completed_day"],
        )
