from __future__ import annotations

from django.urls import URLPattern, path

from records import views

app_name = "records"

urlpatterns: list[URLPattern] = [
    # Patients
    path("", views.patient_record_list, name="patient-record-list"),
    path("summary/", views.patient_summary, name="patient-summary"),
    # Both portals: the patient's own record, or a provider with access to the patient
    path("<uuid:record_id>/", views.record_detail, name="record-detail"),
    # Providers
    path("new/<uuid:patient_id>/", views.record_create, name="record-create"),
    path("<uuid:record_id>/edit/", views.record_update, name="record-update"),
]
