"""An oversized request body is refused with 413 before the server reads it into memory.

Against the real server process (the Procfile's web command, as `make run`
and the image start it), measured from the outside with psutil.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from healthcare.bodylimit import request_body_limit
from tests.servers import ServerProcess, server_env, shared_database_url, start_process

ATTACK_BYTES = 200 * 1024 * 1024
CHUNK = b"\0" * (1024 * 1024)
MAX_GROWTH_BYTES = 64 * 1024 * 1024


@pytest.fixture
def web_server(transactional_db, tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_process("web", server_env(shared_database_url()), tmp_path)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


class _PeakRss:
    """Samples the server's resident memory (itself and any children) while a request runs."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.01)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def _post(port: int, total: int, *, chunked: bool) -> tuple[bytes, int]:
    """POST `total` zero bytes to the sign-in page; returns (the response as read, bytes sent).

    The body is written from a thread while this one waits for the answer, as
    a browser does: a server that answers early is heard at once.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    sock.sendall(
        (
            "POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/octet-stream\r\n"
            f"{framing}\r\n\r\n"
        ).encode()
    )
    sent = 0

    def write() -> None:
        nonlocal sent
        try:
            while sent < total:
                piece = CHUNK[: min(len(CHUNK), total - sent)]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: nothing more is wanted

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    finally:
        sock.close()
        writer.join(timeout=30)
    return answer, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_post_is_refused_without_growing_the_server(
    web_server: ServerProcess, chunked: bool
) -> None:
    # Warm the process (first request loads templates and middleware) before the baseline.
    _post(web_server.port, 10, chunked=False)
    meter = _PeakRss(web_server.process.pid)
    before = meter.rss()

    with meter:
        answer, sent = _post(web_server.port, ATTACK_BYTES, chunked=chunked)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert meter.peak - before < MAX_GROWTH_BYTES, (
        f"RSS grew {(meter.peak - before) / 2**20:.0f} MiB"
    )
    # Refused early, not after reading it all.
    assert sent < ATTACK_BYTES
    assert web_server.process.poll() is None


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_of_the_largest_upload_still_reaches_the_page(
    web_server: ServerProcess, chunked: bool
) -> None:
    # Exactly at the limit: the page answers (the CSRF check refuses it), not the body limit.
    answer, _ = _post(web_server.port, request_body_limit(), chunked=chunked)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]

    answer, _ = _post(web_server.port, request_body_limit() + 1, chunked=chunked)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_the_limit_fits_the_longest_recording_the_assistant_accepts() -> None:
    from assistant import conf
    from assistant.speech import BYTES_PER_SECOND

    longest_wav = int(conf.max_utterance_seconds() * BYTES_PER_SECOND) + 44
    assert longest_wav < request_body_limit() < 2 * longest_wav


def test_the_server_names_itself_in_no_response(web_server: ServerProcess) -> None:
    import http.client

    for method, path in (
        ("GET", "/healthz"),
        ("GET", "/accounts/login/"),
        ("POST", "/accounts/login/"),
    ):
        connection = http.client.HTTPConnection("127.0.0.1", web_server.port, timeout=60)
        connection.request(method, path, body=b"x" * 10 if method == "POST" else None)
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.getheader("Server") is None, (method, path)
    answer, _ = _post(web_server.port, ATTACK_BYTES, chunked=False)
    assert b"\r\nserver:" not in answer.lower()
