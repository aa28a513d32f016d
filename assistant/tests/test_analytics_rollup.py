"""The daily rollup of assistant interactions: the staff page reads closed days from it and
counts only today live, with the same figures as counting every row."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assistant.models import ConversationRollup, InteractionDailyCount, InteractionRollupState
from assistant.selectors import assistant_analytics
from assistant.services import interaction_log, interactions_roll_up

pytestmark = pytest.mark.django_db

URL = reverse("assistant:analytics")
TZ = ZoneInfo(settings.TIME_ZONE)


def log(user, intent: str, confidence: float, *, at: dt.datetime, **flags):
    return interaction_log(
        user=user,
        input_text=f"{intent} question",
        response_text="answer",
        detected_intent=intent,
        confidence_score=confidence,
        at=at,
        **flags,
    )


def fill(patient, other_patient, provider, *, now: dt.datetime, spread: int) -> None:
    """A mix of intents, outcomes, flags and conversations over `spread` days up to now,
    some just either side of a midnight and one older than the page's month."""
    today = dt.datetime.combine(now.astimezone(TZ).date(), dt.time.min, tzinfo=TZ)
    people = [patient.user, other_patient.user, provider.user]
    conversation = uuid.uuid4()
    for n in range(spread * 3):
        day = today - dt.timedelta(days=n % spread)
        at = day + dt.timedelta(seconds=[1, 43_200, 86_399][n % 3])
        if at > now:
            at = now - dt.timedelta(seconds=n)
        if n % 4 == 0:
            conversation = uuid.uuid4()
        log(
            people[n % 3],
            ["book_appointment", "emergency", "request_refill", "greeting"][n % 4],
            round(0.05 + (n % 10) / 10, 2),
            at=at,
            outcome=["booked", "emergency_advised", "clarification", "none", "transferred"][n % 5],
            resulted_in_appointment=n % 3 == 0,
            resulted_in_provider_transfer=n % 4 == 1,
            conversation_id=conversation if n % 7 else None,
        )
    log(patient.user, "greeting", 0.1, at=today - dt.timedelta(days=45))


def figures_of(user, now: dt.datetime) -> dict:
    figures = assistant_analytics(user, tz=TZ, now=now)
    data = dataclasses.asdict(figures)
    data["low_confidence"] = [i.pk for i in figures.low_confidence]
    data["average_confidence"] = round(data["average_confidence"], 9)
    return data


@pytest.fixture
def staff(admin_user):
    admin_user.is_verified = lambda: True  # signed in with their second factor
    return admin_user


def test_the_rollup_and_counting_every_row_give_the_same_figures(
    staff, patient, other_patient, provider
) -> None:
    now = timezone.now()
    fill(patient, other_patient, provider, now=now, spread=12)
    live = figures_of(staff, now)
    assert live["total"] == 36

    assert interactions_roll_up(now=now) > 0
    yesterday = now.astimezone(TZ).date() - dt.timedelta(days=1)
    assert InteractionRollupState.objects.get().complete_through == yesterday
    assert not InteractionDailyCount.objects.filter(day__gt=yesterday).exists()  # today is live
    assert figures_of(staff, now) == live

    # Today keeps counting live after the rollup ran.
    log(patient.user, "greeting", 0.2, at=now, outcome="answered")
    grown = figures_of(staff, now)
    assert grown["total"] == live["total"] + 1
    assert grown["days"][-1]["interactions"] == live["days"][-1]["interactions"] + 1

    # Once today closes the next run counts it, and a second run changes nothing.
    tomorrow = now + dt.timedelta(days=1)
    later = figures_of(staff, tomorrow)
    interactions_roll_up(now=tomorrow)
    rows = list(
        InteractionDailyCount.objects.order_by("day", "detected_intent", "outcome").values(
            "day", "detected_intent", "outcome", "interactions", "acted", "confidence_sum"
        )
    )
    assert rows[-1]["day"] == now.astimezone(TZ).date()
    interactions_roll_up(now=tomorrow)
    assert (
        list(
            InteractionDailyCount.objects.order_by("day", "detected_intent", "outcome").values(
                "day", "detected_intent", "outcome", "interactions", "acted", "confidence_sum"
            )
        )
        == rows
    )
    assert figures_of(staff, tomorrow) == later


