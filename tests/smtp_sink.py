"""A real SMTP server (aiosmtpd) for tests, which counts what it accepted.

It can be slow (each recipient waits `rcpt_delay` seconds before its "250",
before any message data is sent: a client killed then has delivered nothing),
and it can be stopped and started again on the same port, as a mail server
that goes down for a while.
"""

from __future__ import annotations

import asyncio
import email
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.servers import free_port


@dataclass
class Received:
    to: list[str]
    subject: str
    body: str


@dataclass
class Recorder:
    rcpt_delay: float = 0.0
    messages: list[Received] = field(default_factory=list)
    recipients_seen: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self._lock:
            self.recipients_seen.append(address)
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = email.message_from_bytes(envelope.content)
        payload = parsed.get_payload(decode=True) or b""
        with self._lock:
            self.messages.append(
                Received(
                    to=list(envelope.rcpt_tos),
                    subject=str(parsed["Subject"] or ""),
                    body=payload.decode(errors="replace"),
                )
            )
        return "250 Message accepted for delivery"

    def count_per_recipient(self) -> Counter[str]:
        with self._lock:
            return Counter(address for message in self.messages for address in message.to)

    def wait_for(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(self):
                    return
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class SmtpSink:
    """aiosmtpd on 127.0.0.1:<free port>; `url` is the EMAIL_URL that reaches it."""

    def __init__(self, *, rcpt_delay: float = 0.0) -> None:
        self.recorder = Recorder(rcpt_delay=rcpt_delay)
        self.port = free_port()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
