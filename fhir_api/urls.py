"""/fhir/r4/: the FHIR base URL. Read routes name their id after the portal's own URLs
(patient_id, record_id...), so the site-wide access tests build real ids for them."""

from __future__ import annotations

from django.urls import URLPattern, path, register_converter

from fhir_api import views

app_name = "fhir"


class FhirIdConverter:
    """A FHIR logical id (R4 `id` datatype). A malformed one reaches the view, which answers 404
    with an OperationOutcome, instead of Django's HTML 404 for a URL that does not match."""

    regex = r"[A-Za-z0-9\-\.]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


register_converter(FhirIdConverter, "fhirid")

# resource type -> the name of its id in the route
READ_ROUTES = {
    "Patient": "patient_id",
    "Practitioner": "provider_id",
    "PractitionerRole": "provider_id",
    "Appointment": "appointment_id",
    "Encounter": "record_id",
    "Condition": "record_id",
    "MedicationRequest": "prescription_id",
    "Communication": "message_id",
}

urlpatterns: list[URLPattern] = [
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", views.smart_configuration, name="smart-configuration"),
    path(
        "Patient/<fhirid:patient_id>/$everything",
        views.patient_everything,
        name="patient-everything",
    ),
]
for resource_type, id_name in READ_ROUTES.items():
    slug = resource_type.lower()
    urlpatterns += [
        path(
            resource_type,
            views.resource_search,
            {"resource_type": resource_type},
            name=f"{slug}-search",
        ),
        path(
            f"{resource_type}/<fhirid:{id_name}>",
            views.resource_read,
            {"resource_type": resource_type},
            name=f"{slug}-read",
        ),
    ]
