"""The production shape without Docker: what docker-compose.yml runs, as local processes.

PostgreSQL (a database of its own), Redis, `migrate` once, web processes and one
task worker (the Procfile's commands, as compose runs them), with production
settings and a real SMTP server. Used by tests/test_rehearsal.py and by
bench/bench_load.py.

Migrating a fresh PostgreSQL database and loading the demo practice takes
minutes on a busy machine, so it is done once per state of the migrations and
the demo data, into a template database; each rehearsal gets a copy of it
(CREATE DATABASE ... TEMPLATE) and then runs `migrate` as compose's migrate
service does (a no-op on the copy, as on any restart).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import re
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.servers import ROOT, ServerProcess, server_env, start_process
from tests.smtp_sink import SmtpSink

DEMO_PASSWORD = "Portal-demo-2026!"
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
DEMO_PATIENTS = ("maria.garcia@demo.clinic", "john.smith@demo.clinic")
DEMO_PROVIDERS = ("anika.patel@demo.clinic", "marcus.chen@demo.clinic")


def postgres_admin_url() -> str:
    """A PostgreSQL server to create databases on: DATABASE_URL's, or the local default."""
    configured = os.environ.get("REHEARSAL_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        parts = urllib.parse.urlsplit(configured)
        return urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    return "postgres://postgres@127.0.0.1:5432/postgres"


def postgres_available() -> bool:
    try:
        with psycopg.connect(postgres_admin_url(), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def redis_url() -> str:
    return os.environ.get("REDIS_TEST_URL", "")


def redis_available() -> bool:
    url = redis_url()
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=3).ping())
    except redis.RedisError:
        return False


def _database_url(name: str) -> str:
    parts = urllib.parse.urlsplit(postgres_admin_url())
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _template_name() -> str:
    """Names the state of the schema and demo data; a change makes a new template."""
    digest = hashlib.sha256()
    sources = sorted(ROOT.glob("*/migrations/*.py")) + [
        ROOT / "accounts/management/commands/seed_demo.py"
    ]
    for path in sources:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return f"hc_rehearsal_tpl_{digest.hexdigest()[:12]}"


def _manage(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def rehearsal_database(env: dict[str, str]) -> Iterator[str]:
    """A fresh database copied from the migrated and seeded template; dropped afterwards."""
    template = _template_name()
    name = f"hc_rehearsal_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_admin_url(), autocommit=True) as admin:
        # One builder at a time; the others wait and then copy its result.
        admin.execute("SELECT pg_advisory_lock(hashtext('hc_rehearsal_template'))")
        try:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [template]
            ).fetchone()
            if not exists:
                building = f"{template}_building"
                admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
                admin.execute(f'CREATE DATABASE "{building}"')
                build_env = {**env, "DATABASE_URL": _database_url(building)}
                _manage(build_env, "migrate", "--noinput")
                _manage(build_env, "seed_demo", "--if-empty")
                admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
                for (old,) in admin.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'hc\\_rehearsal\\_tpl\\_%%' "
                    "AND datname <> %s",
                    [template],
                ).fetchall():
                    with contextlib.suppress(psycopg.Error):
                        admin.execute(f'DROP DATABASE "{old}"')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            admin.execute("SELECT pg_advisory_unlock(hashtext('hc_rehearsal_template'))")
    try:
        yield _database_url(name)
    finally:
        with psycopg.connect(postgres_admin_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
                # CI leaves no database behind; on a laptop the template saves the next run
                # its migrate and demo data.
                admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


@dataclass
class Stack:
    env: dict[str, str]
    database_url: str
    smtp: SmtpSink
    web: list[ServerProcess]
    worker: ServerProcess
    log_dir: Path
    extra: list[ServerProcess] = field(default_factory=list)

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return connection.execute(query, params or []).fetchall()


@contextlib.contextmanager
def production_stack(log_dir: Path, *, web_count: int = 2, **overrides: str) -> Iterator[Stack]:
    """PostgreSQL copy, compose's `migrate`, `web_count` web processes and one worker."""
    smtp = SmtpSink().start()
    prefix = f"rehearsal-{uuid.uuid4().hex[:10]}"
    env = server_env(
        "",
        REDIS_URL=redis_url(),
        REDIS_KEY_PREFIX=prefix,
        EMAIL_URL=smtp.url,
        DEFAULT_FROM_EMAIL="portal@rehearsal.test",
        # Retries come back fast, so an outage of seconds is over in seconds.
        EMAIL_RETRY_BASE_SECONDS="2",
        TASK_WORKERS="2",
        **overrides,
    )
    try:
        with rehearsal_database(env) as database_url:
            env["DATABASE_URL"] = database_url
            _manage(env, "migrate", "--noinput")  # compose's migrate service, once
            web: list[ServerProcess] = []
            worker = start_process("worker", {**env, "CONN_MAX_AGE": "60"}, log_dir)
            try:
                web = [start_process("web", env, log_dir) for _ in range(web_count)]
                for server in web:
                    server.wait_healthy()
                yield Stack(env, database_url, smtp, web, worker, log_dir)
            finally:
                for process in [*web, worker]:
                    process.stop()
    finally:
        smtp.stop()
        _forget_redis_keys(prefix)


def _forget_redis_keys(prefix: str) -> None:
    """This rehearsal's cache, channel-layer and queue keys, so runs leave Redis as they found it."""
    import redis

    client = redis.Redis.from_url(redis_url(), socket_timeout=10)
    for pattern in (f"{prefix}:*", f"django_q:{prefix}:*"):
        for key in client.scan_iter(match=pattern, count=500):
            client.delete(key)


# --- a signed-in person over plain HTTP, as a browser would -------------------------------

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(page: str) -> str:
    match = CSRF_INPUT.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def totp_now(key_hex: str = DEMO_TOTP_KEY_HEX, *, offset: int = 0) -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(key_hex), t0=0, step=30, digits=6, drift=offset):06d}"


