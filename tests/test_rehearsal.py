"""Production rehearsal: the deployment's processes, started as docker-compose starts them.

PostgreSQL (a database of its own) and Redis; `migrate` once; two web processes
(A and B) and one task worker, each the Procfile's command with production
settings (DEBUG off); a real SMTP server. Then, as a clinic would see it:

- a patient on A and a provider on B exchange messages live over websockets;
- a booking on A: its confirmation goes through the worker to the SMTP server;
- the mail server goes down, a booking is made (the page stays fast), the server
  comes back, and the email arrives: retried, not lost; the admin's failure list
  shows the failed attempt;
- the sockets, idle for a minute, are still open and still live;
- web process A is killed: B keeps serving the same signed-in people.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from typing import Any

import pytest
import requests
from websockets.sync.client import ClientConnection, connect

from conftest import require_or_skip
from tests import rehearsal
from tests.rehearsal import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

IDLE_SECONDS = float(os.environ.get("REHEARSAL_IDLE_SECONDS", "60"))
PAGE_FAST_SECONDS = 3.0  # a booking answered while SMTP is down; before, it waited on SMTP


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    require_or_skip(rehearsal.postgres_available(), "PostgreSQL")
    require_or_skip(rehearsal.redis_available(), "Redis (REDIS_TEST_URL)")
    with rehearsal.production_stack(tmp_path_factory.mktemp("rehearsal")) as running:
        yield running


def _person(stack: Stack, server: int, email: str, *, provider: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback, never a proxy
    rehearsal.sign_in(session, stack.web[server].base, email, provider=provider)
    return session


def _socket(stack: Stack, server: int, session: requests.Session, path: str) -> ClientConnection:
    web = stack.web[server]
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return connect(
        f"ws://127.0.0.1:{web.port}{path}",
        origin=web.origin,
        additional_headers={"Cookie": cookie},
        open_timeout=60,
        ping_interval=20,
        ping_timeout=20,
    )


def _next(socket: ClientConnection, kind: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {kind!r} event within {timeout} s"
        event = json.loads(socket.recv(timeout=remaining))
        if event.get("type") == kind:
            return event


def _message(socket: ClientConnection, content: str, timeout: float = 30) -> dict[str, Any]:
    """The next new message with this text (a sender's own sockets hear its messages too)."""
    deadline = time.monotonic() + timeout
    while True:
        event = _next(socket, "message.new", timeout=max(0.1, deadline - time.monotonic()))
        if event["message"]["content"] == content:
            return event


def _user_id(stack: Stack, email: str) -> str:
    ((pk,),) = stack.sql("SELECT id FROM users WHERE email = %s", [email])
    return str(pk)


def _emails_to(stack: Stack, address: str, subject: str) -> int:
    return sum(
        1
        for message in stack.smtp.recorder.messages
        if address in message.to and message.subject == subject
    )


def test_the_deployment_serves_a_clinic_day(stack: Stack) -> None:
    with contextlib.ExitStack() as sockets:
        _clinic_day(stack, lambda socket: sockets.enter_context(socket))


def _clinic_day(stack: Stack, keep) -> None:
    patient_email, provider_email = "maria.garcia@demo.clinic", "anika.patel@demo.clinic"
    a, b = stack.web
    patient = _person(stack, 0, patient_email, provider=False)
    provider = _person(stack, 1, provider_email, provider=True)
    patient_id, provider_id = _user_id(stack, patient_email), _user_id(stack, provider_email)

    # --- live messages between processes ---------------------------------------------
    patient_socket = keep(_socket(stack, 0, patient, "/ws/messages/"))
    provider_socket = keep(_socket(stack, 1, provider, "/ws/messages/"))
    session_socket = keep(_socket(stack, 0, patient, "/ws/session/"))

    sent = rehearsal.send_message(provider, b.base, patient_id, "Your results are in")
    assert sent.status_code == 200 and sent.history, sent.text[:300]
    event = _message(patient_socket, "Your results are in")
    assert event["message"]["sender_id"] == provider_id

    rehearsal.send_message(patient, a.base, provider_id, "Thank you, doctor")
    event = _message(provider_socket, "Thank you, doctor")
    assert event["message"]["sender_id"] == patient_id
    idle_since = time.monotonic()

    # --- a booking's confirmation goes through the worker ----------------------------
    (doctor, *_) = [
        p
        for p in rehearsal.provider_ids(patient, a.base)
        if stack.sql(
            "SELECT 1 FROM provider_profiles WHERE id = %s AND user_id = %s", [p, provider_id]
        )
    ]
    booked, seconds = rehearsal.book_first_free_slot(patient, a.base, doctor)
    assert booked.status_code == 200 and "/appointments/" in booked.url, booked.text[:300]
    subject = "Your appointment is booked"
    stack.smtp.recorder.wait_for(
        lambda r: _emails_to(stack, patient_email, subject) == 1, 60, "the booking confirmation"
    )

    # --- the mail server goes down: the page stays fast, the email is not lost -------
    stack.smtp.stop()
    booked, seconds = rehearsal.book_first_free_slot(patient, a.base, doctor)
    assert booked.status_code == 200 and "/appointments/" in booked.url, booked.text[:300]
    assert seconds < PAGE_FAST_SECONDS, f"booking took {seconds:.1f} s with the mail server down"
    started = time.monotonic()
    while not stack.sql(
        "SELECT 1 FROM django_q_task WHERE success = false AND func = 'healthcare.mail.email_deliver'"
    ):
        assert time.monotonic() - started < 60, stack.worker.output()[-3000:]
        dashboard = patient.get(f"{a.base}/patient/", timeout=PAGE_FAST_SECONDS)
        assert dashboard.status_code == 200
        time.sleep(0.5)
    assert stack.sql("SELECT 1 FROM django_q_schedule WHERE func = 'healthcare.mail.email_deliver'")
    stack.smtp.start()  # back on the same address
    stack.smtp.recorder.wait_for(
        lambda r: _emails_to(stack, patient_email, subject) == 2, 90, "the retried confirmation"
    )

    # --- a minute idle: the sockets are open and live ---------------------------------
    time.sleep(max(0.0, IDLE_SECONDS - (time.monotonic() - idle_since)))
    session_socket.send(json.dumps({"type": "ping"}))
    _next(session_socket, "error")  # answered, so still open
    rehearsal.send_message(provider, b.base, patient_id, "See you on Tuesday")
    _message(patient_socket, "See you on Tuesday")

    # --- process A dies; B serves everyone --------------------------------------------
    a.stop(signal.SIGKILL)
    assert patient.get(f"{b.base}/patient/").status_code == 200
    patient_socket = keep(_socket(stack, 1, patient, "/ws/messages/"))
    rehearsal.send_message(provider, b.base, patient_id, "Still here")
    _message(patient_socket, "Still here")
    booked, seconds = rehearsal.book_first_free_slot(patient, b.base, doctor)
    assert booked.status_code == 200 and "/appointments/" in booked.url
    stack.smtp.recorder.wait_for(
        lambda r: _emails_to(stack, patient_email, subject) == 3, 60, "the third confirmation"
    )
    # Each booking's confirmation arrived exactly once.
    assert _emails_to(stack, patient_email, subject) == 3
