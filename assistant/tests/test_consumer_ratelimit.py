"""/ws/assistant/ counts questions against the same per-user limit as the page's endpoints."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from assistant.models import AIInteraction
from healthcare.asgi import application


def _socket(session_key: str) -> WebsocketCommunicator:
    headers = [
        (b"origin", b"http://127.0.0.1:8000"),
        (b"host", b"127.0.0.1:8000"),
        (b"cookie", f"sessionid={session_key}".encode()),
    ]
    return WebsocketCommunicator(application, "/ws/assistant/", headers=headers)


@pytest.mark.django_db(transaction=True)
def test_assistant_socket_shares_the_http_count_and_refuses_past_it(
    patient, settings, tmp_path
) -> None:
    settings.VOSK_MODEL_PATH = str(tmp_path / "no-model")
    settings.RATELIMITS = {**settings.RATELIMITS, "assistant-utterance": "3/d"}
    client = Client()
    client.force_login(patient.user)
    for _ in range(2):
        answer = client.post(reverse("assistant:utterance-text"), {"text": "what are your hours"})
        assert answer.status_code == 302

    async def talk() -> list[dict]:
        socket = _socket(client.session.session_key)
        connected, _code = await socket.connect()
        assert connected
        assert (await socket.receive_json_from(timeout=5))["type"] == "ready"
        answers = []
        for message in (
            {"type": "text", "text": "what are your hours"},
            {"type": "text", "text": "what are your hours"},
            {"type": "start", "sample_rate": 16000, "channels": 1},
        ):
            await socket.send_json_to(message)
            answer = await socket.receive_json_from(timeout=10)
            while answer["type"] not in ("reply", "error"):
                answer = await socket.receive_json_from(timeout=10)
            answers.append(answer)
        await socket.disconnect()
        return answers

    rows = AIInteraction.objects.count()
    reply, refused, refused_voice = async_to_sync(talk)()

    assert reply["type"] == "reply"
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    assert "Too many questions" in refused["message"]
    assert refused_voice["code"] == "rate_limited"
    assert AIInteraction.objects.count() == rows + 1
    assert client.post(reverse("assistant:utterance-text"), {"text": "hi"}).status_code == 429
