"""Live updates across server processes on real Redis, after the sockets sat idle.

Two web processes (the Procfile's command) share one database and one Redis.
A patient's three sockets are held on process B and left idle for a minute,
longer than any client or server read timeout on the way; then their
provider sends a message through process A and it arrives on B.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from conftest import login_verified, require_or_skip
from tests.servers import ServerProcess, server_env, shared_database_url, web_servers

IDLE_SECONDS = float(os.environ.get("REALTIME_IDLE_SECONDS", "60"))
SOCKETS = ("/ws/session/", "/ws/messages/", "/ws/assistant/")

pytestmark = pytest.mark.redis


def _redis_url() -> str:
    url = os.environ.get("REDIS_TEST_URL", "")
    available = False
    if url:
        import redis

        try:
            available = bool(redis.Redis.from_url(url, socket_timeout=3).ping())
        except redis.RedisError:
            available = False
    require_or_skip(available, "Redis (REDIS_TEST_URL)")
    return url


@pytest.fixture
def two_servers(transactional_db, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    env = server_env(
        shared_database_url(),
        REDIS_URL=_redis_url(),
        # This test's own keys, apart from any other run on the same Redis.
        REDIS_KEY_PREFIX=f"test-{uuid.uuid4().hex[:12]}",
    )
    with web_servers(2, env, tmp_path) as servers:
        yield servers


def _session_cookie(client: Client) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _open(server: ServerProcess, path: str, cookie: str) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}{path}",
        origin=server.origin,
        additional_headers={"Cookie": cookie},
        open_timeout=60,
        # The client's own pings keep nothing alive on the server side: the
        # server's consumer is what must survive its idle channel-layer read.
        ping_interval=20,
        ping_timeout=20,
    )


def _next_json(socket: ClientConnection, *, kind: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {kind!r} event within {timeout} s")
        event = json.loads(socket.recv(timeout=remaining))
        if event.get("type") == kind:
            return event


def _assert_open(socket: ClientConnection, path: str) -> None:
    """Still open after the idle minute: closed sockets raise with their close code (1011)."""
    try:
        if path == "/ws/messages/":
            socket.send(json.dumps({"type": "sync"}))
            _next_json(socket, kind="sync")
        elif path == "/ws/assistant/":
            socket.send(json.dumps({"type": "cancel"}))
            _next_json(socket, kind="cancelled")
        else:
            socket.send(json.dumps({"type": "ping"}))
            _next_json(socket, kind="error")
    except ConnectionClosed as closed:
        pytest.fail(
            f"{path} closed while idle: code {closed.rcvd.code if closed.rcvd else None} {closed}"
        )


def test_idle_sockets_stay_open_and_a_message_from_process_a_arrives_on_process_b(
    two_servers: list[ServerProcess], patient, provider
) -> None:
    server_a, server_b = two_servers
    patient_client = Client()
    patient_client.force_login(patient.user)
    provider_client = login_verified(Client(), provider.user)

    with contextlib.ExitStack() as stack:
        sockets = {
            path: stack.enter_context(_open(server_b, path, _session_cookie(patient_client)))
            for path in SOCKETS
        }
        _next_json(sockets["/ws/assistant/"], kind="ready")

        time.sleep(IDLE_SECONDS)

        for path, socket in sockets.items():
            _assert_open(socket, path)

        # The provider writes through process A, as a browser on A would.
        cookie = _session_cookie(provider_client)
        conversation = reverse("messaging:conversation", args=[patient.user.pk])
        status, page, cookies = _http(server_a, "GET", conversation, cookie)
        assert status == 200, page[:500]
        token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        status, page, _ = _http(
            server_a,
            "POST",
            conversation,
            f"{cookie}; {cookies[settings.CSRF_COOKIE_NAME]}",
            body=f"csrfmiddlewaretoken={token}&content=Your+results+are+in",
        )
        assert status == 302, page[:500]

        event = _next_json(sockets["/ws/messages/"], kind="message.new")
        assert event["message"]["content"] == "Your results are in"
        assert event["message"]["sender_id"] == str(provider.user.pk)
        assert event["unread"] == 1


# --- plain HTTP with a session cookie -------------------------------------------


def _http(
    server: ServerProcess, method: str, path: str, cookie: str, body: str = ""
) -> tuple[int, str, dict[str, str]]:
    """One request to `server`; returns status, body and the cookies it set."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Cookie": cookie, "Host": f"127.0.0.1:{server.port}"}
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = server.origin
    connection.request(method, path, body=body.encode(), headers=headers)
    response = connection.getresponse()
    text = response.read().decode(errors="replace")
    cookies = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            cookies[pair.split("=", 1)[0]] = pair
    connection.close()
    return response.status, text, cookies


def test_processes_share_one_cache_kept_apart_from_the_channel_layer(tmp_path: Path) -> None:
    """What one process counts (rate limits), another sees: the cache is Redis, not process memory."""
    import subprocess
    import sys

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    env = server_env(
        "sqlite:///" + str(tmp_path / "unused.sqlite3"),
        REDIS_URL=_redis_url(),
        REDIS_KEY_PREFIX=prefix,
    )
    setup = "import django; django.setup(); from django.core.cache import cache; from django.conf import settings as s;"

    def run(code: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", setup + code],
            env={**env, "DJANGO_SETTINGS_MODULE": "healthcare.settings"},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    run("cache.set('shared-counter', 41, 60); cache.incr('shared-counter')")
    assert run("print(cache.get('shared-counter'))") == "42"
    prefixes = run(
        "print(s.CACHES['default']['KEY_PREFIX'], s.CHANNEL_LAYERS['default']['CONFIG']['prefix'])"
    ).split()
    assert prefixes == [f"{prefix}:cache", f"{prefix}:asgi"]
