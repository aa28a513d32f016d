"""Websocket base for both portals: the user is checked on connect, on every message and on a timer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.models import User
from accounts.sessions import session_user
from patients.timezones import UTC, viewing_as, zone_for_user

logger = logging.getLogger(__name__)

# Close code for "your session ended": the page reloads into the sign-in screen.
CLOSE_SESSION_ENDED = 4401
CLOSE_FORBIDDEN = 4403


class PortalConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses implement `on_connect()` and `on_message(content)`.

    The session is re-validated before each message and every
    WEBSOCKET_SESSION_CHECK_SECONDS, so a socket never outlives the session
    that opened it (idle timeout, absolute limit, sign-out everywhere).
    """

    user: User | None = None
    # The zone this user reads times in: replies show times as the pages do.
    zone: Any = UTC
    _watchdog: asyncio.Task | None = None

    def allowed(self, user: User) -> bool:
        """Whether this user may use this socket at all (role checks in subclasses)."""
        return True

    async def connect(self) -> None:
        self.user = await self._current_user()
        if self.user is None:
            await self.close(code=CLOSE_SESSION_ENDED)
            return
        if not self.allowed(self.user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.zone = await database_sync_to_async(zone_for_user)(self.user)
        await self.accept()
        self._watchdog = asyncio.create_task(self._watch_session())
        with viewing_as(self.zone):
            await self.on_connect()

    async def disconnect(self, code: int) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        await self.on_disconnect(code)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        user = await self._current_user()
        if user is None or self.user is None or user.pk != self.user.pk:
            await self._end_session()
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "message": "Messages must be JSON objects."})
            return
        with viewing_as(self.zone):
            await self.on_message(content)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is not None:
            try:
                content = await self.decode_json(text_data)
            except ValueError:
                await self.send_json({"type": "error", "message": "Messages must be JSON."})
                return
            await self.receive_json(content)
            return
        user = await self._current_user()
        if user is None or self.user is None or user.pk != self.user.pk:
            await self._end_session()
            return
        await self.on_bytes(bytes_data or b"")

    async def on_connect(self) -> None:  # pragma: no cover - hook
        return None

    async def on_disconnect(self, code: int) -> None:  # pragma: no cover - hook
        return None

    async def on_message(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "error", "message": "This socket takes no messages."})

    async def on_bytes(self, data: bytes) -> None:
        await self.send_json({"type": "error", "message": "This socket takes no binary data."})

    async def _current_user(self) -> User | None:
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        return await database_sync_to_async(session_user)(key)

    async def _watch_session(self) -> None:
        while True:
            await asyncio.sleep(settings.WEBSOCKET_SESSION_CHECK_SECONDS)
            try:
                user = await self._current_user()
            except Exception:
                # A failed check (database going away at shutdown) must not
                # leave the socket open on an unverified session.
                logger.warning("Session check failed; closing the socket.", exc_info=True)
                user = None
            if user is None:
                await self._end_session()
                return

    async def _end_session(self) -> None:
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        with contextlib.suppress(Exception):
            await self.send_json({"type": "session.ended"})
        # The browser may already be gone (tab closed as the session ended): nothing to close then.
        with contextlib.suppress(Exception):
            await self.close(code=CLOSE_SESSION_ENDED)


class SessionConsumer(PortalConsumer):
    """/ws/session/: tells an open page the moment its session ends."""
