"""Transfer to a person: the conversation goes to the provider as a message, pushed in real time,
and the patient is taken to that conversation."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from assistant.models import AIInteraction
from assistant.tests.helpers import Conversation
from conftest import login_verified
from healthcare.asgi import application
from messaging.models import Message

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


def _conversation_url(provider) -> str:
    return reverse("messaging:conversation", args=[provider.user.pk])


@pytest.mark.django_db
def test_the_message_carries_the_conversation_and_the_patient_is_sent_to_it(
    patient, provider
) -> None:
    chat = Conversation(patient.user)
    chat.say("what are your hours")
    chat.say("i want to talk to my doctor")
    reply = chat.say("my rash is spreading to my arms")
    assert "with our conversation so far" in reply.text
    assert not Message.objects.exists()
    shown = reply.preview

    reply = chat.say("yes")

    message = Message.objects.get()
    assert (message.sender, message.receiver) == (patient.user, provider.user)
    lines = message.content.splitlines()
    assert lines[0] == "my rash is spreading to my arms"
    assert "Conversation with the assistant:" in lines
    assert "Pat Jones: what are your hours" in lines
    assert any(line.startswith("Assistant: ") and "Building A" in line for line in lines)
    # Exactly what was shown for confirmation, ending with the message's own turn.
    assert message.content == shown
    assert lines[-1] == "Pat Jones: my rash is spreading to my arms"
    assert reply.navigate == _conversation_url(provider)
    assert [link.url for link in reply.links] == [_conversation_url(provider)]
    row = AIInteraction.objects.order_by("-interaction_timestamp").first()
    assert (row.detected_intent, row.resulted_in_provider_transfer) == ("contact_provider", True)
    assert AIInteraction.objects.filter(resulted_in_provider_transfer=True).count() == 1


@pytest.mark.django_db
def test_older_conversations_are_not_passed_on(patient, provider) -> None:
    import datetime as dt

    from django.utils import timezone

    from assistant.services import interaction_log

    interaction_log(
        user=patient.user,
        input_text="something from last week",
        response_text="an old answer",
        detected_intent="greeting",
        confidence_score=0.9,
        at=timezone.now() - dt.timedelta(days=7),
    )
    chat = Conversation(patient.user)
    chat.say("tell doctor patel that i will be late")
    chat.say("yes")
    assert "last week" not in Message.objects.get().content


@pytest.mark.django_db
def test_only_the_current_conversation_goes_not_other_sign_ins_the_same_day(
    patient, provider, other_provider
) -> None:
    from providers.services import relationship_activate

    relationship_activate(provider=other_provider, patient=patient)
    earlier = Conversation(patient.user)  # an earlier sign-in, minutes ago
    earlier.say("what are your hours")
    earlier.say("book with doctor other tomorrow")
    chat = Conversation(patient.user)  # signed in again: a new conversation
    chat.say("what prescriptions do i have")
    reply = chat.say("tell doctor patel that my rash is worse")
    assert "other" not in reply.preview.lower() and "hours" not in reply.preview
    assert "what prescriptions do i have" in reply.preview
    chat.say("yes")
    content = Message.objects.get().content
    assert content == reply.preview
    assert "other" not in content.lower()


@pytest.mark.django_db
def test_identifiers_are_removed_from_what_a_transfer_sends(patient, provider) -> None:
    patient.insurance_number = "INS-4400-771"
    patient.save(update_fields=["insurance_number"])
    chat = Conversation(patient.user)
    chat.say("what are your hours? my ssn is 123 45 6789 and my card is 4111 1111 1111 1111")
    reply = chat.say(
        "tell doctor patel that my insurance is ins 4400 771, one two three four five six seven eight nine"
    )
    assert "[removed]" in reply.preview
    chat.say("yes")
    content = Message.objects.get().content
    for secret in ("6789", "4111", "4400", "seven eight nine"):
        assert secret not in content
    stored = " ".join(AIInteraction.objects.values_list("input_text", flat=True))
    assert "6789" not in stored and "4400" not in stored and "[removed]" in stored


@pytest.mark.django_db
def test_over_http_the_reply_navigates_and_without_javascript_links(
    patient_client, provider
) -> None:
    say = reverse("assistant:utterance-text")
    patient_client.post(say, {"text": "send a message to doctor patel"})
    patient_client.post(say, {"text": "please call me back"})
    reply = patient_client.post(say, {"text": "yes"}, HTTP_ACCEPT="application/json").json()[
        "reply"
    ]
    assert reply["navigate"] == _conversation_url(provider)

    # Without JavaScript: the page after the redirect shows the link to the conversation.
    patient_client.post(say, {"text": "send a message to doctor patel"})
    patient_client.post(say, {"text": "one more thing"})
    response = patient_client.post(say, {"text": "yes"})
    assert response.status_code == 302
    page = patient_client.get(response["Location"]).content.decode()
    assert f'href="{_conversation_url(provider)}"' in page
    assert "Open your conversation with Anika Patel" in page
    # And the conversation itself shows what was sent.
    conversation = patient_client.get(_conversation_url(provider)).content.decode()
    assert "please call me back" in conversation and "one more thing" in conversation


@pytest.mark.django_db
def test_care_ended_before_yes_is_refused_by_messaging_in_words(patient, provider) -> None:
    from providers.models import ProviderPatient
    from providers.services import relationship_deactivate

    chat = Conversation(patient.user)
    chat.say("send a message to doctor patel")
    assert chat.say("can you call me").awaiting == "confirm"
    relationship_deactivate(link=ProviderPatient.objects.get(provider=provider, patient=patient))
    reply = chat.say("yes")
    assert "only message providers who are currently caring for you" in reply.text
    assert reply.navigate is None and not reply.resulted_in_provider_transfer
    assert not Message.objects.exists()
    assert not AIInteraction.objects.filter(resulted_in_provider_transfer=True).exists()


@pytest.mark.django_db
def test_emergency_transfer_sends_the_emergency_and_opens_the_conversation(
    patient, provider
) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("my husband collapsed and is not breathing")
    assert reply.emergency and "911" in reply.text
    reply = chat.say("yes, tell my care team")
    message = Message.objects.get()
    assert "not breathing" in message.content and "Call 911" in message.content
    assert reply.navigate == _conversation_url(provider) and reply.resulted_in_provider_transfer


# --- Real time ----------------------------------------------------------------------------


@database_sync_to_async
def _session(user, *, verified: bool) -> str:
    client = Client()
    if verified:
        login_verified(client, user)
    else:
        client.force_login(user)
    return client.session.session_key


async def _socket(path: str, user, *, verified: bool = False) -> WebsocketCommunicator:
    key = await _session(user, verified=verified)
    communicator = WebsocketCommunicator(
        application, path, headers=[*HEADERS, (b"cookie", f"sessionid={key}".encode())]
    )
    connected, code = await communicator.connect()
    assert connected, code
    return communicator


async def _reply(communicator: WebsocketCommunicator) -> dict:
    while True:
        message = await communicator.receive_json_from(timeout=30)
        if message["type"] == "reply":
            return message["reply"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_provider_is_notified_on_their_socket(
    patient, provider, settings, no_voice
) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    provider_socket = await _socket("/ws/messages/", provider.user, verified=True)
    assistant = await _socket("/ws/assistant/", patient.user)
    assert (await assistant.receive_json_from(timeout=10))["type"] == "ready"

    await assistant.send_json_to({"type": "text", "text": "i need to ask my doctor something"})
    assert (await _reply(assistant))["awaiting"] == "slot"
    await assistant.send_json_to({"type": "text", "text": "is it safe to take ibuprofen"})
    assert (await _reply(assistant))["awaiting"] == "confirm"
    assert await provider_socket.receive_nothing(timeout=0.2)
    await assistant.send_json_to({"type": "text", "text": "yes"})
    reply = await _reply(assistant)

    pushed = await provider_socket.receive_json_from(timeout=10)
    assert pushed["type"] == "message.new"
    assert pushed["message"]["sender_id"] == str(patient.user.pk)
    assert pushed["message"]["content"].startswith("is it safe to take ibuprofen")
    assert "Conversation with the assistant:" in pushed["message"]["content"]
    assert pushed["unread"] == 1
    assert reply["navigate"] == _conversation_url(provider)
    stored = await database_sync_to_async(Message.objects.get)()
    assert str(stored.pk) == pushed["message"]["id"]
    await assistant.disconnect()
    await provider_socket.disconnect()
