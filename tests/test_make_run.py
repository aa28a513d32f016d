"""`make run` brings up a working server: migrated, demo data loaded, admin and /healthz answering.

It starts the Procfile's web server and task worker together (honcho), prints
the address to open on the port it was given, and Ctrl-C stops both.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@dataclass
class MakeRun:
    base: str
    port: int
    process: subprocess.Popen
    log: IO[str]

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)


@pytest.fixture(scope="module")
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    tmp_path = tmp_path_factory.mktemp("make-run")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PORT"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    log = (tmp_path / "make-run.log").open("w+")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    run = MakeRun(base=f"http://127.0.0.1:{port}", port=port, process=process, log=log)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"make run exited early:\n{run.output()}")
            try:
                if _get(f"{run.base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"make run did not answer within 240 s:\n{run.output()}")
        yield run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_make_run_serves_healthz_admin_and_prints_demo_logins(running_server: MakeRun) -> None:
    base, output = running_server.base, running_server.output()
    status, body = _get(f"{base}/healthz")
    assert status == 200
    assert '"database": "ok"' in body
    status, body = _get(f"{base}/admin/login/")
    assert status == 200
    assert 'name="username"' in body
    assert "Demo sign-ins" in output
    assert "admin@demo.clinic" in output


def test_make_run_prints_the_address_on_the_port_it_was_given(running_server: MakeRun) -> None:
    output = running_server.output()
    assert f"open http://127.0.0.1:{running_server.port}/" in output
    # Not the port honcho would have picked by itself.
    assert "open http://127.0.0.1:5000/" not in output


def test_make_run_starts_the_procfile_web_server_and_one_worker(running_server: MakeRun) -> None:
    # honcho starts each Procfile line through `sh -c`: count the Python processes.
    commands = [
        " ".join(cmdline)
        for cmdline in (child.cmdline() for child in running_server.children())
        if cmdline and Path(cmdline[0]).name.startswith("python")
    ]
    assert sum("healthcare.serve" in command for command in commands) == 1, commands
    assert sum(command.endswith("manage.py qcluster") for command in commands) >= 1, commands
    assert not any("daphne" in command for command in commands)


def test_ctrl_c_stops_the_server_and_the_worker(running_server: MakeRun) -> None:
    # Last in this module: it ends the shared `make run`.
    children = running_server.children()
    assert children
    # Ctrl-C in a terminal signals the whole foreground process group.
    os.killpg(running_server.process.pid, signal.SIGINT)
    running_server.process.wait(timeout=60)
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], [" ".join(p.cmdline()) for p in alive]
    with pytest.raises(OSError):
        _get(f"{running_server.base}/healthz")
