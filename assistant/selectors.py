"""Reads for the assistant, scoped to the user asking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, Max, Q, QuerySet, Sum, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Role, User
from assistant.models import (
    COMPLETED_TASKS,
    AIInteraction,
    InteractionOutcome,
    InteractionRollupState,
)
from patients.models import PatientProfile
from patients.policy import VisiblePatients, visible_patient_access
from providers.models import ProviderProfile, RelationshipStatus


def interactions_of_user(user: User) -> QuerySet[AIInteraction]:
    """The user's own exchanges with the assistant, newest first (they are PHI: nobody else's)."""
    if not getattr(user, "is_authenticated", False):
        return AIInteraction.objects.none()
    return AIInteraction.objects.filter(user=user).order_by("-interaction_timestamp")


def recent_conversation(user: User, *, limit: int = 20) -> list[AIInteraction]:
    """The user's latest exchanges in reading order (oldest of them first)."""
    return list(reversed(interactions_of_user(user)[:limit]))


# A hand-over to a person carries at most this many exchanges of the conversation.
TRANSCRIPT_EXCHANGES = 20


def transcript_of_conversation(user: User, conversation_id: Any) -> list[AIInteraction]:
    """The exchanges of the user's current conversation (the one being handed over), oldest first.

    Only this conversation: since the patient last started one, in this session
    (the id lives in the session), never earlier sign-ins or other conversations
    of the same day. Without an id there is nothing to pass on.
    """
    if conversation_id is None:
        return []
    rows = interactions_of_user(user).filter(conversation_id=conversation_id)
    return list(reversed(rows[:TRANSCRIPT_EXCHANGES]))


def current_conversation(
    user: User, conversation_id: Any, *, limit: int = 20
) -> list[AIInteraction]:
    """What the assistant page shows: the exchanges of the conversation in this session."""
    if conversation_id is None:
        return []
    rows = interactions_of_user(user).filter(conversation_id=conversation_id)
    return list(reversed(rows[:limit]))


def provider_by_id(provider_id: Any) -> ProviderProfile | None:
    """A provider of the practice (the directory is not PHI), or None."""
    return ProviderProfile.objects.select_related("user").filter(pk=provider_id).first()


def providers_of_patient(patient: PatientProfile) -> list[ProviderProfile]:
    """The providers currently caring for the patient, by name."""
    return list(
        ProviderProfile.objects.filter(
            patient_links__patient=patient, patient_links__status=RelationshipStatus.ACTIVE
        )
        .select_related("user")
        .order_by("user__full_name")
    )


# Names the speech recognizer is told to listen for, at most this many phrases.
VOCABULARY_LIMIT = 200


def speech_vocabulary(user: User) -> list[str]:
    """The names this user is likely to say: a patient's providers and medicines, a
    provider's own patients. Only what the user may already see."""
    from prescriptions.models import Prescription, PrescriptionStatus
    from providers.selectors import patients_of_provider

    if user.role == Role.PROVIDER and hasattr(user, "provider_profile"):
        return [
            p.full_name
            for p in list(patients_of_provider(user.provider_profile))[:VOCABULARY_LIMIT]
        ]
    profile = getattr(user, "patient_profile", None)
    if profile is None:
        return []
    names = [p.user.full_name for p in providers_of_patient(profile)]
    names += list(
        Prescription.objects.filter(patient=profile, status=PrescriptionStatus.ACTIVE)
        .values_list("medication_name", flat=True)
        .distinct()[:VOCABULARY_LIMIT]
    )
    return names


# --- Analytics (staff and providers) -----------------------------------------------

ANALYTICS_DAYS = 30
# Below this the dialogue asked instead of acting (dialogue.CONFIDENCE_THRESHOLD).
LOW_CONFIDENCE = 0.5
LOW_CONFIDENCE_LISTED = 25


def is_verified_staff(user: User) -> bool:
    """Practice staff signed in with their second factor (they see every interaction)."""
    verified = getattr(user, "is_verified", None)
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and callable(verified)
        and verified()
    )


def interactions_for_analytics(user: User) -> QuerySet[AIInteraction]:
    """The interactions `user` may study: staff all; a provider their own and those of the
    patients the patient policy lets them see; anyone else none."""
    user_ids, _ = _analytics_scope(user)
    if user_ids is None:
        return AIInteraction.objects.all()
    # The people first (one query, a panel's worth of ids), then their rows through
    # the (user, time) index: testing every row of the period against the policy
    # would read the whole practice's month to find one panel's exchanges.
    return AIInteraction.objects.filter(user__in=user_ids)


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    interactions: int
    appointments: int
    transfers: int


