"""Redis unreachable: sending still succeeds, and the message shows on the next load or reconnect.

The channel layer is pointed at a closed port on 127.0.0.1 (the machine's
own Redis keeps running for everyone else).
"""

from __future__ import annotations

import logging
import socket
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from conftest import login_verified
from healthcare.asgi import application
from messaging.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings) -> str:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}
    }
    return url


def _with(user) -> str:
    return reverse("messaging:conversation", kwargs={"user_id": user.pk})


def test_sending_succeeds_and_the_page_shows_it(redis_down, patient, provider, caplog) -> None:
    patient_client = Client()
    patient_client.force_login(patient.user)
    caplog.set_level(logging.WARNING, logger="messaging.push")

    started = time.monotonic()
    response = patient_client.post(_with(provider.user), {"content": "Sent while Redis is down"})
    elapsed = time.monotonic() - started

    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_with(provider.user)}#m-{message.pk}"
    assert message.content == "Sent while Redis is down"
    # The push was tried after the commit, failed, and was logged, not raised.
    assert any("push" in record.getMessage() for record in caplog.records)
    assert elapsed < 10

    provider_page = (
        login_verified(Client(), provider.user).get(_with(patient.user)).content.decode()
    )
    assert "Sent while Redis is down" in provider_page
    message.refresh_from_db()
    assert message.read  # and reading it works too, with nobody to tell


def test_the_page_script_gets_its_answer_too(redis_down, patient, provider) -> None:
    provider_client = login_verified(Client(), provider.user)
    response = provider_client.post(
        _with(patient.user),
        {"content": "Fetch while Redis is down"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    assert response.json()["message"]["content"] == "Fetch while Redis is down"
    assert Message.objects.filter(content="Fetch while Redis is down").exists()


@pytest.mark.asyncio
async def test_a_reconnecting_page_catches_up_once_redis_is_back(
    redis_down, settings, patient, provider
) -> None:
    def send_while_down() -> tuple[str, Message]:
        provider_client = login_verified(Client(), provider.user)
        provider_client.post(_with(patient.user), {"content": "Missed while down"})
        patient_client = Client()
        patient_client.force_login(patient.user)
        return patient_client.session.session_key, Message.objects.get()

    key, message = await database_sync_to_async(send_while_down)()
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    tab = WebsocketCommunicator(
        application,
        "/ws/messages/",
        headers=[
            (b"origin", b"http://127.0.0.1:8000"),
            (b"host", b"127.0.0.1:8000"),
            (b"cookie", f"sessionid={key}".encode()),
        ],
    )
    assert (await tab.connect())[0]
    await tab.send_json_to({"type": "sync", "with": str(provider.user.pk), "after": None})
    reply = await tab.receive_json_from(timeout=3)
    assert [m["content"] for m in reply["messages"]] == ["Missed while down"]
    assert reply["messages"][0]["id"] == str(message.pk)
    assert reply["unread"] == 1
    await tab.disconnect()
