from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcare.db import UUIDModel


class InteractionOutcome(models.TextChoices):
    """What an exchange came to; the first five complete a task the person asked for."""

    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    REFILL_REQUESTED = "refill_requested", _("Refill requested")
    TRANSFERRED = "transferred", _("Passed to the care team")
    EMERGENCY_ADVISED = "emergency_advised", _("Emergency advice")
    CLARIFICATION = "clarification", _("Asked to clarify")
    ANSWERED = "answered", _("Answered")
    NONE = "none", _("Nothing")


COMPLETED_TASKS = frozenset(
    {
        InteractionOutcome.BOOKED,
        InteractionOutcome.CANCELLED,
        InteractionOutcome.RESCHEDULED,
        InteractionOutcome.REFILL_REQUESTED,
        InteractionOutcome.TRANSFERRED,
    }
)


class AIInteraction(UUIDModel):
    """One exchange with the assistant: what was said, what it understood and what came of it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ai_interactions"
    )
    input_text = models.TextField(_("input"))
    response_text = models.TextField(_("response"))
    detected_intent = models.CharField(_("intent"), max_length=64)
    confidence_score = models.FloatField(_("confidence"))
    resulted_in_appointment = models.BooleanField(default=False)
    resulted_in_provider_transfer = models.BooleanField(default=False)
    interaction_timestamp = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(
        _("outcome"),
        max_length=32,
        choices=InteractionOutcome.choices,
        default=InteractionOutcome.NONE,
    )
    # The conversation the exchange belongs to: what a transfer may pass on, and what
    # analytics counts as one conversation. Empty on rows logged before it existed.
    conversation_id = models.UUIDField(_("conversation"), null=True, blank=True, db_index=True)

    class Meta:
        db_table = "ai_interactions"
        verbose_name = _("assistant interaction")
        ordering = ["-interaction_timestamp"]
        indexes = [
            # Analytics reads a window of days. On PostgreSQL the index carries every
            # column the figures use, so a month of the whole practice is an
            # index-only scan, not a pass over the table (other databases ignore
            # `include` and still get the range).
            models.Index(
                fields=["interaction_timestamp"],
                include=[
                    "user",
                    "detected_intent",
                    "confidence_score",
                    "resulted_in_appointment",
                    "resulted_in_provider_transfer",
                    "outcome",
                    "conversation_id",
                ],
                name="ai_interactions_time_idx",
            ),
            # One person's exchanges by time: their history, and a provider's
            # analytics (their patients' rows, found person by person).
            models.Index(
                fields=["user", "interaction_timestamp"], name="ai_interactions_user_time_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence_score__gte=0) & models.Q(confidence_score__lte=1),
                name="ai_interactions_confidence_in_unit_range",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=InteractionOutcome.values),
                name="ai_interactions_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.interaction_timestamp:%Y-%m-%d %H:%M} {self.detected_intent} ({self.confidence_score:.2f})"


auditlog.register(AIInteraction, serialize_data=True)


class InteractionDailyCount(models.Model):
    """Closed days of `ai_interactions` (days of settings.TIME_ZONE) counted once, for staff analytics.

    The page covers a month of the whole practice: aggregating 100k rows on every
    view costs more than the admin changelist. A finished day never changes, so the
    scheduled rollup (assistant.tasks) counts it once into one row per intent and
    outcome; the page adds up about 30 x (intents x outcomes) rows and counts only the
    days after `InteractionRollupState.complete_through` live, through the time index.
    Not PHI: counts only, no user.
    """

    day = models.DateField()
    detected_intent = models.CharField(max_length=64)
    outcome = models.CharField(max_length=32)
    interactions = models.PositiveIntegerField(default=0)
    appointments = models.PositiveIntegerField(default=0)
    transfers = models.PositiveIntegerField(default=0)
    # Led to an appointment, a transfer or both (each interaction once).
    acted = models.PositiveIntegerField(default=0)
    # The average confidence of any set of days is sum / interactions.
    confidence_sum = models.FloatField(default=0.0)

    class Meta:
        db_table = "ai_interaction_daily_counts"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "detected_intent", "outcome"],
                name="ai_interaction_daily_counts_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.detected_intent} {self.outcome}: {self.interactions}"


class InteractionRollupState(models.Model):
    """One row: the last day whose counts are complete in InteractionDailyCount."""

    complete_through = models.DateField()

    class Meta:
        db_table = "ai_interaction_rollup_state"

    def __str__(self) -> str:
        return f"complete through {self.complete_through}"


class ConversationRollup(models.Model):
    """Each conversation's last closed day (of settings.TIME_ZONE) with an exchange, and
    with an exchange that completed a task: for staff analytics.

    A conversation may span days, so distinct conversations do not add up per day.
    But a conversation has an exchange on or after a day exactly when its last one
    is on or after it: counting these rows from the period's first day gives the
    period's distinct conversations (and those that completed a task) of the closed
    days through an index, without reading a month of exchanges. The scheduled
    rollup keeps them with the daily counts; the open days are counted live.
    Not PHI: a random id and two dates.
    """

    conversation_id = models.UUIDField(primary_key=True)
    last_day = models.DateField()
    last_completed_day = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "ai_conversation_rollup"
        indexes = [
            # Both counts read the index alone: the rows on or after the first day.
            models.Index(
                fields=["last_day"],
                include=["last_completed_day"],
                name="ai_conversation_rollup_day_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.last_day} (completed {self.last_completed_day})"
