"""/ws/assistant/: the assistant over a websocket, typed or spoken.

Messages from the browser:
- {"type": "text", "text": "..."}: a typed question.
- {"type": "start", "sample_rate": 16000, "channels": 1}: a spoken question begins;
  binary frames that follow are 16 kHz mono 16-bit little-endian PCM.
- {"type": "stop"}: the question is finished; {"type": "cancel"} drops it.
- {"type": "reset"}: forget the conversation so far.

Messages to the browser:
- {"type": "ready", "voice": bool, "reason": "..."} once connected;
- {"type": "listening"} after start; {"type": "partial", "text": ...} while speaking;
- {"type": "final", "text": ...} after stop; {"type": "reply", "reply": {...}};
- {"type": "error", "code": ..., "message": ...}.

Emergency phrases are checked on every partial transcript as well as the
final one, so the 911/988 answer comes while the person is still speaking.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from auditlog.context import set_actor
from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from accounts.consumers import PortalConsumer
from accounts.models import Role, User
from assistant import speech
from assistant.conversation import save_turn, saved_state
from assistant.dialogue import Reply, emergency_reply, role_of
from assistant.nlu import check_emergency
from assistant.redaction import identifiers_of, redact
from assistant.selectors import speech_vocabulary
from assistant.services import (
    UtteranceInvalid,
    conversation_of,
    interaction_log,
    utterance_respond,
    with_conversation,
)
from healthcare import ratelimits


def _has_portal_profile(user: User) -> bool:
    if user.role == Role.PATIENT:
        return hasattr(user, "patient_profile")
    if user.role == Role.PROVIDER:
        return hasattr(user, "provider_profile")
    return False


class AssistantConsumer(PortalConsumer):
    state: dict[str, Any] | None = None
    recognizer: speech.StreamRecognizer | None = None
    alerted: Reply | None = None
    alert_state: dict[str, Any] | None = None
    last_partial: str = ""
    portal_user: bool = False
    # The user's own identifiers taken out of transcripts (read once: queries are not
    # allowed on the event loop).
    identifiers: tuple[str, ...] = ()

    async def _current_user(self) -> User | None:
        user = await super()._current_user()
        if user is not None and self.user is None:
            # Checked once, at connect: the profile lookups are queries, not allowed on the loop.
            self.portal_user = await database_sync_to_async(_has_portal_profile)(user)
            self.identifiers = tuple(await database_sync_to_async(identifiers_of)(user))
        return user

    def allowed(self, user: User) -> bool:
        return self.portal_user

    async def on_connect(self) -> None:
        self.state = await database_sync_to_async(saved_state)(self._session_key())
        status = speech.voice_status()
        await self.send_json({"type": "ready", "voice": status.available, "reason": status.reason})

    async def on_disconnect(self, code: int) -> None:
        self.recognizer = None

    async def on_message(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind in ("text", "start") and not await self._allow_utterance():
            # One counter per user with the page's endpoints: a second tab or the
            # HTTP fallback does not start a fresh count.
            await self._error(
                "rate_limited",
                _("Too many questions in a short time. Please wait a minute and try again."),
            )
            return
        if kind == "text":
            await self._answer(str(content.get("text") or ""))
        elif kind == "start":
            await self._start(content)
        elif kind == "stop":
            await self._stop()
        elif kind == "cancel":
            self._drop_stream()
            await self.send_json({"type": "cancelled"})
        elif kind == "reset":
            self.state = None
            await database_sync_to_async(save_turn)(self._session_key(), state=None, reply=None)
            await self.send_json({"type": "reset"})
        else:
            await self._error("unknown", _("Unknown message type."))

    async def on_bytes(self, data: bytes) -> None:
        if self.recognizer is None:
            await self._error(
                "not_listening", _("Press the microphone button before sending audio.")
            )
            return
        if data[:4] == b"RIFF":
            self._drop_stream()
            await self._error(
                "not_pcm", _("Send raw 16 kHz 16-bit PCM, not a WAV file, over the socket.")
            )
            return
        try:
            speech.check_pcm_chunk(data)
            heard = await speech.in_pool(self.recognizer.accept, data)
        except speech.AudioError as exc:
            self._drop_stream()
            await self._error("audio", str(exc))
            return
        if heard.changed and heard.text != self.last_partial:
            self.last_partial = heard.text
            # Transcripts are shown redacted too (an SSN read out digit by digit).
            await self.send_json({"type": "partial", "text": self._redact(heard.text)})
            await self._check_partial(heard.text)

    # --- Voice -----------------------------------------------------------------------

    async def _start(self, content: dict[str, Any]) -> None:
        status = speech.voice_status()
        if not status.available:
            await self._error("voice_unavailable", status.reason)
            return
        rate = content.get("sample_rate", speech.SAMPLE_RATE)
        channels = content.get("channels", speech.CHANNELS)
        if rate != speech.SAMPLE_RATE:
            await self._error(
                "sample_rate",
                _("Audio must be sampled at 16000 Hz; this stream says %(rate)s.") % {"rate": rate},
            )
            return
        if channels != speech.CHANNELS:
            await self._error(
                "channels",
                _("Audio must be mono (one channel); this stream has %(n)s.") % {"n": channels},
            )
            return
        # The user's provider and medicine names, as hints to a model that takes them.
        vocabulary = await database_sync_to_async(speech_vocabulary)(self.user)
        try:
            self.recognizer = await speech.in_pool(
                partial(speech.StreamRecognizer, vocabulary=vocabulary)
            )
        except speech.SpeechUnavailable as exc:
            await self._error("voice_unavailable", str(exc))
            return
        self.alerted = None
        self.alert_state = None
        self.last_partial = ""
        # Whether a note is being dictated decides what counts as an emergency in the partials.
        self.state = await database_sync_to_async(saved_state)(self._session_key())
        await self.send_json({"type": "listening"})

    async def _stop(self) -> None:
        recognizer = self.recognizer
        if recognizer is None:
            await self._error("not_listening", _("Nothing was being recorded."))
            return
        self.recognizer = None
        text = self._redact((await speech.in_pool(recognizer.finish)).strip())
        await self.send_json({"type": "final", "text": text})
        if self.alerted is not None:
            # The emergency answer already went out on a partial transcript: log it once, with the words heard.
            await self._log_alert(text or self.last_partial)
            return
        if not text:
            await self._error(
                "no_speech", _("I didn't hear any words. Please try again, or type your question.")
            )
            return
        await self._answer(text)

    async def _check_partial(self, text: str) -> None:
        if self.alerted is not None or self.user is None:
            return
        dictating = (self.state or {}).get("slot") == "note"
        emergency = check_emergency(text, role_of(self.user), dictating=dictating)
        # Mid-sentence only a sure emergency interrupts: "my father had a heart attack"
        # may still end "... in 2019"; an uncertain one is asked about on the final text.
        if emergency is None or not emergency.certain:
            return
        reply, state = emergency_reply(emergency, role_of(self.user), self._redact(text))
        self.alerted = reply
        # The emergency belongs to the conversation under way (a transfer passes it on).
        conversation_id = conversation_of(self.state) or uuid.uuid4()
        self.alert_state = with_conversation(state.to_dict(), conversation_id)
        await self.send_json({"type": "reply", "reply": reply.to_json(), "early": True})

    async def _log_alert(self, text: str) -> None:
        reply = self.alerted
        assert reply is not None and self.user is not None
        user = self.user

        session_key = self._session_key()
        state = self.alert_state

        def log() -> None:
            with set_actor(user):
                interaction_log(
                    user=user,
                    input_text=text,
                    response_text=reply.text,
                    detected_intent=reply.intent,
                    confidence_score=reply.confidence,
                    outcome=reply.outcome,
                    conversation_id=conversation_of(state),
                )
            save_turn(session_key, state=state, reply=reply.to_json())

        await database_sync_to_async(log)()
        self.state = state
        self.alerted = None

    def _drop_stream(self) -> None:
        self.recognizer = None
        self.alerted = None

    # --- Answers ---------------------------------------------------------------------

    async def _answer(self, text: str) -> None:
        user = self.user
        assert user is not None
        session_key = self._session_key()

        def respond() -> tuple[Reply, dict[str, Any]]:
            # The session holds the conversation, shared with the page's forms.
            state = saved_state(session_key)
            with set_actor(user):
                reply, new_state = utterance_respond(user=user, text=text, state=state)
            save_turn(session_key, state=new_state, reply=reply.to_json())
            return reply, new_state

        try:
            reply, self.state = await database_sync_to_async(respond)()
        except UtteranceInvalid as exc:
            await self._error("text", str(exc))
            return
        await self.send_json({"type": "reply", "reply": reply.to_json()})

    async def _allow_utterance(self) -> bool:
        # The cache may be Redis: a blocking call, so off the event loop.
        return await sync_to_async(ratelimits.allow_user_action)("assistant-utterance", self.user)

    def _redact(self, text: str) -> str:
        return redact(text, identifiers=self.identifiers)

    def _session_key(self) -> str | None:
        return getattr(self.scope.get("session"), "session_key", None)

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})
