"""/healthz: 200 when the database answers, 503 when it does not, never redirected to HTTPS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.urls import path

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_200_with_json_when_the_database_is_reachable(client, db) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_is_exempt_from_the_https_redirect(client, db, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    redirected = client.get("/admin/login/")
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")


def test_healthz_answers_503_when_the_database_is_unreachable() -> None:
    # A real unreachable database: PostgreSQL on a port where nothing listens.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    env.update(
        ENV_FILE="/nonexistent/.env",
        DEBUG="true",
        ALLOWED_HOSTS="testserver",
        SECRET_KEY="healthz-probe-" + "k" * 40,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        DATABASE_URL="postgres://postgres@127.0.0.1:9/unreachable?connect_timeout=2",
    )
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "healthcare.settings"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"status": 503, "body": {"status": "error", "database": "unreachable"}}


def test_the_site_icon_is_served_at_the_root(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an icon file
    assert b"PNG" in body[:64]


def _busy_view(request):
    from psycopg_pool import PoolTimeout

    try:
        raise PoolTimeout("couldn't get a connection after 30.00 sec")
    except PoolTimeout as exc:
        from django.db import OperationalError

        raise OperationalError(str(exc)) from exc


def _broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [path("busy/", _busy_view), path("broken/", _broken_view)]
handler500 = "healthcare.views.server_error"


def test_a_busy_connection_pool_answers_503_to_retry_and_a_bug_500(settings, db) -> None:
    from django.test import Client

    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    busy = client.get("/busy/")
    assert busy.status_code == 503
    assert busy["Retry-After"] == "5"
    assert "try again" in busy.content.decode()
    assert client.get("/broken/").status_code == 500