@dataclass(frozen=True)
class IntentCount:
    intent: str
    count: int
    share: float


@dataclass(frozen=True)
class OutcomeCount:
    outcome: str
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class LowConfidenceUtterance:
    """A patient's (or provider's) words the assistant was unsure of, with who said them."""

    pk: Any
    user_id: Any
    # None when the speaker is not a patient (their words are no patient's PHI).
    patient_id: Any
    full_name: str
    input_text: str
    response_text: str
    detected_intent: str
    confidence_score: float
    interaction_timestamp: dt.datetime


@dataclass(frozen=True)
class AssistantAnalytics:
    first_day: dt.date
    last_day: dt.date
    days: list[DayCount]
    total: int
    average_confidence: float | None
    appointments: int
    transfers: int
    # Led to an appointment, a transfer, or both (each interaction counted once).
    acted: int
    intents: list[IntentCount]
    low_confidence: list[LowConfidenceUtterance]
    # What the exchanges came to (every outcome, zeros included, in the model's order).
    outcomes: list[OutcomeCount]
    # Conversations (exchanges sharing a conversation id) and those with a completed task.
    conversations: int = 0
    completed_conversations: int = 0
    # A provider's patients as read to choose the rows (None for staff): the access log
    # of the low-confidence list takes its care/emergency split from here.
    patient_access: VisiblePatients | None = None

    @property
    def completion_rate(self) -> float:
        return self.completed_conversations / self.conversations if self.conversations else 0.0

    def _share(self, part: int) -> float:
        return part / self.total if self.total else 0.0

    @property
    def appointment_share(self) -> float:
        return self._share(self.appointments)

    @property
    def transfer_share(self) -> float:
        return self._share(self.transfers)

    @property
    def acted_share(self) -> float:
        return self._share(self.acted)

    @property
    def low_confidence_patients(self) -> list[PatientProfile]:
        """The patients whose words are in the low-confidence list (their PHI is shown), for
        the access log: their ids from the list's own query, no profile read again."""
        people = {i.patient_id: i.user_id for i in self.low_confidence if i.patient_id is not None}
        return [PatientProfile(pk=pk, user_id=user_id) for pk, user_id in people.items()]


def rollup_time_zone() -> ZoneInfo:
    """The days of the analytics rollup are the practice's (staff) days."""
    return ZoneInfo(settings.TIME_ZONE)


def interaction_day_counts(rows: QuerySet[AIInteraction], *, tz: ZoneInfo) -> list[dict[str, Any]]:
    """`rows` counted per day (in `tz`), intent and outcome: the rollup's grain.

    Everything the page shows but the conversations adds up from these rows, so the
    closed days can come from the rollup table and the open ones from this query.
    """
    appointment = Q(resulted_in_appointment=True)
    transfer = Q(resulted_in_provider_transfer=True)
    return list(
        rows.annotate(day=TruncDate("interaction_timestamp", tzinfo=tz))
        .values("day", "detected_intent", "outcome")
        .annotate(
            interactions=Count("pk"),
            appointments=Count("pk", filter=appointment),
            transfers=Count("pk", filter=transfer),
            acted=Count(Case(When(appointment | transfer, then=1))),
            confidence_sum=Sum("confidence_score"),
        )
        .order_by()
    )


