"""Refuse request bodies larger than any page legitimately sends, before they are read.

Django's ASGI handler reads the whole body (memory, then a temporary file)
before any view or CSRF check runs, so one anonymous 200 MB POST costs the
server its size. This ASGI middleware wraps the whole application: a body
whose Content-Length is over the limit is answered 413 without reading a
byte of it, and a body without one (chunked) is counted as it streams and
cut at the limit: the application sees the client as gone, the client gets
413 and the connection is closed, so the rest is never read.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

Scope = dict[str, Any]
Message = dict[str, Any]

# Multipart framing and the form's other fields around the largest upload.
FORM_OVERHEAD_BYTES = 64 * 1024


def request_body_limit() -> int:
    """Largest request body accepted, in bytes (REQUEST_BODY_MAX_BYTES).

    By default: the assistant's WAV upload at its longest
    (ASSISTANT_MAX_UTTERANCE_SECONDS), the largest request any page sends,
    plus room for the multipart form around it.
    """
    configured = getattr(settings, "REQUEST_BODY_MAX_BYTES", None)
    if configured:
        return int(configured)
    from assistant import conf
    from assistant.forms import WAV_HEADER_ALLOWANCE
    from assistant.speech import BYTES_PER_SECOND

    # The same sum as RecordingForm.clean_audio's limit.
    recording = int(conf.max_utterance_seconds() * BYTES_PER_SECOND) + WAV_HEADER_ALLOWANCE
    return recording + FORM_OVERHEAD_BYTES


PAYLOAD_TOO_LARGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Request too large</title></head>
<body><main><h1>Request too large</h1>
<p>What was sent is larger than anything this site accepts. Go back and try a smaller file.</p>
</main></body></html>
"""


class RequestBodyLimitMiddleware:
    def __init__(self, app: Any, *, max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes if max_bytes is not None else request_body_limit()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            # Nothing read yet: uvicorn holds back at most one socket buffer,
            # and never sends "100 Continue" to a client that asked for it.
            await _refuse(send)
            return

        received = 0
        over_limit = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, over_limit
            if over_limit:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Django treats a disconnect while reading as RequestAborted
                    # and answers nothing; the 413 below is sent instead.
                    over_limit = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if over_limit and not response_started:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)
        if over_limit and not response_started:
            await _refuse(send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(PAYLOAD_TOO_LARGE)).encode()),
                # The unread rest of the body must not be taken for the next request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": PAYLOAD_TOO_LARGE})
