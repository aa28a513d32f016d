from __future__ import annotations

from django.urls import path

from providers import views

app_name = "providers"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/<uuid:patient_id>/", views.patient_chart, name="patient-chart"),
    path("emergency-access/", views.emergency_access, name="emergency-access"),
]
