"""The assistant's page, typed questions and uploaded recordings, for both portals."""

from __future__ import annotations

import io
import wave

import pytest
from django.urls import reverse

from assistant.models import AIInteraction
from assistant.services import interaction_log
from assistant.tests.conftest import KOREAN_SENTENCES

pytestmark = pytest.mark.django_db

CHAT = reverse("assistant:chat")
SAY = reverse("assistant:utterance-text")
RECORDING = reverse("assistant:utterance-audio")
JSON = {"HTTP_ACCEPT": "application/json"}


def _wav(frames: bytes, *, rate: int = 16000, channels: int = 1) -> io.BytesIO:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    buffer.seek(0)
    buffer.name = "question.wav"
    return buffer


@pytest.mark.parametrize("url", [CHAT])
def test_anonymous_is_sent_to_sign_in(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(SAY, {"text": "hello"}).status_code == 302
    assert not AIInteraction.objects.exists()


def test_staff_without_a_portal_is_forbidden(staff_client) -> None:
    assert staff_client.get(CHAT).status_code == 403
    assert staff_client.post(SAY, {"text": "hello"}).status_code == 403


def test_patient_and_provider_each_get_their_portal_page(
    patient_client, provider_client, no_voice
) -> None:
    page = patient_client.get(CHAT).content.decode()
    assert 'aria-label="Patient portal"' in page
    assert 'id="mic"' in page and "No speech model is installed" in page
    assert 'for="id_text"' in page
    page = provider_client.get(CHAT).content.decode()
    assert 'aria-label="Provider portal"' in page


def test_the_microphone_is_offered_when_a_model_is_installed(patient_client, voice) -> None:
    page = patient_client.get(CHAT).content.decode()
    assert 'data-voice="on"' in page and "No speech model" not in page
    assert "js/assistant.js" in page and "js/pcm-worklet.js" in page
    assert 'enctype="multipart/form-data"' in page


def test_typed_question_without_javascript_answers_on_the_page(patient_client, patient) -> None:
    response = patient_client.post(SAY, {"text": "what are your hours"})
    assert response.status_code == 302 and response["Location"] == CHAT
    page = patient_client.get(CHAT).content.decode()
    assert "what are your hours" in page and "Building A, Room 101" in page
    row = AIInteraction.objects.get()
    assert (row.user, row.detected_intent) == (patient.user, "office_info")


def test_typed_question_as_json(provider_client) -> None:
    response = provider_client.post(SAY, {"text": "what's on my schedule today"}, **JSON)
    assert response.status_code == 200
    reply = response.json()["reply"]
    assert reply["intent"] == "schedule_today" and 0 <= reply["confidence"] <= 1
    assert "no appointments today" in reply["text"]


def test_multi_turn_state_lives_in_the_session(patient_client) -> None:
    patient_client.post(SAY, {"text": "send a message to doctor patel"}, **JSON)
    reply = patient_client.post(SAY, {"text": "can you call me back"}, **JSON).json()["reply"]
    assert reply["awaiting"] == "confirm"
    reply = patient_client.post(SAY, {"text": "yes"}, **JSON).json()["reply"]
    assert "Sent" in reply["text"]
    assert AIInteraction.objects.filter(resulted_in_provider_transfer=True).count() == 1


@pytest.mark.parametrize(
    ("text", "message"), [("", "Type a question"), ("x" * 1001, "at most 1000")]
)
def test_bad_text_is_explained_next_to_the_field(patient_client, text, message) -> None:
    response = patient_client.post(SAY, {"text": text})
    assert response.status_code == 400
    assert (
        message in response.content.decode() and 'id="id_text_error"' in response.content.decode()
    )
    response = patient_client.post(SAY, {"text": text}, **JSON)
    assert response.status_code == 400 and message in str(response.json()["errors"])
    assert not AIInteraction.objects.exists()


def test_a_recording_is_transcribed_and_answered(patient_client, voice, speak) -> None:
    with speak(KOREAN_SENTENCES[1]).open("rb") as audio:
        response = patient_client.post(RECORDING, {"audio": audio}, **JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["transcript"].strip() and body["reply"]["text"]
    assert AIInteraction.objects.get().input_text == body["transcript"]


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (_wav(b"\x00\x00" * 1600, rate=8000), "8000 Hz; it must be 16000 Hz"),
        (_wav(b"\x00\x00\x00\x00" * 1600, channels=2), "must be mono"),
        (io.BytesIO(b"%PDF-1.7 not audio at all"), "not a WAV recording"),
        (_wav(b"\x00\x00" * 16000 * 31), "too long"),
        (_wav(b"\x00\x00" * 8000), "couldn&#x27;t hear any words"),
    ],
)
def test_bad_recordings_get_a_clear_message_and_change_nothing(
    patient_client, voice, audio, message
) -> None:
    if not getattr(audio, "name", None):
        audio.name = "file.wav"
    response = patient_client.post(RECORDING, {"audio": audio})
    assert response.status_code in {400, 422}
    page = response.content.decode()
    assert message in page and 'id="id_audio_error"' in page
    assert not AIInteraction.objects.exists()


