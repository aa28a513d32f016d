"""Websocket routes of every app, gathered in one list."""

from __future__ import annotations

from accounts.routing import websocket_urlpatterns as accounts_ws
from assistant.routing import websocket_urlpatterns as assistant_ws
from messaging.routing import websocket_urlpatterns as messaging_ws

websocket_urlpatterns = [*accounts_ws, *messaging_ws, *assistant_ws]
