from __future__ import annotations

from django.urls import URLPattern, path

from messaging.consumers import MessagingConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/messages/", MessagingConsumer.as_asgi()),
]
