"""/ws/messages/: new messages, read receipts and unread counts, live in every open tab.

Writes go through normal form posts (messaging.views); the socket only
carries what happened since, and answers two requests of the page: "sync"
(what did I miss in this conversation since message X, and which of my
messages are read now) and "read" (I am looking at this conversation).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from typing import Any

from channels.db import database_sync_to_async
from django.utils.dateparse import parse_datetime

from accounts.consumers import PortalConsumer
from accounts.models import User
from messaging.push import display_time, for_viewer, message_payload, user_group
from messaging.selectors import (
    can_use_messaging,
    conversation_partner,
    messages_after,
    read_receipts,
    unread_count,
)
from messaging.services import conversation_mark_read
from patients.timezones import viewing_as

logger = logging.getLogger(__name__)

# "Try again later": the channel layer is unreachable; the page reconnects with backoff.
CLOSE_TRY_AGAIN = 1013
GROUP_JOIN_TIMEOUT_SECONDS = 2.0
MAX_PENDING_IDS = 500


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _after(value: Any) -> uuid.UUID | dt.datetime | None:
    """A message id or an ISO time; anything else means "from the start"."""
    if value in (None, ""):
        return None
    found = _uuid(value)
    if found is not None:
        return found
    try:
        moment = parse_datetime(str(value))
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment


class MessagingConsumer(PortalConsumer):
    group: str | None = None
    _portal_user: bool = False

    async def connect(self) -> None:
        # allowed() is synchronous and must not touch the database, so whether
        # this is a patient or provider with a profile is looked up first.
        user = await self._current_user()
        self._portal_user = user is not None and await database_sync_to_async(can_use_messaging)(
            user
        )
        await super().connect()

    def allowed(self, user: User) -> bool:
        return self._portal_user

    async def on_connect(self) -> None:
        assert self.user is not None
        group = user_group(self.user.pk)
        try:
            await asyncio.wait_for(
                self.channel_layer.group_add(group, self.channel_name), GROUP_JOIN_TIMEOUT_SECONDS
            )
        except Exception:
            logger.warning("Messaging socket could not join its group; closing", exc_info=True)
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        self.group = group

    async def on_disconnect(self, code: int) -> None:
        if self.group is not None:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.group, self.channel_name)

    async def on_message(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind == "sync":
            await self.send_json(await database_sync_to_async(self._sync_reply)(content))
        elif kind == "read":
            await self.send_json(await database_sync_to_async(self._read_reply)(content))
        else:
            await self.send_json({"type": "error", "message": "Unknown request."})

    async def messaging_event(self, event: dict[str, Any]) -> None:
        # The session may have ended since the last check: PHI goes only to a live session.
        user = await self._current_user()
        if user is None or self.user is None or user.pk != self.user.pk:
            await self._end_session()
            return
        with viewing_as(self.zone):
            payload = for_viewer(event["payload"])
        await self.send_json(payload)

    # --- Requests (run in a worker thread: they use the ORM) ------------------

    def _partner(self, content: dict[str, Any]) -> User | None:
        partner_id = _uuid(content.get("with"))
        if partner_id is None or self.user is None:
            return None
        return conversation_partner(self.user, partner_id)

    def _sync_reply(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.user is not None
        reply: dict[str, Any] = {"type": "sync", "unread": unread_count(self.user)}
        if content.get("with") in (None, ""):
            return reply
        partner = self._partner(content)
        if partner is None:
            return {"type": "error", "message": "Conversation not found."}
        missed = messages_after(self.user, partner, after=_after(content.get("after")))
        pending = content.get("pending")
        pending_ids = [
            found
            for found in (
                _uuid(value)
                for value in (pending if isinstance(pending, list) else [])[:MAX_PENDING_IDS]
            )
            if found is not None
        ]
        reply.update(
            {
                "with": str(partner.pk),
                "messages": [message_payload(message) for message in missed.messages],
                "complete": missed.complete,
                "receipts": [
                    {
                        "id": str(message.pk),
                        "read_at": message.read_at.isoformat() if message.read_at else None,
                        "read_at_display": display_time(message.read_at),
                    }
                    for message in read_receipts(self.user, partner, pending_ids)
                ],
            }
        )
        return reply

    def _read_reply(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.user is not None
        partner = self._partner(content)
        if partner is None:
            return {"type": "error", "message": "Conversation not found."}
        conversation_mark_read(reader=self.user, partner=partner)
        return {"type": "unread", "count": unread_count(self.user), "partner_id": str(partner.pk)}
