"""HTTP-level hardening: unused methods refused, CSRF cookie out of scripts' reach, no server banner."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from conftest import login_verified

ROOT = Path(__file__).resolve().parent.parent
REFUSED_METHODS = ["TRACE", "TRACK", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "PROPFIND"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(base_port: int, method: str, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", base_port, timeout=20)
    connection.request(method, path, headers={"Host": "127.0.0.1"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("method", REFUSED_METHODS)
@pytest.mark.parametrize("url_name", ["accounts:login", "accounts:register", "healthz", "home"])
def test_unused_methods_are_refused_on_public_pages(
    client: Client, method: str, url_name: str
) -> None:
    response = client.generic(method, reverse(url_name))

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["TRACE", "PUT", "OPTIONS"])
def test_unused_methods_are_refused_on_signed_in_pages(
    client: Client, patient, method: str
) -> None:
    login_verified(client, patient.user)

    response = client.generic(method, reverse("patients:profile"), data="full_name=Changed")

    assert response.status_code == 405
    patient.user.refresh_from_db()
    assert patient.user.full_name != "Changed"


@pytest.mark.django_db
def test_get_and_post_still_reach_the_pages(client: Client) -> None:
    assert client.get(reverse("accounts:login")).status_code == 200
    assert client.head(reverse("accounts:login")).status_code == 200
    assert (
        client.post(reverse("accounts:login"), {"username": "x", "password": "y"}).status_code
        == 200
    )


@pytest.mark.django_db
def test_csrf_cookie_is_http_only(client: Client) -> None:
    response = client.get(reverse("accounts:login"))

    cookie = response.cookies["csrftoken"]
    assert cookie["httponly"] is True
    # The form still carries the token for the POST.
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_no_script_reads_the_csrf_cookie() -> None:
    scripts = [
        p
        for p in ROOT.glob("**/static/**/*.js")
        if ".venv" not in p.parts and "node_modules" not in p.parts
    ]
    assert scripts, "expected the portal's scripts under */static/"
    readers = [
        str(p)
        for p in scripts
        if "csrftoken" in p.read_text() or "document.cookie" in p.read_text()
    ]
    assert readers == []


@pytest.fixture
def uvicorn_port(transactional_db) -> Iterator[int]:
    """The ASGI app in-process under uvicorn (as the browser tests run it), with the
    options the production server command uses (healthcare.serve)."""
    import uvicorn

    from healthcare.asgi import application
    from healthcare.serve import uvicorn_options

    options = {k: v for k, v in uvicorn_options({}).items() if k not in {"host", "port", "workers"}}
    port = _free_port()
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="websockets-sansio",
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-headers-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_uvicorn_names_no_server_and_refuses_trace(uvicorn_port: int) -> None:
    page = _request(uvicorn_port, "GET", reverse("accounts:login"))
    trace = _request(uvicorn_port, "TRACE", reverse("accounts:login"))

    assert page.status == 200
    assert page.getheader("Server") is None
    assert trace.status == 405
    assert trace.getheader("Server") is None


def test_the_production_server_command_names_no_server(tmp_path: Path) -> None:
    """`python -m healthcare.serve`, the process `make run` and the image start."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "HOST": "127.0.0.1",
        "PORT": "0",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "healthcare.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready = server.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", ready)
        assert match, f"no address printed: {ready!r}"
        port = int(match.group(1))
        # The address is printed once the socket is bound, just before it listens.
        deadline = time.monotonic() + 30
        while True:
            try:
                page = _request(port, "GET", reverse("accounts:login"))
                break
            except ConnectionRefusedError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        trace = _request(port, "TRACE", "/")
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert page.status == 200
    assert page.getheader("Server") is None
    assert trace.status == 405