def sign_in(session, base: str, email: str, *, provider: bool) -> None:
    """The real sign-in: password, then (providers) the authenticator's current code.

    `session` is a requests.Session (or locust's HttpSession, which is one).
    """
    page = session.get(f"{base}/accounts/login/").text
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "csrfmiddlewaretoken": csrf_token(page),
            "username": email,
            "password": DEMO_PASSWORD,
        },
        headers={"Referer": f"{base}/accounts/login/", "Origin": base},
    )
    if not provider:
        assert "/accounts/login/" not in response.url, f"sign-in of {email} failed"
        return
    for attempt in range(3):
        page = session.get(f"{base}/accounts/login/code/").text
        response = session.post(
            f"{base}/accounts/login/code/",
            data={"csrfmiddlewaretoken": csrf_token(page), "code": totp_now()},
            headers={"Referer": f"{base}/accounts/login/code/", "Origin": base},
        )
        if "/accounts/login" not in response.url:
            return
        # A code is good once per device: wait for the next one.
        time.sleep(30 - time.time() % 30 + 0.5 if attempt < 2 else 0)
    raise AssertionError(f"second factor of {email} refused")


def provider_ids(session, base: str) -> list[str]:
    page = session.get(f"{base}/appointments/book/").text
    return re.findall(r'href="/appointments/book/([0-9a-f-]{36})/"', page)


def book_first_free_slot(session, base: str, provider_id: str, reason: str = "") -> tuple:
    """Book the first slot offered; returns (response, seconds the POST took)."""
    url = f"{base}/appointments/book/{provider_id}/"
    page = session.get(url).text
    slots = re.findall(r'name="slot" id="[^"]*" value="([^"]+)"', page)
    # This week may be full or over: the week tabs lead to the others.
    for week_key in re.findall(r'href="\?(?:[^"]*&amp;)?week=([^"#&]+)#slots"', page):
        if slots:
            break
        page = session.get(url, params={"week": html.unescape(week_key)}).text
        slots = re.findall(r'name="slot" id="[^"]*" value="([^"]+)"', page)
    assert slots, "no free slot offered"
    week = re.search(r'name="week" value="([^"]+)"', page)
    data = {
        "csrfmiddlewaretoken": csrf_token(page),
        "slot": html.unescape(slots[0]),
        "type": "regular",
        "reason": reason,
    }
    if week:
        data["week"] = week.group(1)
    started = time.monotonic()
    response = session.post(url, data=data, headers={"Referer": url, "Origin": base})
    return response, time.monotonic() - started


def send_message(session, base: str, to_user_id: str, content: str):
    url = f"{base}/messages/with/{to_user_id}/"
    page = session.get(url).text
    return session.post(
        url,
        data={"csrfmiddlewaretoken": csrf_token(page), "content": content},
        headers={"Referer": url, "Origin": base},
    )
