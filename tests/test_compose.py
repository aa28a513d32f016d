"""docker-compose.yml, read as Docker would (no Docker engine here): the deployment's shape.

Proxy -> two web replicas -> worker -> PostgreSQL 16 -> Redis 7, each with a
health check, migrations once before anything that uses the schema, and the
web and worker running exactly the Procfile's commands, which `make run` and
the production rehearsal test start too.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from tests.servers import ROOT, procfile_commands

COMPOSE = ROOT / "docker-compose.yml"
CADDYFILE = ROOT / "Caddyfile"
DOCKERFILE = ROOT / "Dockerfile"
# Sizes as Caddy reads them (go-humanize: MB = 1000^2, MiB = 1024^2).
UNITS = {
    "B": 1,
    "KB": 1000,
    "KIB": 1024,
    "MB": 1000**2,
    "MIB": 1024**2,
    "GB": 1000**3,
    "GIB": 1024**3,
}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def _depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def test_the_deployment_has_proxy_web_worker_database_and_redis(services) -> None:
    assert {"caddy", "web", "worker", "migrate", "db", "redis"} <= set(services)
    assert services["caddy"]["image"].startswith("caddy:2")
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["web"]["deploy"]["replicas"] == 2


def test_web_and_worker_run_the_procfile_commands(services) -> None:
    procfile = procfile_commands()
    assert _command(services["web"]) == procfile["web"]
    assert _command(services["worker"]) == procfile["worker"]
    assert procfile["web"] == ["python", "-m", "healthcare.serve"]
    assert procfile["worker"] == ["python", "manage.py", "qcluster"]


def test_the_image_runs_the_procfile_web_command_and_never_migrates_at_start() -> None:
    cmd = next(line for line in DOCKERFILE.read_text().splitlines() if line.startswith("CMD"))
    assert cmd == 'CMD ["python", "-m", "healthcare.serve"]'
    assert "migrate" not in cmd


def test_every_long_running_service_has_a_health_check(services) -> None:
    for name in ("caddy", "web", "worker", "db", "redis"):
        check = services[name].get("healthcheck", {})
        assert check.get("test"), f"{name} has no health check"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_migrations_run_once_before_web_and_worker(services) -> None:
    migrate = services["migrate"]
    assert _command(migrate) == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate.get("restart") == "no"
    assert "deploy" not in migrate  # one container, never replicated
    assert _depends(migrate) == {"db": "service_healthy"}
    for name in ("web", "worker"):
        depends = _depends(services[name])
        assert depends["migrate"] == "service_completed_successfully", name
        assert depends["db"] == "service_healthy", name
        assert depends["redis"] == "service_healthy", name
        assert "migrate" not in " ".join(_command(services[name])), name
    # Only the one-shot service migrates.
    migrating = [
        n
        for n, s in services.items()
        if "migrate" in " ".join(_command(s) if "command" in s else [])
    ]
    assert migrating == ["migrate"]
    assert _depends(services["caddy"]) == {"web": "service_healthy"}


def test_web_and_worker_share_the_database_redis_and_speech_model_volume(services) -> None:
    for name in ("web", "worker"):
        environment = services[name]["environment"]
        assert (
            environment["DATABASE_URL"].startswith("postgres://")
            and "@db:5432/" in environment["DATABASE_URL"]
        )
        assert environment["REDIS_URL"].startswith("redis://redis:6379")
        assert environment["DEBUG"] == "false"
        assert environment["SECURE_PROXY_SSL_HEADER"] == "true"
        assert environment["TRUSTED_PROXY_COUNT"] == "1"
    assert "speech-models:/app/speech-models" in services["web"]["volumes"]
    assert "speech-models" in yaml.safe_load(COMPOSE.read_text())["volumes"]
    # Only the proxy is published; the app speaks plain HTTP inside the network.
    assert "ports" not in services["web"]
    assert {"80:80", "443:443"} <= set(services["caddy"]["ports"])


def test_no_daphne_anywhere_in_the_deployment_path(settings) -> None:
    for path in ("docker-compose.yml", "Dockerfile", "Makefile", "Procfile", "Caddyfile"):
        assert "daphne" not in (ROOT / path).read_text().lower(), path
    assert not re.search(r"daphne\s+-|-m daphne", (ROOT / "README.md").read_text())
    assert "daphne" not in settings.INSTALLED_APPS


def _caddy_size(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)\s*([A-Za-z]*)", text.strip()).groups()
    return int(number) * UNITS[(unit or "B").upper()]


def test_caddy_proxies_every_web_replica_and_caps_bodies_at_or_above_the_app_limit() -> None:
    from healthcare.bodylimit import request_body_limit

    caddyfile = CADDYFILE.read_text()
    max_size = re.search(r"request_body\s*\{\s*max_size\s+(\S+)\s*\}", caddyfile)
    assert max_size, "Caddyfile caps request bodies"
    # Never below the app's limit (a legitimate upload must pass), never far above it.
    assert request_body_limit() <= _caddy_size(max_size.group(1)) <= 4 * request_body_limit()
    assert re.search(r"dynamic a web 8000", caddyfile)
    assert "{$SITE_ADDRESS" in caddyfile


def test_the_connection_arithmetic_stays_under_max_connections(services) -> None:
    """web replicas x processes x pool + worker processes + headroom < PostgreSQL's max_connections."""
    web = services["web"]["environment"]
    default = lambda value: int(re.sub(r"\$\{\w+:-(\d+)\}", r"\1", str(value)))  # noqa: E731
    web_connections = (
        services["web"]["deploy"]["replicas"]
        * default(web["WEB_CONCURRENCY"])
        * default(web["DATABASE_POOL_SIZE"])
    )
    # django-q: its workers plus sentinel, monitor and pusher, one connection each.
    worker_connections = default(services["worker"]["environment"]["TASK_WORKERS"]) + 3
    headroom = 10  # migrate, a shell, psql, superuser-reserved slots
    max_connections = int(
        services["db"]["command"][services["db"]["command"].index("-c") + 1].split("=")[1]
    )
    assert web_connections + worker_connections + headroom <= max_connections
