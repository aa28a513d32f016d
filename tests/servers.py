"""Real server processes for tests: the Procfile's commands, started as a deployment starts them.

Used by the request-body, multi-process websocket, connection and rehearsal
tests. The processes share the test database (`shared_database_url()`), so a
test using `transactional_db` can create users the servers see.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
START_TIMEOUT_SECONDS = 180  # a loaded CI machine imports Django, Channels and the assistant slowly


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_commands(path: Path = PROCFILE) -> dict[str, list[str]]:
    """The Procfile's process types and their commands, split as a shell would."""
    commands: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        commands[name.strip()] = shlex.split(command)
    return commands


def shared_database_url() -> str:
    """DATABASE_URL of the database this test process uses, for servers that must share it."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = urllib.parse.quote(settings.get("USER") or "", safe="")
    password = urllib.parse.quote(settings.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings['NAME']}"


def server_env(database_url: str, **overrides: str) -> dict[str, str]:
    """Production settings (DEBUG off) for a server on loopback, with this test run's secrets.

    The secrets are the test process's own, so sessions and encrypted fields it
    writes are valid in the server. No .env is read: only what is set here counts.
    """
    from django.conf import settings

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "PORT", "HOST"}
        and not k.startswith(("PYTEST_", "WEB_"))
    }
    env.update(
        {
            # "python" in the Procfile is this virtualenv's interpreter.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "ENV_FILE": "/nonexistent",
            "DEBUG": "false",
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEY),
            "SSN_HASH_KEY": settings.SSN_HASH_KEY,
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: the TLS proxy is not part of these tests.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "LOG_LEVEL": "WARNING",
            "HOST": "127.0.0.1",
        }
    )
    env.update(overrides)
    return env


def get(
    url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10
) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback only
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@dataclass
class ServerProcess:
    """One process started from a Procfile line; `base` is its URL once it answers /healthz."""

    process: subprocess.Popen
    port: int
    log_path: Path
    log: IO[str] = field(repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.base

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n{self.output()}"
                )
            with contextlib.suppress(OSError):
                if get(f"{self.base}/healthz", timeout=5)[0] == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(
            f"server did not answer /healthz within {timeout:.0f} s:\n{self.output()}"
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


def start_process(
    kind: str, env: Mapping[str, str], log_dir: Path, *, port: int | None = None
) -> ServerProcess:
    """Start the Procfile's `kind` command (web, worker) in its own process group."""
    command = procfile_commands()[kind]
    port = port if port is not None else free_port()
    log_path = log_dir / f"{kind}-{port}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return ServerProcess(process=process, port=port, log_path=log_path, log=log)


@contextlib.contextmanager
def web_servers(count: int, env: Mapping[str, str], log_dir: Path) -> Iterator[list[ServerProcess]]:
    """`count` web processes on their own free ports, each answering /healthz; stopped afterwards."""
    servers = [start_process("web", env, log_dir) for _ in range(count)]
    try:
        for server in servers:
            server.wait_healthy()
        yield servers
    finally:
        for server in servers:
            server.stop()
