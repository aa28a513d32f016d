"""/ws/assistant/ with a real Vosk model, real generated speech and the real ASGI stack."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.consumers import CLOSE_FORBIDDEN, CLOSE_SESSION_ENDED
from assistant import speech
from assistant.models import AIInteraction
from assistant.tests.conftest import KOREAN_SENTENCES, pcm_of
from conftest import login_verified
from healthcare.asgi import application
from messaging.models import Message
from scheduling.models import Appointment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

CHUNK = 3200  # 100 ms of 16 kHz 16-bit mono, what the browser's worklet sends


def _communicator(session_key: str | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application, "/ws/assistant/", headers=headers)


@database_sync_to_async
def _session(user, *, verified: bool = False) -> str:
    client = Client()
    if verified:
        login_verified(client, user)
    else:
        client.force_login(user)
    return client.session.session_key


async def _connected(user, *, verified: bool = False) -> tuple[WebsocketCommunicator, dict]:
    communicator = _communicator(await _session(user, verified=verified))
    connected, _code = await communicator.connect()
    assert connected
    ready = await communicator.receive_json_from(timeout=5)
    assert ready["type"] == "ready"
    return communicator, ready


async def _until(
    communicator: WebsocketCommunicator, kind: str, timeout: float = 60
) -> tuple[dict, list[dict]]:
    seen = []
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        seen.append(message)
        if message["type"] == kind:
            return message, seen


async def _stream(communicator: WebsocketCommunicator, pcm: bytes) -> tuple[dict, list[dict]]:
    await communicator.send_json_to({"type": "start", "sample_rate": 16000, "channels": 1})
    await _until(communicator, "listening")
    for start in range(0, len(pcm), CHUNK):
        await communicator.send_to(bytes_data=pcm[start : start + CHUNK])
    await communicator.send_json_to({"type": "stop"})
    return await _until(communicator, "final")


async def test_anonymous_socket_is_refused() -> None:
    connected, code = await _communicator(None).connect()
    assert not connected and code == CLOSE_SESSION_ENDED


async def test_staff_without_a_portal_profile_is_refused(admin_user) -> None:
    connected, code = await _communicator(await _session(admin_user, verified=True)).connect()
    assert not connected and code == CLOSE_FORBIDDEN


async def test_typed_question_gets_a_reply_and_a_log_row(patient, no_voice) -> None:
    communicator, ready = await _connected(patient.user)
    assert ready["voice"] is False and "still type" in ready["reason"]
    await communicator.send_json_to({"type": "text", "text": "what are your hours"})
    reply, _seen = await _until(communicator, "reply")
    assert reply["reply"]["intent"] == "office_info"
    assert "Building A" in reply["reply"]["text"]
    assert 0 <= reply["reply"]["confidence"] <= 1
    row = await database_sync_to_async(AIInteraction.objects.get)()
    assert (row.user_id, row.input_text) == (patient.user.pk, "what are your hours")
    await communicator.disconnect()


async def test_a_conversation_keeps_its_state_on_the_socket(patient, no_voice) -> None:
    communicator, _ready = await _connected(patient.user)
    await communicator.send_json_to({"type": "text", "text": "send a message to my doctor"})
    reply, _ = await _until(communicator, "reply")
    assert reply["reply"]["awaiting"] == "slot"
    await communicator.send_json_to({"type": "text", "text": "please call me about my results"})
    reply, _ = await _until(communicator, "reply")
    assert reply["reply"]["awaiting"] == "confirm"
    await communicator.send_json_to({"type": "text", "text": "yes"})
    reply, _ = await _until(communicator, "reply")
    assert "Sent" in reply["reply"]["text"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await communicator.disconnect()


@database_sync_to_async
def _ask_over_http(user, text: str) -> str:
    """Ask on the page (JSON fallback, as before the socket opens); the session's key."""
    client = Client()
    client.force_login(user)
    response = client.post("/assistant/say/", {"text": text}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return client.session.session_key


async def test_a_conversation_begun_on_the_page_continues_on_the_socket(patient, no_voice) -> None:
    key = await _ask_over_http(patient.user, "send a message to my doctor")
    communicator = _communicator(key)
    connected, _code = await communicator.connect()
    assert connected
    await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to({"type": "text", "text": "please call me about my results"})
    reply, _ = await _until(communicator, "reply")
    assert reply["reply"]["awaiting"] == "confirm" and "Shall I send it?" in reply["reply"]["text"]
    await communicator.send_json_to({"type": "text", "text": "yes"})
    reply, _ = await _until(communicator, "reply")
    assert "Sent" in reply["reply"]["text"]
    message = await database_sync_to_async(Message.objects.get)()
    assert message.content.startswith("please call me about my results")
    await communicator.disconnect()


async def test_without_a_model_voice_is_refused_with_the_reason(patient, no_voice) -> None:
    communicator, _ready = await _connected(patient.user)
    await communicator.send_json_to({"type": "start", "sample_rate": 16000})
    error, _ = await _until(communicator, "error")
    assert error["code"] == "voice_unavailable" and "No speech model" in error["message"]
    await communicator.send_to(bytes_data=b"\x00\x00" * 800)
    error, _ = await _until(communicator, "error")
    assert error["code"] == "not_listening"
    await communicator.disconnect()


async def test_spoken_question_streams_partials_then_a_final_transcript_and_a_reply(
    patient, voice, speak
) -> None:
    pcm = pcm_of(speak(KOREAN_SENTENCES[0]))
    communicator, ready = await _connected(patient.user)
    assert ready["voice"] is True
    final, seen = await _stream(communicator, pcm)
    partials = [m for m in seen if m["type"] == "partial"]
    assert partials and all(m["text"] for m in partials)
    assert final["text"].strip()
    reply, _ = await _until(communicator, "reply")
    assert reply["reply"]["text"]
    row = await database_sync_to_async(AIInteraction.objects.get)()
    assert row.input_text == final["text"]
    await communicator.disconnect()


async def test_four_streams_at_once_share_one_model(
    patient, other_patient, provider, other_provider, voice, speak
):
    await database_sync_to_async(speech.get_model)()
    before = speech.stats()
    users = [
        (patient.user, False),
        (other_patient.user, False),
        (provider.user, True),
        (other_provider.user, True),
    ]
    communicators = [(await _connected(user, verified=verified))[0] for user, verified in users]
    audio = [pcm_of(speak(sentence)) for sentence in KOREAN_SENTENCES]
    results = await asyncio.gather(
        *(_stream(c, pcm) for c, pcm in zip(communicators, audio, strict=True))
    )
    after = speech.stats()
    assert after["models_loaded"] == before["models_loaded"] == 1
    assert after["recognizers_created"] - before["recognizers_created"] == 4
    for final, seen in results:
        assert any(m["type"] == "partial" for m in seen)
        assert final["text"].strip()
    for communicator in communicators:
        await _until(communicator, "reply")
        await communicator.disconnect()
    assert await database_sync_to_async(AIInteraction.objects.count)() == 4


@pytest.mark.parametrize(
    ("start", "code"),
    [
        ({"type": "start", "sample_rate": 44100}, "sample_rate"),
        ({"type": "start", "sample_rate": 16000, "channels": 2}, "channels"),
    ],
)
async def test_wrong_stream_formats_are_refused(patient, voice, start, code) -> None:
    communicator, _ = await _connected(patient.user)
    await communicator.send_json_to(start)
    error, _ = await _until(communicator, "error")
    assert error["code"] == code and error["message"]
    await communicator.disconnect()


async def test_a_wav_file_sent_as_pcm_and_silence_are_explained(patient, voice, speak) -> None:
    communicator, _ = await _connected(patient.user)
    await communicator.send_json_to({"type": "start", "sample_rate": 16000})
    await _until(communicator, "listening")
    await communicator.send_to(bytes_data=speak(KOREAN_SENTENCES[0]).read_bytes())
    error, _ = await _until(communicator, "error")
    assert error["code"] == "not_pcm"
    final, _ = await _stream(communicator, b"\x00\x00" * 16000)
    assert final["text"] == ""
    error, _ = await _until(communicator, "error")
    assert error["code"] == "no_speech"
    assert await database_sync_to_async(AIInteraction.objects.count)() == 0
    await communicator.disconnect()


async def test_a_stream_over_the_time_limit_is_stopped(patient, voice, settings) -> None:
    settings.ASSISTANT_MAX_UTTERANCE_SECONDS = 1
    communicator, _ = await _connected(patient.user)
    await communicator.send_json_to({"type": "start", "sample_rate": 16000})
    await _until(communicator, "listening")
    for _n in range(12):
        await communicator.send_to(bytes_data=b"\x00\x00" * 1600)
    error, _ = await _until(communicator, "error")
    assert error["code"] == "audio" and "longer than 1 seconds" in error["message"]
    await communicator.disconnect()


async def test_an_emergency_in_a_partial_transcript_is_answered_before_the_end(
    patient, voice, speak, monkeypatch
) -> None:
    # The test model is Korean, so Vosk's English words are stood in for: the
    # recognizer reports the partial text a speaker would produce mid-sentence.
    words = iter(
        [
            "book an appointment",
            "book an appointment i have chest pain",
            "book an appointment i have chest pain now",
        ]
    )

    def accept(self, chunk: bytes) -> speech.Heard:
        self._partial = next(words, self._partial)
        return speech.Heard(text=self._partial, changed=True)

    monkeypatch.setattr(speech.StreamRecognizer, "accept", accept)
    monkeypatch.setattr(speech.StreamRecognizer, "finish", lambda self: self._partial)
    communicator, _ = await _connected(patient.user)
    await communicator.send_json_to({"type": "start", "sample_rate": 16000})
    await _until(communicator, "listening")
    await communicator.send_to(bytes_data=b"\x00\x00" * 1600)
    await communicator.send_to(bytes_data=b"\x00\x00" * 1600)
    reply, seen = await _until(communicator, "reply")
    assert reply["early"] is True and reply["reply"]["emergency"] is True
    assert "911" in reply["reply"]["text"]
    assert [m["type"] for m in seen] == ["partial", "partial", "reply"]
    await communicator.send_to(bytes_data=b"\x00\x00" * 1600)
    await communicator.send_json_to({"type": "stop"})
    final, seen = await _until(communicator, "final")
    assert not [m for m in seen if m["type"] == "reply"], "the emergency answer is not repeated"
    row = await database_sync_to_async(AIInteraction.objects.get)()
    assert (
        row.detected_intent == "emergency"
        and row.input_text == "book an appointment i have chest pain now"
    )
    assert not await database_sync_to_async(Appointment.objects.exists)()
    await communicator.disconnect()
