"""Where a conversation's state lives between turns: the user's session.

The page's forms, its JSON fallback and the websocket all read and write the
same two keys, so a conversation survives a switch between them (the socket
opening after the first question, or dropping in the middle of one).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError

# The conversation state (DialogueState.to_dict()) and the last reply (its links and suggestions).
STATE_KEY = "assistant_dialogue"
LAST_REPLY_KEY = "assistant_last_reply"


def _store(session_key: str) -> SessionBase:
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def saved_state(session_key: str | None) -> dict[str, Any] | None:
    """The state kept in this session (read afresh: the page may have changed it)."""
    if not session_key:
        return None
    state = _store(session_key).get(STATE_KEY)
    return state if isinstance(state, dict) else None


def save_turn(
    session_key: str | None, *, state: dict[str, Any] | None, reply: dict[str, Any] | None
) -> None:
    """Keep the state after a turn (None forgets it) and the reply the page shows again on reload."""
    if not session_key:
        return
    store = _store(session_key)
    if not store.load():
        return  # the session ended meanwhile: nothing to keep it in
    store[STATE_KEY] = state
    if reply is not None:
        store[LAST_REPLY_KEY] = reply
    try:
        store.save()
    except UpdateError:
        # Signed out between the load and the save; the socket is closed next.
        return
