"""The patient portal without the later apps, as before they exist."""

from __future__ import annotations

from django.urls import include, path

from accounts.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("patient/", include("patients.urls")),
]
