from __future__ import annotations

from django.contrib import admin
from django.urls import path

from healthcare import views

admin.site.site_header = "Healthcare portal administration"
admin.site.site_title = "Healthcare portal admin"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
