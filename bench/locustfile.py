"""Signed-in patients and providers on a clinic's mix of pages, with their message sockets open.

Run by bench/bench_load.py against the rehearsal set-up (tests/rehearsal.py); it
reads from the environment:

  LOAD_HOSTS       comma-separated base URLs of the web processes; each user is
                   pinned to one of them in turn, as a sticky load balancer would
  LOAD_PATIENTS    comma-separated patient sign-ins
  LOAD_PROVIDERS   comma-separated provider sign-ins (each with the demo authenticator)
  LOAD_WAIT_SECONDS  "min,max" pause of each user between actions (default 1,3)
  LOAD_USERS       how many users locust starts; measuring begins once all are signed in
  LOAD_MEASURE_SECONDS  how long to measure after that (default 60); then locust stops

A small share of users only fetch /healthz, so its latency under the same load is
measured in the same run (the floor: the server, no page, one query).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import sys
import threading
import time
from pathlib import Path

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.rehearsal import book_first_free_slot, csrf_token, sign_in  # noqa: E402

HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h]
PATIENTS = [p for p in os.environ.get("LOAD_PATIENTS", "").split(",") if p]
PROVIDERS = [p for p in os.environ.get("LOAD_PROVIDERS", "").split(",") if p]

_lock = threading.Lock()
_hosts = itertools.cycle(HOSTS or ["http://127.0.0.1:8000"])
_patients = itertools.cycle(PATIENTS)
_providers = iter(PROVIDERS)  # a code is good once per device: one user per provider account

# Response times of the steady mix, pages and /healthz apart, written to LOAD_RESULTS
# when locust quits; bench_load.py reads them. Sign-in (Argon2, deliberately slow) is
# not part of the mix: measuring starts once every user has signed in and opened its
# socket, and lasts LOAD_MEASURE_SECONDS; then locust stops.
_results: dict[str, list] = {"pages": [], "healthz": [], "failures": []}
_started = {"ready": 0, "measuring": False}
_environment = None


@events.init.add_listener
def _keep_environment(environment, **kwargs) -> None:
    global _environment
    _environment = environment


def _user_ready() -> None:
    with _lock:
        _started["ready"] += 1
        if _started["measuring"] or _started["ready"] < int(os.environ.get("LOAD_USERS", "0")):
            return
        _started["measuring"] = True
    import gevent

    seconds = float(os.environ.get("LOAD_MEASURE_SECONDS", "60"))
    gevent.spawn_later(seconds, _environment.runner.quit)


@events.request.add_listener
def _record(request_type, name, response_time, exception=None, **kwargs) -> None:
    if exception is not None and _started["measuring"]:
        _results["failures"].append(f"{request_type} {name}: {exception}")
    if request_type == "WS" or not _started["measuring"]:
        return
    kind = "healthz" if name == "/healthz" else "pages"
    _results[kind].append((time.time(), response_time))


@events.quitting.add_listener
def _dump(environment, **kwargs) -> None:
    path = os.environ.get("LOAD_RESULTS")
    if path:
        Path(path).write_text(json.dumps(_results))


def _next(source):
    with _lock:
        return next(source)


WAIT = [float(x) for x in os.environ.get("LOAD_WAIT_SECONDS", "1,3").split(",")]


class Portal(HttpUser):
    abstract = True
    wait_time = between(*WAIT)
    provider = False

    def on_start(self) -> None:
        self.socket = None
        self.client.base_url = _next(_hosts)
        self.client.trust_env = False
        self.email = self.account()
        try:
            sign_in(self.client, self.client.base_url, self.email, provider=self.provider)
            self.open_message_socket()
        except Exception as exc:
            _results["failures"].append(f"sign-in of {self.email}: {exc}")
            raise
        finally:
            # A user whose sign-in failed must not hold the measurement back.
            _user_ready()

    def account(self) -> str:
        raise NotImplementedError

    def open_message_socket(self) -> None:
        """The live inbox socket every portal page keeps open, idle but subscribed."""
        from websockets.sync.client import connect

        base = self.client.base_url
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.client.cookies)
        try:
            self.socket = connect(
                base.replace("http://", "ws://") + "/ws/messages/",
                origin=base,
                additional_headers={"Cookie": cookie},
                open_timeout=30,
            )
        except Exception as exc:  # counted as a failure, the user goes on with pages
            self.environment.events.request.fire(
                request_type="WS",
                name="/ws/messages/",
                response_time=0,
                response_length=0,
                exception=exc,
            )

    def on_stop(self) -> None:
        if self.socket is not None:
            self.socket.close()

    def message(self, url: str, content: str) -> None:
        page = self.client.get(url, name=re.sub(r"[0-9a-f-]{36}", "<id>", url)).text
        self.client.post(
            url,
            data={"csrfmiddlewaretoken": csrf_token(page), "content": content},
            headers={"Referer": self.client.base_url + url, "Origin": self.client.base_url},
            name="/messages/with/<id>/ (send)",
        )


class Patient(Portal):
    weight = 1  # everyone the fixed counts below leave

    def account(self) -> str:
        return _next(_patients)

    @task(5)
    def dashboard(self) -> None:
        self.client.get("/patient/")

    @task(2)
    def appointments(self) -> None:
        self.client.get("/appointments/")

    @task(2)
    def booking_page(self) -> None:
        providers = re.findall(
            r'href="/appointments/book/([0-9a-f-]{36})/"',
            self.client.get("/appointments/book/").text,
        )
        if providers:
            self.client.get(
                f"/appointments/book/{random.choice(providers)}/", name="/appointments/book/<id>/"
            )

    @task(1)
    def book(self) -> None:
        providers = re.findall(
            r'href="/appointments/book/([0-9a-f-]{36})/"',
            self.client.get("/appointments/book/", name="/appointments/book/").text,
        )
        if providers:
            # No free slot left in the horizon: nothing to book.
            with contextlib.suppress(AssertionError):
                book_first_free_slot(self.client, self.client.base_url, random.choice(providers))

    @task(2)
    def messaging(self) -> None:
        inbox = self.client.get("/messages/").text
        people = re.findall(r'href="/messages/with/([0-9a-f-]{36})/"', inbox)
        if people:
            self.message(f"/messages/with/{random.choice(people)}/", "A question about my visit")


class Provider(Portal):
    provider = True
    fixed_count = len(PROVIDERS)

    def account(self) -> str:
        return _next(_providers)

    @task(4)
    def dashboard(self) -> None:
        self.client.get("/provider/")

    @task(3)
    def calendar(self) -> None:
        self.client.get("/appointments/schedule/")

    @task(2)
    def inbox_and_reply(self) -> None:
        inbox = self.client.get("/messages/").text
        people = re.findall(r'href="/messages/with/([0-9a-f-]{36})/"', inbox)
        if people:
            self.message(f"/messages/with/{random.choice(people)}/", "Thanks, noted.")


class Health(HttpUser):
    """The floor: /healthz from the same machine, under the same load."""

    fixed_count = int(os.environ.get("LOAD_HEALTH_USERS", "2"))
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.client.base_url = _next(_hosts)
        self.client.trust_env = False
        _user_ready()

    @task
    def healthz(self) -> None:
        self.client.get("/healthz")
