"""Messages in the admin: visible for oversight, never added, edited or deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import user_create
from conftest import login_verified
from messaging.models import Message
from messaging.services import message_create
from patients.models import PatientProfile
from providers.models import ProviderProfile
from tests.admin_checks import query_count

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:messaging_message_changelist"
SENT = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    # The admin site demands a verified second factor; this signs in with one.
    return login_verified(client, admin_user)


@pytest.fixture
def message(patient: PatientProfile, provider: ProviderProfile) -> Message:
    return message_create(
        sender=patient.user,
        receiver=provider.user,
        content="My refill request is for the blue inhaler.",
        sent_at=SENT,
    )


def _make_messages(count: int, *, start: int = 0) -> list[Message]:
    # Each message between its own two people, so a missing select_related
    # costs queries per row and shows up in the count.
    return [
        message_create(
            sender=user_create(
                email=f"writer{n}@example.org", full_name=f"Writer Person{n:03d}", role=Role.PATIENT
            ),
            receiver=user_create(
                email=f"reader{n}@example.org",
                full_name=f"Reader Person{n:03d}",
                role=Role.PROVIDER,
            ),
            content=f"Message {n}",
            sent_at=SENT + dt.timedelta(minutes=n),
        )
        for n in range(start, start + count)
    ]


def test_changelist_lists_who_wrote_to_whom(admin_session: Client, message: Message) -> None:
    response = admin_session.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Pat Jones" in page
    assert "Anika Patel" in page
    # The content stays on the message's own page.
    assert "blue inhaler" not in page


def test_changelist_queries_do_not_grow_with_messages(admin_session: Client) -> None:
    url = reverse(CHANGELIST)
    _make_messages(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    few, _ = query_count(admin_session, url)
    _make_messages(27, start=3)
    many, page = query_count(admin_session, url)

    assert Message.objects.count() == 30
    assert "Writer Person029" in page
    assert "Reader Person029" in page
    assert many == few


def test_change_page_shows_the_message_read_only(admin_session: Client, message: Message) -> None:
    response = admin_session.get(reverse("admin:messaging_message_change", args=[message.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "My refill request is for the blue inhaler." in page
    assert 'name="content"' not in page
    assert 'name="_save"' not in page


def test_search_by_sender_or_receiver(
    admin_session: Client, message: Message, other_patient, other_provider
) -> None:
    message_create(
        sender=other_provider.user, receiver=other_patient.user, content="Results are in."
    )

    for term, expected, absent in [
        ("pat.jones@", "Pat Jones", "Riley Other"),
        ("Omar", "Riley Other", "Pat Jones"),
        ("riley.other@", "Omar Other", "Anika Patel"),
    ]:
        response = admin_session.get(reverse(CHANGELIST), {"q": term})

        page = response.content.decode()
        assert response.context["cl"].result_count == 1, term
        assert expected in page
        assert absent not in page


def test_messages_cannot_be_added(admin_session: Client) -> None:
    response = admin_session.get(reverse("admin:messaging_message_add"))

    assert response.status_code == 403


def test_messages_cannot_be_changed(admin_session: Client, message: Message) -> None:
    response = admin_session.post(
        reverse("admin:messaging_message_change", args=[message.pk]),
        {
            "sender": message.sender.pk,
            "receiver": message.receiver.pk,
            "content": "Rewritten",
            "sent_at_0": "2030-03-04",
            "sent_at_1": "09:00:00",
        },
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.content == "My refill request is for the blue inhaler."


def test_messages_cannot_be_deleted(admin_session: Client, message: Message) -> None:
    response = admin_session.post(
        reverse("admin:messaging_message_delete", args=[message.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()
