from __future__ import annotations

from django.urls import URLPattern, path

from fhir_api import views

app_name = "fhir_portal"

urlpatterns: list[URLPattern] = [
    path("download/", views.record_download, name="record-download"),
    path("apps/disconnect/", views.connected_app_revoke, name="app-disconnect"),
]
