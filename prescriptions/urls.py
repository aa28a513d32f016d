from __future__ import annotations

from django.urls import URLPattern, path

from prescriptions import views

app_name = "prescriptions"

urlpatterns: list[URLPattern] = [
    # Patients
    path("", views.patient_prescription_list, name="patient-prescription-list"),
    path(
        "<uuid:prescription_id>/refill/",
        views.refill_request_create_view,
        name="refill-request-create",
    ),
    # Both portals: the patient's own prescription, or a provider with access to the patient
    path("<uuid:prescription_id>/", views.prescription_detail, name="prescription-detail"),
    # Providers
    path("new/<uuid:patient_id>/", views.prescription_create, name="prescription-create"),
    path(
        "<uuid:prescription_id>/cancel/", views.prescription_cancel_view, name="prescription-cancel"
    ),
    path(
        "<uuid:prescription_id>/complete/",
        views.prescription_complete_view,
        name="prescription-complete",
    ),
    path("refills/", views.provider_refill_list, name="provider-refill-list"),
    path("refills/<uuid:refill_id>/", views.refill_detail, name="refill-detail"),
    path("refills/<uuid:refill_id>/approve/", views.refill_approve, name="refill-approve"),
    path("refills/<uuid:refill_id>/deny/", views.refill_deny, name="refill-deny"),
    path("refills/<uuid:refill_id>/renew/", views.refill_renew, name="refill-renew"),
]
