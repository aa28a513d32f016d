from __future__ import annotations

from django.urls import URLPattern, path

from assistant.consumers import AssistantConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/assistant/", AssistantConsumer.as_asgi()),
]