def test_recordings_without_a_model_explain_that_voice_is_off(patient_client, no_voice) -> None:
    response = patient_client.post(RECORDING, {"audio": _wav(b"\x01\x00" * 1600)}, **JSON)
    assert response.status_code == 503
    assert "No speech model is installed" in str(response.json()["errors"])


def test_a_user_sees_only_their_own_conversation(patient_client, patient, other_patient) -> None:
    interaction_log(
        user=other_patient.user,
        input_text="secret of riley",
        response_text="r",
        detected_intent="greeting",
        confidence_score=0.9,
    )
    patient_client.post(reverse("assistant:utterance-text"), {"text": "what are your hours"})
    page = patient_client.get(CHAT).content.decode()
    assert "what are your hours" in page and "secret of riley" not in page


def test_the_page_shows_this_sessions_conversation_and_a_new_one_starts_empty(
    patient_client, patient
) -> None:
    interaction_log(
        user=patient.user,
        input_text="said at an earlier sign-in",
        response_text="p",
        detected_intent="greeting",
        confidence_score=0.9,
    )
    patient_client.post(reverse("assistant:utterance-text"), {"text": "what are your hours"})
    page = patient_client.get(CHAT).content.decode()
    assert "what are your hours" in page and "said at an earlier sign-in" not in page
    response = patient_client.post(reverse("assistant:conversation-new"))
    assert response.status_code == 302
    page = patient_client.get(CHAT).content.decode()
    assert "what are your hours" not in page and 'id="chat-empty"' in page
    patient_client.post(
        reverse("assistant:utterance-text"), {"text": "what prescriptions do i have"}
    )
    ids = set(
        AIInteraction.objects.filter(user=patient.user).values_list("conversation_id", flat=True)
    )
    assert len(ids - {None}) == 2


def test_the_conversation_is_a_list_inside_a_live_region_without_alert_items(
    patient_client,
) -> None:
    page = patient_client.get(CHAT).content.decode()
    live = page.index('role="log"')
    assert page.index('<ol class="chat-log" id="chat-log">') > live
    assert 'aria-live="polite"' in page[live - 200 : live + 200]
    assert "<li" not in page[page.index('id="chat-alert"') - 80 : page.index('id="chat-alert"')]


@pytest.mark.parametrize("rows", [2, 40])
def test_the_page_reads_a_fixed_number_of_queries(
    patient_client, patient, rows, django_assert_max_num_queries, no_voice
):
    import uuid

    from assistant.conversation import STATE_KEY

    # All of them in this session's conversation (the page shows that one).
    conversation = uuid.uuid4()
    session = patient_client.session
    session[STATE_KEY] = {"conversation": str(conversation)}
    session.save()
    for n in range(rows):
        interaction_log(
            user=patient.user,
            input_text=f"q{n}",
            response_text="a",
            detected_intent="greeting",
            confidence_score=0.5,
            conversation_id=conversation,
        )
    patient_client.get(CHAT)  # warm the session and navigation
    with django_assert_max_num_queries(12):
        response = patient_client.get(CHAT)
    assert response.status_code == 200
    assert response.content.decode().count('class="turn turn-user"') == min(rows, 20)


def test_an_ssn_typed_is_answered_redacted_and_stored_redacted(patient_client, patient) -> None:
    reply = patient_client.post(
        reverse("assistant:utterance-text"),
        {"text": "my ssn is 123-45-6789, what are your hours"},
        HTTP_ACCEPT="application/json",
    ).json()["reply"]
    assert reply["said"] == "my ssn is [removed], what are your hours"
    row = AIInteraction.objects.get(user=patient.user)
    assert "6789" not in row.input_text and "[removed]" in row.input_text
    page = patient_client.get(CHAT).content.decode()
    assert "6789" not in page
