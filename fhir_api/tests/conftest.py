"""Apps and access tokens for the API tests, issued as django-oauth-toolkit issues them."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from oauth2_provider.models import AccessToken, Application, set_token_value

from tests.access_world import (
    World,
    appointment,
    make_world,
    medical_record,
    messages_between_patient_and_provider,
    prescription,
)

world = pytest.fixture(make_world)

PATIENT_SCOPES = "openid fhirUser launch/patient patient/*.rs"
PROVIDER_SCOPES = "openid fhirUser user/*.rs"


@pytest.fixture
def application(db) -> Application:
    return Application.objects.create(
        name="Health Diary",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://diary.example.org/callback",
        algorithm=Application.RS256_ALGORITHM,
    )


def issue_token(user: Any, application: Application, scope: str, *, expires_in: int = 3600) -> str:
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        user=user,
        application=application,
        scope=scope,
        expires=timezone.now() + dt.timedelta(seconds=expires_in),
    )
    set_token_value(token, raw)
    token.save()
    return raw


def api_get(client: Client, path: str, token: str | None = None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, params, headers=headers)


def validate(resource: dict[str, Any]) -> Any:
    """Parse with fhir.resources' R4B models (R4-compatible for every type served): raises when invalid."""
    model = get_fhir_model_class(resource["resourceType"])
    parsed = model.model_validate(resource)
    if resource["resourceType"] == "Bundle":
        for entry in resource.get("entry", []):
            validate(entry["resource"])
    return parsed


def fill_world(world: World) -> dict[str, Any]:
    """A's appointment, visit record, prescription and messages with P (and B's own with Q)."""
    first, reply = messages_between_patient_and_provider(world)
    return {
        "Patient": world.patient.pk,
        "Practitioner": world.provider.pk,
        "PractitionerRole": world.provider.pk,
        "Appointment": appointment(world).pk,
        "Encounter": medical_record(world).pk,
        "Condition": medical_record(world).pk,
        "MedicationRequest": prescription(world).pk,
        "Communication": first.pk,
    }
