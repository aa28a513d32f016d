"""The analytics page: who may see what, the figures, the PHI access log, a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assistant.services import interaction_log
from assistant.tests.helpers import NEW_YORK
from patients.models import PHIAccess
from patients.services import emergency_access_grant

pytestmark = pytest.mark.django_db

URL = reverse("assistant:analytics")


def log(user, intent: str, confidence: float, *, days_ago: int = 0, text: str = "", **flags):
    return interaction_log(
        user=user,
        input_text=text or f"{intent} question",
        response_text=f"answer to {text or intent}",
        detected_intent=intent,
        confidence_score=confidence,
        at=timezone.now() - dt.timedelta(days=days_ago),
        **flags,
    )


@pytest.fixture
def world(patient, provider, other_patient, other_provider):
    """Interactions of Pat (Anika's patient), of Anika herself, of Riley and of Omar."""
    log(patient.user, "book_appointment", 0.9, resulted_in_appointment=True)
    log(patient.user, "book_appointment", 0.8, days_ago=1, resulted_in_appointment=True)
    log(patient.user, "contact_provider", 0.7, days_ago=1, resulted_in_provider_transfer=True)
    log(patient.user, "list_appointments", 0.3, days_ago=2, text="pat mumbles about a thing")
    log(provider.user, "schedule_today", 0.9, days_ago=2)
    log(other_patient.user, "request_refill", 0.2, text="riley private words")
    log(other_patient.user, "request_refill", 0.95, days_ago=3)
    log(other_provider.user, "next_patient", 0.4, text="omar unsure words")
    # Older than the page's 30 days: counted nowhere.
    log(patient.user, "greeting", 0.1, days_ago=45, text="long ago words")


def figure(page: str, name: str) -> str:
    match = re.search(rf'id="figure-{name}">(.*?)</dd>', page, re.S)
    assert match, name
    return re.sub(r"<[^>]+>", "", match.group(1)).split()[0]


# --- Who may open it ----------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_patient_is_forbidden(patient_client) -> None:
    assert patient_client.get(URL).status_code == 403


def test_staff_without_their_second_factor_are_forbidden(admin_user) -> None:
    client = Client()
    client.force_login(admin_user)
    assert client.get(URL).status_code == 403


def test_a_provider_without_their_second_factor_finishes_it_first(provider) -> None:
    client = Client()
    client.force_login(provider.user)
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:mfa-setup")


# --- What each sees -----------------------------------------------------------------------


def test_a_provider_sees_their_own_and_their_patients_interactions_only(
    world, provider_client
) -> None:
    response = provider_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-label="Provider portal"' in page
    assert figure(page, "total") == "5"  # Pat's four of the last 30 days and Anika's own
    assert "pat mumbles about a thing" in page
    assert "riley private words" not in page and "Riley Other" not in page
    assert "omar unsure words" not in page
    assert "long ago words" not in page
    assert 'data-intent="request_refill"' not in page


def test_the_other_provider_sees_only_theirs(world, other_provider_client) -> None:
    page = other_provider_client.get(URL).content.decode()
    assert figure(page, "total") == "3"  # Riley's two and Omar's own
    assert "riley private words" in page and "omar unsure words" in page
    assert "pat mumbles" not in page


def test_staff_see_everything(world, staff_client) -> None:
    page = staff_client.get(URL).content.decode()
    assert figure(page, "total") == "8"
    for words in ("pat mumbles about a thing", "riley private words", "omar unsure words"):
        assert words in page
    assert 'aria-label="Provider portal"' not in page  # staff have no portal navigation


def test_the_figures_are_right(world, provider_client) -> None:
    page = provider_client.get(URL).content.decode()
    # Pat: 0.9, 0.8, 0.7, 0.3 and Anika 0.9 -> 0.72
    assert figure(page, "confidence") == "72%"
    assert figure(page, "appointments") == "40%"  # 2 of 5
    assert figure(page, "transfers") == "20%"  # 1 of 5
    assert figure(page, "acted") == "60%"  # 3 of 5
    intents = dict(
        re.findall(r'data-intent="([a-z_]+)"><th scope="row">[^<]*</th><td>(\d+)</td>', page)
    )
    assert intents == {
        "book_appointment": "2",
        "contact_provider": "1",
        "list_appointments": "1",
        "schedule_today": "1",
    }
    table = page[page.index('id="daily-table"') :]
    days = re.findall(
        r'<tr><th scope="row">[^<]*</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>', table
    )
    assert len(days) == 30
    today_local = timezone.now().astimezone(NEW_YORK).date()
    per_day = {}
    for offset, (n, appointments, transfers) in enumerate(days):
        per_day[today_local - dt.timedelta(days=29 - offset)] = (
            int(n),
            int(appointments),
            int(transfers),
        )
    assert sum(v[0] for v in per_day.values()) == 5
    assert sum(v[1] for v in per_day.values()) == 2
    assert sum(v[2] for v in per_day.values()) == 1
    assert page.count('<rect class="bar"') == 30
    assert '<svg class="chart"' in page and "<polyline" in page
    assert "Message the care team" in page  # intents by their names


def test_an_empty_page_says_so(provider_client) -> None:
    page = provider_client.get(URL).content.decode()
    assert figure(page, "total") == "0"
    assert "No interactions in the last 30 days." in page and "Nothing to review." in page


# --- The access log -----------------------------------------------------------------------


def test_showing_a_patients_words_is_logged_as_a_phi_access(
    world, provider_client, provider, patient
) -> None:
    provider_client.get(URL)
    access = PHIAccess.objects.get()
    assert (access.accessor, access.patient, access.resource) == (
        provider.user,
        patient,
        "assistant",
    )


def test_a_patient_opened_under_emergency_access_is_logged_as_an_emergency(
    world, provider_client, provider, patient, other_patient
) -> None:
    # Riley is not in Anika's care: her words show through a grant, and the log says so.
    emergency_access_grant(
        provider=provider, patient=other_patient, reason="Unconscious in the waiting room"
    )
    provider_client.get(URL)
    logged = set(
        PHIAccess.objects.filter(accessor=provider.user).values_list("patient", "emergency")
    )
    assert logged == {(patient.pk, False), (other_patient.pk, True)}


def test_a_grant_for_a_patient_in_care_is_not_logged_as_an_emergency(
    world, provider_client, provider, patient
) -> None:
    emergency_access_grant(provider=provider, patient=patient, reason="Checking while on call")
    provider_client.get(URL)
    logged = set(
        PHIAccess.objects.filter(accessor=provider.user).values_list("patient", "emergency")
    )
    assert logged == {(patient.pk, False)}


def test_staff_reading_patients_words_is_logged_per_patient(
    world, staff_client, admin_user, patient, other_patient
) -> None:
    staff_client.get(URL)
    logged = set(PHIAccess.objects.filter(accessor=admin_user).values_list("patient", "resource"))
    assert logged == {(patient.pk, "assistant"), (other_patient.pk, "assistant")}


# --- Queries ------------------------------------------------------------------------------


def test_the_page_reads_a_fixed_number_of_queries(
    patient, provider, other_patient, provider_client, django_assert_max_num_queries
) -> None:
    def add(count: int) -> None:
        for n in range(count):
            log(patient.user, "book_appointment", 0.3 + (n % 5) / 10, days_ago=n % 30)
            log(provider.user, "schedule_today", 0.9, days_ago=n % 7)

    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert provider_client.get(URL).status_code == 200
        return len(queries)

    provider_client.get(URL)  # the session and navigation warmed up
    add(1)  # 2 interactions
    few = measure()
    add(9)  # 20 interactions
    with django_assert_max_num_queries(20):
        many = measure()
    assert few == many


def test_the_daily_chart_scales_bars_to_a_round_top() -> None:
    from assistant.charts import daily_chart, intent_chart
    from assistant.selectors import DayCount, IntentCount

    today = dt.date(2025, 3, 12)
    days = [
        DayCount(
            day=today - dt.timedelta(days=29 - n), interactions=n % 4, appointments=0, transfers=0
        )
        for n in range(30)
    ]
    chart = daily_chart(days)
    assert len(chart.bars) == 30
    tallest = max(bar.height for bar in chart.bars)
    # 3 interactions on the busiest days, on an axis that tops at 5 (0, 5: whole numbers only).
    assert [tick.label for tick in chart.y_ticks] == ["0", "5"]
    assert tallest == pytest.approx((chart.baseline - 12) * 3 / 5, abs=0.2)
    assert chart.x_ticks[-1].label == "12 Mar"
    bars = intent_chart(
        [IntentCount("book_appointment", 4, 0.8), IntentCount("greeting", 1, 0.2)]
    ).bars
    assert bars[0].width == pytest.approx(4 * bars[1].width, abs=0.5)
    assert [b.percent for b in bars] == [80, 20]


# --- Outcomes -----------------------------------------------------------------------------


def test_the_outcome_mix_and_the_rate_of_conversations_that_completed_a_task(
    patient, provider, provider_client
) -> None:
    import uuid

    booked, asked, transferred, emergency = (uuid.uuid4() for _ in range(4))
    log(patient.user, "book_appointment", 0.9, outcome="clarification", conversation_id=booked)
    log(patient.user, "book_appointment", 1.0, outcome="booked", conversation_id=booked)
    log(patient.user, "cancel_appointment", 0.6, outcome="clarification", conversation_id=asked)
    log(patient.user, "cancel_appointment", 1.0, outcome="none", conversation_id=asked)
    log(patient.user, "contact_provider", 1.0, outcome="transferred", conversation_id=transferred)
    log(patient.user, "emergency", 1.0, outcome="emergency_advised", conversation_id=emergency)
    page = provider_client.get(URL).content.decode()
    # 2 of the 4 conversations completed a task (a booking, a transfer).
    assert figure(page, "completion") == "50%"
    assert "2 of 4" in page
    rows = dict(re.findall(r'data-outcome="(\w+)"><th scope="row">[^<]+</th><td>(\d+)</td>', page))
    assert rows == {
        "booked": "1",
        "cancelled": "0",
        "rescheduled": "0",
        "refill_requested": "0",
        "transferred": "1",
        "emergency_advised": "1",
        "clarification": "2",
        "answered": "0",
        "none": "1",
    }


def test_an_unknown_outcome_is_refused_by_the_database(patient) -> None:
    from django.db import IntegrityError, transaction

    from assistant.models import AIInteraction

    row = log(patient.user, "greeting", 0.5)
    with pytest.raises(IntegrityError), transaction.atomic():
        AIInteraction.objects.filter(pk=row.pk).update(outcome="made_up")


def test_chart_markup_is_escaped_as_format_html_does() -> None:
    from django.utils.html import format_html_join
    from django.utils.safestring import mark_safe

    from assistant.charts import _lines

    template = '<rect x="{}" y="{}"><title>{}</title></rect>'
    rows = [(1.5, 'say "hi" & <go>', "O'Brien <b>"), (7, "", mark_safe("<em>!</em>"))]
    assert _lines(template, rows) == format_html_join("\n", template, rows)
