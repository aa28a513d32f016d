from __future__ import annotations

from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("compose/", views.compose, name="compose"),
    path("with/<uuid:user_id>/", views.conversation, name="conversation"),
    path("with/<uuid:user_id>/read/", views.conversation_read, name="conversation-read"),
]
