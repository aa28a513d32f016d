"""Websockets live no longer than the session that opened them."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.consumers import CLOSE_SESSION_ENDED
from accounts.services import user_sign_out_everywhere
from conftest import login_verified
from healthcare.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _communicator(session_key: str | None, origin: str = "http://127.0.0.1:8000") -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1:8000")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application, "/ws/session/", headers=headers)


@database_sync_to_async
def _patient_session(patient) -> str:
    client = Client()
    client.force_login(patient.user)
    return client.session.session_key


async def test_anonymous_socket_is_refused(patient) -> None:
    connected, code = await _communicator(None).connect()
    assert not connected
    assert code == CLOSE_SESSION_ENDED


async def test_socket_from_a_foreign_origin_is_refused(patient) -> None:
    key = await _patient_session(patient)
    connected, _code = await _communicator(key, origin="https://evil.example").connect()
    assert not connected


async def test_socket_closes_when_the_session_expires(patient, settings) -> None:
    settings.WEBSOCKET_SESSION_CHECK_SECONDS = 0.2
    key = await _patient_session(patient)
    communicator = _communicator(key)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_nothing(timeout=0.5)
    await database_sync_to_async(
        lambda: Session.objects.filter(session_key=key).update(expire_date=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    )()
    assert await communicator.receive_json_from(timeout=3) == {"type": "session.ended"}
    output = await communicator.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": CLOSE_SESSION_ENDED}
    await communicator.disconnect()


async def test_socket_closes_on_sign_out_everywhere_at_the_next_message(patient) -> None:
    key = await _patient_session(patient)
    communicator = _communicator(key)
    assert (await communicator.connect())[0]
    await database_sync_to_async(user_sign_out_everywhere)(user=patient.user)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=3) == {"type": "session.ended"}
    assert (await communicator.receive_output(timeout=3))["code"] == CLOSE_SESSION_ENDED
    await communicator.disconnect()


async def test_provider_socket_needs_the_second_factor(provider) -> None:
    def sessions() -> tuple[str, str]:
        plain = Client()
        plain.force_login(provider.user)
        return plain.session.session_key, login_verified(Client(), provider.user).session.session_key

    unverified, verified = await database_sync_to_async(sessions)()
    assert not (await _communicator(unverified).connect())[0]
    communicator = _communicator(verified)
    assert (await communicator.connect())[0]
    await communicator.disconnect()
