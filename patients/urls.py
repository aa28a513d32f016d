from __future__ import annotations

from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("access-log/", views.access_log, name="access-log"),
]
