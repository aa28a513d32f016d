"""The web servers hold a bounded number of PostgreSQL connections, however many requests arrive.

The web tier as docker-compose.yml configures it (its replicas, each the
Procfile's web command with compose's WEB_CONCURRENCY and DATABASE_POOL_SIZE)
on a scratch PostgreSQL database, hit with several times more concurrent
requests than they have pooled connections. None may fail, and PostgreSQL
must never see more connections from them than the arithmetic in settings.py
promises (replicas x processes x pool): that bound is what keeps a deployment
under max_connections ("too many clients").
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

from conftest import require_or_skip
from tests.servers import ROOT, ServerProcess, get, server_env, start_process


def _compose_web() -> tuple[int, int, int]:
    """Replicas, processes per replica and pool size of compose's web service (its defaults)."""
    import re

    import yaml

    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]

    def default(value: object) -> int:
        return int(re.sub(r"\$\{\w+:-(\d+)\}", r"\1", str(value)))

    environment = web["environment"]
    return (
        web["deploy"]["replicas"],
        default(environment["WEB_CONCURRENCY"]),
        default(environment["DATABASE_POOL_SIZE"]),
    )


ROUNDS = 3


def _server() -> dict[str, object]:
    live = settings.DATABASES["default"]
    if live["ENGINE"] == "django.db.backends.postgresql":
        return {
            "host": live.get("HOST") or "127.0.0.1",
            "port": int(live.get("PORT") or 5432),
            "user": live.get("USER") or "postgres",
            "password": live.get("PASSWORD") or "",
        }
    return {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": ""}


@pytest.fixture
def scratch_database() -> Iterator[tuple[str, object]]:
    """An empty database of its own (/healthz needs no tables) and an admin connection to watch it."""
    import psycopg

    server = _server()
    try:
        admin = psycopg.connect(dbname="postgres", connect_timeout=5, autocommit=True, **server)
    except psycopg.OperationalError:
        admin = None
    require_or_skip(admin is not None, "PostgreSQL")
    name = f"hc_conn_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{server['password']}" if server["password"] else ""
    url = f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    try:
        yield url, name, admin
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _connections(admin, name: str) -> int:
    return admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
    ).fetchone()[0]


def test_concurrent_requests_beyond_the_pool_all_succeed_within_the_connection_bound(
    scratch_database, tmp_path: Path
) -> None:
    url, name, admin = scratch_database
    replicas, processes, pool_size = _compose_web()
    bound = replicas * processes * pool_size
    concurrent = 4 * bound
    env = server_env(url, WEB_CONCURRENCY=str(processes), DATABASE_POOL_SIZE=str(pool_size))
    servers: list[ServerProcess] = [start_process("web", env, tmp_path) for _ in range(replicas)]
    peak = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _connections(admin, name))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        for server in servers:
            server.wait_healthy()
        watcher.start()
        urls = [f"{servers[i % replicas].base}/healthz" for i in range(concurrent * ROUNDS)]
        with ThreadPoolExecutor(concurrent) as pool:
            results = Counter(pool.map(_status, urls))
        settled = _connections(admin, name)
    finally:
        stop.set()
        if watcher.is_alive():
            watcher.join()
        output = "".join(server.output() for server in servers)
        for server in servers:
            server.stop()

    assert results == Counter({200: concurrent * ROUNDS}), (results, output[-3000:])
    assert "too many clients" not in output
    assert 0 < peak <= bound, peak
    assert settled <= bound


def _status(url: str) -> int | str:
    try:
        return get(url, timeout=120)[0]
    except OSError as exc:
        return repr(exc)