def conversation_last_days(rows: QuerySet[AIInteraction], *, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Each conversation of `rows` with its last day (in `tz`) among them, and its last day
    with a completed task (None without one): the grain of ConversationRollup."""
    day = TruncDate("interaction_timestamp", tzinfo=tz)
    return list(
        rows.filter(conversation_id__isnull=False)
        .values("conversation_id")
        .annotate(
            last_day=Max(day),
            last_completed_day=Max(day, filter=Q(outcome__in=list(COMPLETED_TASKS))),
        )
        .order_by()
    )


# The period's counts at the rollup's grain, and its conversations, in one statement: a
# UNION ALL of the closed days' rollup rows, the open days' rows grouped live, and one row
# each of conversation counts ('d' rows are counts, 'r' the rolled-up conversations, 'c'
# the live ones). Hand-written because the ORM builds it as four or five queries whose
# compilation and round trips cost more than the database's work (a few ms a view).
# Portable (CASE, not FILTER; the zone's day through connection.ops), so SQLite tests read
# the same statement.
_CLOSED_DAYS_SQL = (
    "SELECT 'd', day, detected_intent, outcome, interactions, appointments, transfers, acted,"
    " confidence_sum FROM ai_interaction_daily_counts WHERE day >= %s AND day <= %s"
)
_LIVE_DAYS_SQL = (
    "SELECT 'd', {day}, detected_intent, outcome, COUNT(*),"
    " SUM(CASE WHEN resulted_in_appointment THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN resulted_in_provider_transfer THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN resulted_in_appointment OR resulted_in_provider_transfer THEN 1 ELSE 0 END),"
    " SUM(confidence_score) FROM ai_interactions WHERE {where} GROUP BY 2, 3, 4"
)
_ROLLED_UP_CONVERSATIONS_SQL = (
    "SELECT 'r', NULL, NULL, NULL, COUNT(*),"
    " SUM(CASE WHEN last_completed_day >= %s THEN 1 ELSE 0 END), 0, 0, NULL"
    " FROM ai_conversation_rollup WHERE last_day >= %s"
)
# A live conversation (or completed one) the rolled-up days of the period have not counted.
_NOT_ROLLED_UP = (
    " AND NOT EXISTS (SELECT 1 FROM ai_conversation_rollup r"
    " WHERE r.conversation_id = ai_interactions.conversation_id AND r.last_day >= %s{more})"
)
_LIVE_CONVERSATIONS_SQL = (
    "SELECT 'c', NULL, NULL, NULL,"
    " COUNT(DISTINCT CASE WHEN conversation_id IS NOT NULL{fresh} THEN conversation_id END),"
    " COUNT(DISTINCT CASE WHEN outcome IN ({completed}){fresh_completed} THEN conversation_id END),"
    " 0, 0, NULL FROM ai_interactions WHERE {where}"
)


def _as_date(value: Any) -> dt.date:
    # SQLite hands dates back as ISO text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _period_counts(
    user_ids: list[Any] | None,
    *,
    tz: ZoneInfo,
    since: dt.datetime,
    first_day: dt.date,
    closed_through: dt.date | None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The counts per day, intent and outcome of the interactions of `user_ids` (None:
    everyone's) from `since`, and their conversations, in one query. With `closed_through`,
    the days from `first_day` to it come from the rollup tables and only later ones live."""
    ops = connection.ops
    uuid = AIInteraction._meta.pk
    assert uuid is not None
    live_from = since
    if closed_through is not None:
        live_from = dt.datetime.combine(
            closed_through + dt.timedelta(days=1), dt.time.min, tzinfo=tz
        )
    where, where_params = "interaction_timestamp >= %s", [ops.adapt_datetimefield_value(live_from)]
    if user_ids is not None:
        where += " AND user_id IN ({})".format(", ".join(["%s"] * len(user_ids)))
        where_params += [uuid.get_db_prep_value(pk, connection) for pk in user_ids]
    day_sql, day_params = ops.datetime_cast_date_sql(
        "interaction_timestamp", (), timezone._get_timezone_name(tz)
    )
    completed = sorted(COMPLETED_TASKS)
    first = ops.adapt_datefield_value(first_day)
    parts = [_LIVE_DAYS_SQL.format(day=day_sql, where=where)]
    params: list[Any] = [*day_params, *where_params]
    fresh = fresh_completed = ""
    fresh_params: list[Any] = []
    fresh_completed_params: list[Any] = []
    if closed_through is not None:
        parts.insert(0, _CLOSED_DAYS_SQL)
        params[:0] = [first, ops.adapt_datefield_value(closed_through)]
        parts.append(_ROLLED_UP_CONVERSATIONS_SQL)
        params += [first, first]
        fresh = _NOT_ROLLED_UP.format(more="")
        fresh_params = [first]
        fresh_completed = _NOT_ROLLED_UP.format(more=" AND r.last_completed_day >= %s")
        fresh_completed_params = [first, first]
    parts.append(
        _LIVE_CONVERSATIONS_SQL.format(
            fresh=fresh,
            completed=", ".join(["%s"] * len(completed)),
            fresh_completed=fresh_completed,
            where=where,
        )
    )
    params += [*fresh_params, *completed, *fresh_completed_params, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    counts: list[dict[str, Any]] = []
    conversations = {"conversations": 0, "completed": 0}
    for kind, day, intent, outcome, n, appointments, transfers, acted, confidence in rows:
        if kind == "d":
            counts.append(
                {
                    "day": _as_date(day),
                    "detected_intent": intent,
                    "outcome": outcome,
                    "interactions": n,
                    "appointments": appointments,
                    "transfers": transfers,
                    "acted": acted,
                    "confidence_sum": confidence,
                }
            )
        else:
            conversations["conversations"] += n or 0
            conversations["completed"] += appointments or 0
    return counts, conversations


def _analytics_scope(user: User) -> tuple[list[Any] | None, VisiblePatients | None]:
    """Whose interactions `user` may study: None for everyone's (staff), else the ids (none
    for someone who may study nothing); and a provider's patients as read for those ids."""
    if is_verified_staff(user):
        return None, None
    if getattr(user, "is_authenticated", False) and user.role == Role.PROVIDER:
        access = visible_patient_access(user)
        return [user.pk, *access.user_ids], access
    return [], None


def assistant_analytics(
    user: User, *, tz: ZoneInfo, now: dt.datetime | None = None, days: int = ANALYTICS_DAYS
) -> AssistantAnalytics:
    """The last `days` days (in `tz`) of the interactions `user` may study, aggregated in SQL.

    A fixed number of queries whatever the number of rows: the counts per day, intent
    and outcome (for staff in the practice's zone: closed days from the daily rollup,
    today live), the conversations, and the newest low-confidence utterances.
    """
    now = now or timezone.now()
    last_day = now.astimezone(tz).date()
    first_day = last_day - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first_day, dt.time.min, tzinfo=tz)
    user_ids, patient_access = _analytics_scope(user)
    closed_through = None
    if user_ids is None and tz.key == rollup_time_zone().key:
        # Staff in the practice's zone: the closed days from the rollup. A provider's panel
        # is read live through the (user, time) index: a rollup per provider and zone would
        # be larger than what it saves.
        state = InteractionRollupState.objects.filter(pk=1).values_list(
            "complete_through", flat=True
        )
        complete_through = state.first()
        if complete_through is not None and complete_through >= first_day:
            closed_through = min(complete_through, last_day)
    if user_ids == []:
        counts, conversations = [], {"conversations": 0, "completed": 0}
    else:
        counts, conversations = _period_counts(
            user_ids, tz=tz, since=since, first_day=first_day, closed_through=closed_through
        )
    rows = (
        AIInteraction.objects.all()
        if user_ids is None
        else AIInteraction.objects.filter(user__in=user_ids)
    ).filter(interaction_timestamp__gte=since)

    per_day: dict[dt.date, list[int]] = {}
    per_intent: dict[str, int] = {}
    per_outcome: dict[str, int] = {}
    total = appointments = transfers = acted = 0
    confidence_sum = 0.0
    for row in counts:
        n = row["interactions"]
        day = per_day.setdefault(row["day"], [0, 0, 0])
        day[0] += n
        day[1] += row["appointments"]
        day[2] += row["transfers"]
        per_intent[row["detected_intent"]] = per_intent.get(row["detected_intent"], 0) + n
        per_outcome[row["outcome"]] = per_outcome.get(row["outcome"], 0) + n
        total += n
        appointments += row["appointments"]
        transfers += row["transfers"]
        acted += row["acted"]
        confidence_sum += row["confidence_sum"] or 0.0
    day_counts = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        n, booked, passed = per_day.get(day, (0, 0, 0))
        day_counts.append(DayCount(day=day, interactions=n, appointments=booked, transfers=passed))

    intents = [
        IntentCount(intent=intent, count=n, share=n / total if total else 0.0)
        for intent, n in sorted(per_intent.items(), key=lambda item: (-item[1], item[0]))
    ]
    # The newest ids first, on their own: joined to the people, the planner walks the whole
    # practice's month backwards through the time index to find a panel's 25 rows.
    newest = (
        rows.filter(confidence_score__lt=LOW_CONFIDENCE)
        .exclude(detected_intent="emergency")
        .order_by("-interaction_timestamp")
        .values("pk")[:LOW_CONFIDENCE_LISTED]
    )
    # Plain values: model instances of the rows (and their deferred-field machinery) cost
    # more than reading them.
    low_confidence = [
        LowConfidenceUtterance(*values)
        for values in AIInteraction.objects.filter(pk__in=newest)
        .order_by("-interaction_timestamp")
        .values_list(
            "pk",
            "user_id",
            "user__patient_profile__pk",
            "user__full_name",
            "input_text",
            "response_text",
            "detected_intent",
            "confidence_score",
            "interaction_timestamp",
        )
    ]
    return AssistantAnalytics(
        first_day=first_day,
        last_day=last_day,
        days=day_counts,
        total=total,
        average_confidence=confidence_sum / total if total else None,
        appointments=appointments,
        transfers=transfers,
        acted=acted,
        intents=intents,
        low_confidence=low_confidence,
        outcomes=[
            OutcomeCount(
                outcome=value,
                label=str(label),
                count=per_outcome.get(value, 0),
                share=per_outcome.get(value, 0) / total if total else 0.0,
            )
            for value, label in InteractionOutcome.choices
        ],
        conversations=conversations["conversations"],
        completed_conversations=conversations["completed"],
        patient_access=patient_access,
    )
