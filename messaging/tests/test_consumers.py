"""/ws/messages/ with Channels' test communicator against the real ASGI application."""

from __future__ import annotations

import os
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.consumers import CLOSE_FORBIDDEN, CLOSE_SESSION_ENDED
from accounts.services import user_sign_out_everywhere
from conftest import login_verified, require_or_skip
from healthcare.asgi import application
from messaging.models import Message
from messaging.services import message_create, message_send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = "http://127.0.0.1:8000"
IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def _fresh_channel_layer(settings) -> None:
    # A new layer per test: no group or queue is left over from another test's event loop.
    settings.CHANNEL_LAYERS = {"default": dict(IN_MEMORY["default"])}


def _communicator(session_key: str | None, origin: str = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1:8000")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application, "/ws/messages/", headers=headers)


@database_sync_to_async
def _session(user) -> str:
    client = login_verified(Client(), user) if user.requires_mfa else Client()
    if not user.requires_mfa:
        client.force_login(user)
    return client.session.session_key


async def _open(user) -> WebsocketCommunicator:
    communicator = _communicator(await _session(user))
    connected, code = await communicator.connect()
    assert connected, code
    return communicator


send = database_sync_to_async(message_send)
create = database_sync_to_async(message_create)


# --- Who may connect ------------------------------------------------------------------


async def test_anonymous_socket_is_refused(patient) -> None:
    connected, code = await _communicator(None).connect()
    assert not connected
    assert code == CLOSE_SESSION_ENDED


async def test_socket_from_an_origin_outside_allowed_hosts_is_refused(patient) -> None:
    key = await _session(patient.user)
    for origin in ("https://evil.example", "http://127.0.0.1.evil.example"):
        connected, _code = await _communicator(key, origin=origin).connect()
        assert not connected, origin


async def test_staff_without_a_portal_are_refused(admin_user) -> None:
    connected, code = await _communicator(await _session(admin_user)).connect()
    assert not connected
    assert code == CLOSE_FORBIDDEN


async def test_provider_without_the_second_factor_is_refused(provider) -> None:
    def plain_session() -> str:
        client = Client()
        client.force_login(provider.user)
        return client.session.session_key

    connected, code = await _communicator(await database_sync_to_async(plain_session)()).connect()
    assert not connected
    assert code == CLOSE_SESSION_ENDED


# --- Delivery ----------------------------------------------------------------------------


async def test_a_new_message_reaches_every_tab_of_the_recipient_and_nobody_else(
    patient, provider, other_patient, other_provider
) -> None:
    patient_tab_1, patient_tab_2 = await _open(patient.user), await _open(patient.user)
    provider_tab = await _open(provider.user)
    strangers = [await _open(other_patient.user), await _open(other_provider.user)]

    message = await send(
        sender=provider.user, receiver=patient.user, content="Your results are normal."
    )

    for tab in (patient_tab_1, patient_tab_2):
        event = await tab.receive_json_from(timeout=3)
        assert event["type"] == "message.new"
        assert event["unread"] == 1
        assert event["message"]["id"] == str(message.pk)
        assert event["message"]["content"] == "Your results are normal."
        assert event["message"]["sender_name"] == "Anika Patel"
    # The sender's own tabs get the message too (to show it in another open tab), without a count.
    own = await provider_tab.receive_json_from(timeout=3)
    assert own["type"] == "message.new" and "unread" not in own
    for stranger in strangers:
        assert await stranger.receive_nothing(timeout=0.3)
    for tab in (patient_tab_1, patient_tab_2, provider_tab, *strangers):
        await tab.disconnect()


async def test_reading_over_the_socket_sends_the_receipt_to_the_sender(patient, provider) -> None:
    message = await create(sender=provider.user, receiver=patient.user, content="Please call us")
    patient_tab, provider_tab = await _open(patient.user), await _open(provider.user)

    await patient_tab.send_json_to({"type": "read", "with": str(provider.user.pk)})

    receipt = await provider_tab.receive_json_from(timeout=3)
    assert receipt["type"] == "message.read"
    assert receipt["ids"] == [str(message.pk)]
    assert receipt["reader_id"] == str(patient.user.pk)
    replies = [await patient_tab.receive_json_from(timeout=3) for _ in range(2)]
    assert {"type": "unread", "count": 0, "partner_id": str(provider.user.pk)} in replies
    stored = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert stored.read and stored.read_at is not None
    await patient_tab.disconnect()
    await provider_tab.disconnect()


async def test_sync_returns_what_the_page_missed_and_which_of_its_messages_were_read(
    patient, provider
) -> None:
    seen = await create(sender=provider.user, receiver=patient.user, content="seen")
    mine = await create(sender=patient.user, receiver=provider.user, content="mine")
    missed = await create(sender=provider.user, receiver=patient.user, content="missed")
    await database_sync_to_async(
        lambda: Message.objects.filter(pk=mine.pk).update(read=True, read_at=missed.sent_at)
    )()
    tab = await _open(patient.user)

    await tab.send_json_to(
        {
            "type": "sync",
            "with": str(provider.user.pk),
            "after": str(seen.pk),
            "pending": [str(mine.pk)],
        }
    )
    reply = await tab.receive_json_from(timeout=3)

    assert reply["type"] == "sync"
    assert reply["unread"] == 2
    assert [m["id"] for m in reply["messages"]] == [str(mine.pk), str(missed.pk)]
    assert reply["complete"] is True
    assert [r["id"] for r in reply["receipts"]] == [str(mine.pk)]
    await tab.disconnect()


async def test_sync_without_a_conversation_gives_the_unread_count(patient, provider) -> None:
    await create(sender=provider.user, receiver=patient.user, content="one")
    tab = await _open(patient.user)
    await tab.send_json_to({"type": "sync"})
    assert await tab.receive_json_from(timeout=3) == {"type": "sync", "unread": 1}
    await tab.disconnect()


async def test_a_foreign_conversation_cannot_be_synced_or_marked_read(
    patient, other_patient, other_provider
) -> None:
    private = await create(
        sender=other_provider.user, receiver=other_patient.user, content="Private"
    )
    tab = await _open(patient.user)
    for request in (
        {"type": "sync", "with": str(other_provider.user.pk), "after": None},
        {"type": "sync", "with": str(other_patient.user.pk)},
        {"type": "read", "with": str(other_provider.user.pk)},
        {"type": "sync", "with": "not-a-uuid"},
    ):
        await tab.send_json_to(request)
        reply = await tab.receive_json_from(timeout=3)
        assert reply == {"type": "error", "message": "Conversation not found."}, request
    stored = await database_sync_to_async(Message.objects.get)(pk=private.pk)
    assert stored.read is False
    await tab.disconnect()


async def test_unknown_requests_are_answered_with_an_error(patient) -> None:
    tab = await _open(patient.user)
    await tab.send_json_to({"type": "send", "to": str(uuid.uuid4()), "content": "x"})
    assert (await tab.receive_json_from(timeout=3))["type"] == "error"
    await tab.send_to(text_data="not json")
    assert (await tab.receive_json_from(timeout=3))["type"] == "error"
    await tab.disconnect()


async def test_nothing_is_pushed_to_a_socket_whose_session_ended(patient, provider) -> None:
    tab = await _open(patient.user)
    await database_sync_to_async(user_sign_out_everywhere)(user=patient.user)

    await send(sender=provider.user, receiver=patient.user, content="Lab results attached")

    assert await tab.receive_json_from(timeout=3) == {"type": "session.ended"}
    assert (await tab.receive_output(timeout=3)) == {
        "type": "websocket.close",
        "code": CLOSE_SESSION_ENDED,
    }
    await tab.disconnect()


async def test_the_user_is_checked_on_every_request(patient) -> None:
    tab = await _open(patient.user)
    await database_sync_to_async(user_sign_out_everywhere)(user=patient.user)
    await tab.send_json_to({"type": "sync"})
    assert await tab.receive_json_from(timeout=3) == {"type": "session.ended"}
    assert (await tab.receive_output(timeout=3))["code"] == CLOSE_SESSION_ENDED
    await tab.disconnect()


# --- On the real Redis channel layer ------------------------------------------------------------


def _redis_url() -> str:
    return os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def _redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.redis
async def test_delivery_works_across_the_redis_channel_layer(
    settings, patient, provider, other_patient
) -> None:
    url = _redis_url()
    require_or_skip(await database_sync_to_async(_redis_available)(url), f"Redis at {url}")
    # Our own key prefix: other test runs may share this Redis database.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"hc-test-{uuid.uuid4().hex[:12]}"},
        }
    }
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"
    patient_tab, stranger_tab = await _open(patient.user), await _open(other_patient.user)
    try:
        message = await send(sender=provider.user, receiver=patient.user, content="Through Redis")
        event = await patient_tab.receive_json_from(timeout=5)
        assert event["type"] == "message.new"
        assert event["message"]["id"] == str(message.pk)
        assert await stranger_tab.receive_nothing(timeout=0.5)
    finally:
        await patient_tab.disconnect()
        await stranger_tab.disconnect()
        await layer.flush()
        await layer.close_pools()