def test_a_provider_in_another_zone_is_counted_live_on_their_own_days(
    staff, patient, other_patient, provider
) -> None:
    now = timezone.now()
    fill(patient, other_patient, provider, now=now, spread=5)
    interactions_roll_up(now=now)
    tokyo = ZoneInfo("Asia/Tokyo")
    rolled = assistant_analytics(staff, tz=tokyo, now=now)
    # Staff in another zone than the rollup's days: everything live, still every row.
    assert rolled.total == 15
    assert sum(d.interactions for d in rolled.days) == 15


def test_the_staff_page_reads_a_fixed_number_of_queries_with_the_rollup(
    patient, other_patient, provider, staff_client
) -> None:
    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(URL).status_code == 200
        return len(queries)

    staff_client.get(URL)  # the session warmed up
    now = timezone.now()
    fill(patient, other_patient, provider, now=now, spread=2)
    interactions_roll_up(now=now)
    few = measure()
    fill(patient, other_patient, provider, now=now, spread=20)
    interactions_roll_up(now=now)
    assert measure() == few


def test_a_conversation_that_goes_on_after_midnight_is_counted_once(staff, patient) -> None:
    today = dt.datetime.combine(timezone.now().astimezone(TZ).date(), dt.time.min, tzinfo=TZ)
    now = max(timezone.now(), today + dt.timedelta(minutes=5))  # after today's exchanges
    started, finished = uuid.uuid4(), uuid.uuid4()
    # Two days ago, yesterday (both closed) and today (live) in one conversation that
    # completes a task only today; another completed on a closed day and resumed today.
    for days, outcome in ((2, "clarification"), (1, "clarification"), (0, "booked")):
        log(
            patient.user,
            "book_appointment",
            0.9,
            at=today - dt.timedelta(days=days) + dt.timedelta(minutes=1),
            outcome=outcome,
            conversation_id=started,
        )
    for days, outcome in ((1, "cancelled"), (0, "answered")):
        log(
            patient.user,
            "cancel_appointment",
            0.9,
            at=today - dt.timedelta(days=days) + dt.timedelta(minutes=2),
            outcome=outcome,
            conversation_id=finished,
        )
    live = assistant_analytics(staff, tz=TZ, now=now)
    assert (live.conversations, live.completed_conversations) == (2, 2)

    interactions_roll_up(now=now)
    assert ConversationRollup.objects.count() == 2
    rolled = assistant_analytics(staff, tz=TZ, now=now)
    assert (rolled.conversations, rolled.completed_conversations) == (2, 2)
    # A day later both conversations are closed, and still counted once each.
    tomorrow = now + dt.timedelta(days=1)
    interactions_roll_up(now=tomorrow)
    assert set(ConversationRollup.objects.values_list("last_day", "last_completed_day")) == {
        (today.date(), today.date()),
        (today.date(), (today - dt.timedelta(days=1)).date()),
    }
    later = assistant_analytics(staff, tz=TZ, now=tomorrow)
    assert (later.conversations, later.completed_conversations) == (2, 2)


def test_the_migration_counts_the_conversations_of_days_already_rolled_up(
    staff, patient, other_patient, provider
) -> None:
    import importlib

    from django.apps import apps

    backfill = importlib.import_module(
        "assistant.migrations.0005_conversation_rollup"
    ).conversations_of_closed_days
    now = timezone.now()
    fill(patient, other_patient, provider, now=now, spread=6)
    live = figures_of(staff, now)
    interactions_roll_up(now=now)
    rolled = set(
        ConversationRollup.objects.values_list("conversation_id", "last_day", "last_completed_day")
    )
    assert rolled

    # As a deployment that rolled up days before conversations were counted.
    ConversationRollup.objects.all().delete()
    backfill(apps, None)
    assert (
        set(
            ConversationRollup.objects.values_list(
                "conversation_id", "last_day", "last_completed_day"
            )
        )
        == rolled
    )
    after = figures_of(staff, now)
    assert (after["conversations"], after["completed_conversations"]) == (
        live["conversations"],
        live["completed_conversations"],
    )
