"""Messaging pages: who may open them, what they show, what they write, and what they cost."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import login_verified
from messaging.models import MESSAGE_MAX_LENGTH, Message
from messaging.selectors import CONVERSATION_PAGE_SIZE
from messaging.services import message_create, message_mark_read
from patients.models import EmergencyAccess, PHIAccess
from providers.services import relationship_deactivate

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)
JSON = {"HTTP_ACCEPT": "application/json"}


def _page(response) -> str:
    return response.content.decode()


def _with(user) -> str:
    return reverse("messaging:conversation", kwargs={"user_id": user.pk})


def _read_url(user) -> str:
    return reverse("messaging:conversation-read", kwargs={"user_id": user.pk})


# --- Who may open what ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["messaging:inbox", "messaging:compose"])
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_conversation_is_sent_to_sign_in(client: Client, provider) -> None:
    response = client.get(_with(provider.user))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", ["messaging:inbox", "messaging:compose"])
def test_staff_without_a_portal_are_refused(staff_client: Client, name: str) -> None:
    assert staff_client.get(reverse(name)).status_code == 403


def test_provider_without_the_second_factor_must_verify_first(client: Client, provider) -> None:
    client.force_login(provider.user)
    response = client.get(reverse("messaging:inbox"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa-setup")


def test_a_strangers_conversation_is_not_found(
    patient_client: Client, other_provider, other_patient
) -> None:
    message_create(sender=other_patient.user, receiver=other_provider.user, content="Private")
    for stranger in (other_provider.user, other_patient.user):
        assert patient_client.get(_with(stranger)).status_code == 404
        assert patient_client.post(_with(stranger), {"content": "Hello"}).status_code == 404
        assert patient_client.post(_read_url(stranger)).status_code == 404
    assert Message.objects.count() == 1
    assert Message.objects.get().read is False


def test_provider_cannot_open_a_former_patients_messages(
    provider_client: Client, provider, patient
) -> None:
    message_create(sender=patient.user, receiver=provider.user, content="Old news")
    relationship_deactivate(link=provider.patient_links.get(patient=patient))
    assert provider_client.get(_with(patient.user)).status_code == 404


def test_owners_open_every_page(
    patient_client: Client, provider_client: Client, patient, provider
) -> None:
    for client, other in ((patient_client, provider), (provider_client, patient)):
        for url in (reverse("messaging:inbox"), reverse("messaging:compose"), _with(other.user)):
            assert client.get(url).status_code == 200, url


# --- Inbox ----------------------------------------------------------------------------------


def test_inbox_lists_conversations_newest_first_with_unread_counts_and_no_content(
    provider_client: Client, provider, patient, other_provider
) -> None:
    message_create(sender=patient.user, receiver=provider.user, content="Secret one", sent_at=T0)
    message_create(
        sender=patient.user,
        receiver=provider.user,
        content="Secret two",
        sent_at=T0 + dt.timedelta(minutes=1),
    )
    message_create(
        sender=provider.user,
        receiver=other_provider.user,
        content="Colleague",
        sent_at=T0 + dt.timedelta(hours=1),
    )

    page = _page(provider_client.get(reverse("messaging:inbox")))

    names = re.findall(r"data-partner-name>([^<]+)</a>", page)
    assert names == ["Omar Other", "Pat Jones"]
    assert "2 unread" in page
    assert "Secret one" not in page and "Colleague" not in page
    # The navigation badge shows the same count.
    assert '<span class="badge" data-badge="messages">2</span>' in page


def test_the_inbox_shows_windows_of_conversations_newest_first(
    provider_client: Client, provider, make_patient_of, monkeypatch
) -> None:
    monkeypatch.setattr("messaging.views.INBOX_PAGE_SIZE", 2)
    people = [make_patient_of(provider, name=f"Window Person{n}") for n in range(3)]
    for n, person in enumerate(people):
        message_create(
            sender=person.user,
            receiver=provider.user,
            content="Hello",
            sent_at=T0 + dt.timedelta(minutes=n),
        )

    first = _page(provider_client.get(reverse("messaging:inbox")))
    assert re.findall(r"data-partner-name>([^<]+)</a>", first) == [
        "Window Person2",
        "Window Person1",
    ]
    assert 'data-live="true"' in first and ">Newest<" not in first
    older = re.search(r'href="(\?before=[^"]+)">Older<', first)
    assert older is not None

    second = _page(provider_client.get(reverse("messaging:inbox") + html.unescape(older[1])))
    assert re.findall(r"data-partner-name>([^<]+)</a>", second) == ["Window Person0"]
    assert 'data-live="false"' in second and ">Older<" not in second
    assert f'href="{reverse("messaging:inbox")}">Newest<' in second
    # A cursor that is not one shows the newest window.
    again = _page(provider_client.get(reverse("messaging:inbox") + "?before=nonsense"))
    assert re.findall(r"data-partner-name>([^<]+)</a>", again) == [
        "Window Person2",
        "Window Person1",
    ]


def test_the_mark_read_form_works_without_javascript(
    patient_client: Client, patient, provider
) -> None:
    message_create(sender=provider.user, receiver=patient.user, content="Results are in")
    response = patient_client.post(_read_url(provider.user))
    assert response.status_code == 302
    assert response["Location"] == reverse("messaging:inbox")
    assert Message.objects.get().read is True
    page = _page(patient_client.get(reverse("messaging:inbox")))
    assert "data-unread" not in page
    # Nothing unread: the badge is there for live updates, but hidden and empty.
    assert '<span class="badge" data-badge="messages" hidden></span>' in page


# --- Compose ------------------------------------------------------------------------------------


def test_compose_offers_only_the_people_one_may_write_to(
    patient_client: Client, patient, provider, other_provider
) -> None:
    page = _page(patient_client.get(reverse("messaging:compose")))
    options = re.findall(r'<option value="([0-9a-f-]+)"', page)
    assert options == [str(provider.user.pk)]
    assert "Anika Patel, MD (Family Medicine)" in page
    assert '<label for="id_recipient">' in page and '<label for="id_content">' in page


def test_compose_sends_and_opens_the_conversation(
    patient_client: Client, patient, provider
) -> None:
    response = patient_client.post(
        reverse("messaging:compose"),
        {"recipient": provider.user.pk, "content": "Can I move my visit?"},
    )
    assert response.status_code == 302
    assert response["Location"] == _with(provider.user)
    message = Message.objects.get()
    assert (message.sender, message.receiver, message.content) == (
        patient.user,
        provider.user,
        "Can I move my visit?",
    )


def test_compose_to_someone_else_is_refused_with_the_reason(
    patient_client: Client, other_provider
) -> None:
    response = patient_client.post(
        reverse("messaging:compose"), {"recipient": other_provider.user.pk, "content": "Hello"}
    )
    assert response.status_code == 200
    page = _page(response)
    assert (
        'id="id_recipient_error">You can only message providers who are currently caring for you.'
        in page
    )
    assert not Message.objects.exists()


def test_compose_with_an_empty_or_long_message_says_so_next_to_the_field(
    provider_client: Client, patient
) -> None:
    for content, error in (
        ("   ", "This field is required."),
        (
            "x" * (MESSAGE_MAX_LENGTH + 1),
            f"A message can be at most {MESSAGE_MAX_LENGTH} characters",
        ),
    ):
        response = provider_client.post(
            reverse("messaging:compose"), {"recipient": patient.user.pk, "content": content}
        )
        assert response.status_code == 200
        assert re.search(r'id="id_content_error">' + re.escape(error), _page(response))
    assert not Message.objects.exists()


def test_compose_can_preselect_the_recipient(provider_client: Client, patient) -> None:
    page = _page(provider_client.get(reverse("messaging:compose") + f"?to={patient.user.pk}"))
    assert f'<option value="{patient.user.pk}" selected>' in page
    assert provider_client.get(reverse("messaging:compose") + "?to=not-a-uuid").status_code == 200


# --- One conversation -------------------------------------------------------------------------------


def test_opening_a_conversation_marks_the_other_sides_messages_read(
    provider_client: Client, patient_client: Client, patient, provider
) -> None:
    question = message_create(sender=patient.user, receiver=provider.user, content="Question")
    answer = message_create(sender=provider.user, receiver=patient.user, content="Answer")

    page = _page(provider_client.get(_with(patient.user)))

    question.refresh_from_db()
    answer.refresh_from_db()
    assert question.read and question.read_at is not None
    assert not answer.read  # the provider's own message waits for the patient
    assert "Question" in page and "Answer" in page
    # The sender sees "read" appear.
    patient_page = _page(patient_client.get(_with(provider.user)))
    status = re.search(
        rf'id="m-{question.pk}".*?data-status data-read="(\w+)">(\w+)', patient_page, re.S
    )
    assert status.groups() == ("true", "Read")


def test_after_opening_a_conversation_the_badge_counts_the_other_peoples_messages(
    provider_client: Client, patient, provider, make_patient_of
) -> None:
    other = make_patient_of(provider, name="Olga Other")
    message_create(sender=patient.user, receiver=provider.user, content="Read now")
    message_create(sender=other.user, receiver=provider.user, content="Still waiting")
    message_create(sender=other.user, receiver=provider.user, content="Still waiting too")

    page = _page(provider_client.get(_with(patient.user)))

    assert '<span class="badge" data-badge="messages">2</span>' in page
    page = _page(provider_client.get(_with(other.user)))
    assert '<span class="badge" data-badge="messages" hidden></span>' in page


def test_a_message_is_sent_by_a_plain_form_post(patient_client: Client, patient, provider) -> None:
    response = patient_client.post(_with(provider.user), {"content": "First line\r\nSecond line"})
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_with(provider.user)}#m-{message.pk}"
    page = _page(patient_client.get(_with(provider.user)))
    # Line breaks are kept (shown by white-space: pre-wrap), nothing is turned into markup.
    assert '<div class="message-body">First line\nSecond line</div>' in page


def test_the_page_script_gets_json_back(patient_client: Client, patient, provider) -> None:
    response = patient_client.post(_with(provider.user), {"content": "Via fetch"}, **JSON)
    assert response.status_code == 201
    payload = response.json()["message"]
    message = Message.objects.get()
    assert payload["id"] == str(message.pk)
    assert payload["content"] == "Via fetch"
    assert payload["sender_id"] == str(patient.user.pk)
    assert set(payload) == {
        "id",
        "sender_id",
        "receiver_id",
        "sender_name",
        "content",
        "sent_at",
        "sent_at_display",
        "read",
        "read_at",
        "read_at_display",
    }

    refused = patient_client.post(_with(provider.user), {"content": " "}, **JSON)
    assert refused.status_code == 400
    assert refused.json()["errors"]["content"][0]["message"] == "This field is required."
    assert Message.objects.count() == 1


def test_content_is_always_escaped(
    patient_client: Client, provider_client: Client, patient, provider
) -> None:
    payload = '<script>window.__xss=1</script><img src=x onerror="alert(1)">&amp;'
    patient_client.post(_with(provider.user), {"content": payload})
    page = _page(provider_client.get(_with(patient.user)))
    assert payload not in page
    assert f'<div class="message-body">{html.escape(payload)}</div>' in page


def test_a_former_patient_keeps_reading_but_may_not_reply(
    patient_client: Client, patient, provider
) -> None:
    message_create(sender=provider.user, receiver=patient.user, content="Goodbye and good luck")
    relationship_deactivate(link=provider.patient_links.get(patient=patient))

    page = _page(patient_client.get(_with(provider.user)))
    assert "Goodbye and good luck" in page
    assert 'id="message-form"' not in page
    assert "You can only message providers who are currently caring for you." in page

    response = patient_client.post(_with(provider.user), {"content": "Still there?"}, **JSON)
    assert response.status_code == 400
    assert response.json()["errors"]["content"][0]["message"] == (
        "You can only message providers who are currently caring for you."
    )
    assert Message.objects.count() == 1


def test_earlier_messages_are_a_link_away(provider_client: Client, patient, provider) -> None:
    sent = [
        message_create(
            sender=patient.user,
            receiver=provider.user,
            content=f"note {n:02d}",
            sent_at=T0 + dt.timedelta(minutes=n),
        )
        for n in range(CONVERSATION_PAGE_SIZE + 5)
    ]
    page = _page(provider_client.get(_with(patient.user)))
    assert "note 05" in page and "note 04" not in page
    assert f"note {CONVERSATION_PAGE_SIZE + 4:02d}" in page
    assert f'href="?before={sent[5].pk}"' in page
    earlier = _page(provider_client.get(_with(patient.user) + f"?before={sent[5].pk}"))
    assert "note 00" in earlier and "note 04" in earlier and "note 05" not in earlier
    assert 'data-live="false"' in earlier


def test_reading_a_patients_messages_under_emergency_access_is_flagged(
    patient, other_provider
) -> None:
    message_create(sender=patient.user, receiver=other_provider.user, content="Earlier question")
    EmergencyAccess.objects.create(
        provider=other_provider,
        patient=patient,
        reason="Unconscious in the emergency room",
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    client = login_verified(Client(), other_provider.user)
    assert client.get(_with(patient.user)).status_code == 200
    access = PHIAccess.objects.get()
    assert (access.accessor, access.patient, access.emergency) == (
        other_provider.user,
        patient,
        True,
    )


def test_a_provider_reading_a_patients_messages_is_logged(
    provider_client: Client, patient_client: Client, patient, provider, other_provider
) -> None:
    last = message_create(sender=patient.user, receiver=provider.user, content="Rash again")
    provider_client.get(_with(patient.user), REMOTE_ADDR="10.0.0.7")
    access = PHIAccess.objects.get()
    assert (
        access.accessor,
        access.patient,
        access.resource,
        access.object_id,
        access.ip_address,
        access.emergency,
    ) == (
        provider.user,
        patient,
        "messages",
        str(last.pk),
        "10.0.0.7",
        False,
    )
    # The patient's own reading and provider-to-provider messages are not PHI accesses.
    patient_client.get(_with(provider.user))
    provider_client.get(_with(other_provider.user))
    assert PHIAccess.objects.count() == 1


# --- Query counts are pinned and do not grow with the data -------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


# Session, user, second factor, role check, the page's own queries, the badge, the session save.
INBOX_QUERIES = 11
CONVERSATION_QUERIES = 20


def test_inbox_costs_the_same_for_few_and_many_conversations(
    provider, patient, make_patient_of, django_assert_max_num_queries
) -> None:
    client = login_verified(Client(), provider.user)
    message_create(sender=patient.user, receiver=provider.user, content="one")
    with django_assert_max_num_queries(INBOX_QUERIES):
        few = _queries(client, reverse("messaging:inbox"))
    for n in range(30):
        other = make_patient_of(provider)
        for k in range(3):
            message_create(sender=other.user, receiver=provider.user, content=f"{n}-{k}")
    with django_assert_max_num_queries(INBOX_QUERIES):
        many = _queries(client, reverse("messaging:inbox"))
    assert few == many


def test_conversation_costs_the_same_for_few_and_many_messages(
    provider, patient, django_assert_max_num_queries
) -> None:
    client = login_verified(Client(), provider.user)
    url = _with(patient.user)

    def add(count: int, *, unread: int) -> None:
        for n in range(count):
            question = message_create(sender=patient.user, receiver=provider.user, content=f"q{n}")
            if n >= unread:
                message_mark_read(message=question)
            message_create(sender=provider.user, receiver=patient.user, content=f"a{n}")

    add(1, unread=1)
    with django_assert_max_num_queries(CONVERSATION_QUERIES):
        few = _queries(client, url)
    # More than a page of messages, and 60 unread marked in one go. (SQLite
    # splits an INSERT at 999 parameters, 66 audit rows; PostgreSQL never does.)
    add(120, unread=60)
    with django_assert_max_num_queries(CONVERSATION_QUERIES):
        many = _queries(client, url)
    assert few == many
    assert not Message.objects.filter(receiver=provider.user, read=False).exists()


def test_the_nav_badge_is_one_query_and_only_when_rendered(
    patient_client: Client, patient, provider
) -> None:
    message_create(sender=provider.user, receiver=patient.user, content="New")
    page = _page(patient_client.get(reverse("messaging:compose")))
    assert '<span class="badge" data-badge="messages">1</span>' in page
    with CaptureQueriesContext(connection) as captured:
        patient_client.post(_read_url(provider.user))
    assert not any(
        "COUNT(*)" in q["sql"] and '"receiver_id"' in q["sql"] and '"read"' in q["sql"]
        for q in captured
    )


def test_seeded_read_state_shows_when_it_was_read(
    patient_client: Client, patient, provider
) -> None:
    mine = message_create(
        sender=patient.user, receiver=provider.user, content="Sent earlier", sent_at=T0
    )
    message_mark_read(message=mine, at=T0 + dt.timedelta(hours=2))
    page = _page(patient_client.get(_with(provider.user)))
    # In the reader's own zone (the practice's, New York, for a patient who chose none), named.
    assert "Read Mon 4 Mar 2030, 06:00 EST" in page
