from __future__ import annotations

from django.urls import URLPattern, path

from assistant import views

app_name = "assistant"

urlpatterns: list[URLPattern] = [
    path("", views.chat, name="chat"),
    path("say/", views.utterance_text, name="utterance-text"),
    path("recording/", views.utterance_audio, name="utterance-audio"),
    path("new/", views.conversation_new, name="conversation-new"),
    path("analytics/", views.analytics, name="analytics"),
]
