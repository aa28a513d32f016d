"""Assistant interactions in the admin: a record of what happened, read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import user_create
from assistant.models import AIInteraction
from assistant.services import interaction_log
from conftest import login_verified
from patients.models import PatientProfile
from tests.admin_checks import query_count

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:assistant_aiinteraction_changelist"
AT = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    # The admin site demands a verified second factor; this signs in with one.
    return login_verified(client, admin_user)


@pytest.fixture
def interaction(patient: PatientProfile) -> AIInteraction:
    return interaction_log(
        user=patient.user,
        input_text="Book me in with Dr Patel next Tuesday",
        response_text="You are booked for Tuesday at 09:30.",
        detected_intent="book_appointment",
        confidence_score=0.92,
        resulted_in_appointment=True,
        at=AT,
    )


def _make_interactions(count: int, *, start: int = 0) -> list[AIInteraction]:
    # Each interaction by its own user, so a missing select_related costs a
    # query per row and shows up in the count.
    return [
        interaction_log(
            user=user_create(
                email=f"speaker{n}@example.org",
                full_name=f"Speaker Person{n:03d}",
                role=Role.PATIENT,
            ),
            input_text=f"Question {n}",
            response_text=f"Answer {n}",
            detected_intent="ask_question",
            confidence_score=0.5,
            at=AT + dt.timedelta(minutes=n),
        )
        for n in range(start, start + count)
    ]


def test_changelist_lists_interactions(admin_session: Client, interaction: AIInteraction) -> None:
    response = admin_session.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Pat Jones" in page
    assert "book_appointment" in page
    assert "92%" in page


def test_changelist_queries_do_not_grow_with_interactions(admin_session: Client) -> None:
    url = reverse(CHANGELIST)
    _make_interactions(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    few, _ = query_count(admin_session, url)
    _make_interactions(27, start=3)
    many, page = query_count(admin_session, url)

    assert AIInteraction.objects.count() == 30
    assert "Speaker Person029" in page
    assert many == few


def test_change_page_shows_the_exchange_read_only(
    admin_session: Client, interaction: AIInteraction
) -> None:
    response = admin_session.get(
        reverse("admin:assistant_aiinteraction_change", args=[interaction.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Book me in with Dr Patel next Tuesday" in page
    assert "You are booked for Tuesday at 09:30." in page
    assert 'name="input_text"' not in page
    assert 'name="_save"' not in page


def test_search_by_user_and_intent(
    admin_session: Client, interaction: AIInteraction, other_patient
) -> None:
    interaction_log(
        user=other_patient.user,
        input_text="Who is my doctor?",
        response_text="Dr Other.",
        detected_intent="provider_info",
        confidence_score=0.7,
    )

    for term, expected, absent in [
        ("pat.jones@", "Pat Jones", "Riley Other"),
        ("Riley", "Riley Other", "Pat Jones"),
        ("book_app", "Pat Jones", "Riley Other"),
    ]:
        response = admin_session.get(reverse(CHANGELIST), {"q": term})

        page = response.content.decode()
        assert response.context["cl"].result_count == 1, term
        assert expected in page
        assert absent not in page


def test_interactions_cannot_be_added_changed_or_deleted(
    admin_session: Client, interaction: AIInteraction
) -> None:
    add = admin_session.get(reverse("admin:assistant_aiinteraction_add"))
    change = admin_session.post(
        reverse("admin:assistant_aiinteraction_change", args=[interaction.pk]),
        {"detected_intent": "rewritten", "confidence_score": "0.1"},
    )
    delete = admin_session.post(
        reverse("admin:assistant_aiinteraction_delete", args=[interaction.pk]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    interaction.refresh_from_db()
    assert interaction.detected_intent == "book_appointment"
    assert AIInteraction.objects.filter(pk=interaction.pk).exists()
