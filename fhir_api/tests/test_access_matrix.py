"""Every resource type of the API x every outsider: anonymous, another patient's app, an unrelated
provider's app, and A's own app with a scope too narrow. Zero leaks: nobody but A and her provider
learns anything of A's data, and a narrow token reaches nothing outside its scope."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from fhir_api.scopes import PATIENT_DATA_TYPES, RESOURCE_TYPES
from fhir_api.tests.conftest import (
    PATIENT_SCOPES,
    PROVIDER_SCOPES,
    api_get,
    fill_world,
    issue_token,
)

pytestmark = pytest.mark.django_db
BASE = "/fhir/r4"


def _narrow_scope(resource_type: str) -> str:
    """Every type but this one: exactly what the token must not reach."""
    return " ".join(f"patient/{other}.rs" for other in RESOURCE_TYPES if other != resource_type)


def _shown(response) -> str:
    """What a response shows of anybody's data: a search's entries (its links echo the query)."""
    if response.status_code == 200 and json.loads(response.content).get("resourceType") == "Bundle":
        return json.dumps(json.loads(response.content).get("entry", []))
    return response.content.decode()


def _leaks(response, secrets: list[str]) -> list[str]:
    text = _shown(response)
    return [s for s in secrets if s in text]


@pytest.mark.parametrize("resource_type", sorted(RESOURCE_TYPES))
def test_no_outsider_reads_or_finds_a_resource_of_patient_a(
    resource_type: str, world, application
) -> None:
    ids = fill_world(world)
    a_id = str(ids[resource_type])
    secrets = [world.patient.user.full_name, world.patient.user.email, str(world.patient.pk)]
    if resource_type in PATIENT_DATA_TYPES:
        secrets.append(a_id)
    tokens = {
        "anonymous": None,
        "other patient": issue_token(world.other_patient.user, application, PATIENT_SCOPES),
        "unrelated provider": issue_token(world.other_provider.user, application, PROVIDER_SCOPES),
        "narrow scope": issue_token(world.patient.user, application, _narrow_scope(resource_type)),
    }
    owner = issue_token(world.patient.user, application, PATIENT_SCOPES)
    provider = issue_token(world.provider.user, application, PROVIDER_SCOPES)
    client = Client()
    # The owner and her provider do get in: the matrix is about the right thing.
    assert api_get(client, f"{BASE}/{resource_type}/{a_id}", owner).status_code == 200
    assert api_get(client, f"{BASE}/{resource_type}/{a_id}", provider).status_code == 200

    failures = []
    for who, token in tokens.items():
        read = api_get(client, f"{BASE}/{resource_type}/{a_id}", token)
        search = api_get(client, f"{BASE}/{resource_type}", token, patient=str(world.patient.pk))
        if resource_type in ("Patient", "Practitioner", "PractitionerRole"):
            search = api_get(client, f"{BASE}/{resource_type}", token)
        expected = {"anonymous": 401, "narrow scope": 403}.get(who)
        if expected is None and resource_type in PATIENT_DATA_TYPES:
            expected = 404
        if expected is not None and read.status_code != expected:
            failures.append(f"{who} read {resource_type}: {read.status_code}, expected {expected}")
        if who in ("anonymous", "narrow scope"):
            if search.status_code != expected:
                failures.append(f"{who} search {resource_type}: {search.status_code}")
        elif search.status_code not in (200, 400, 403, 404):
            failures.append(f"{who} search {resource_type}: {search.status_code}")
        if resource_type in PATIENT_DATA_TYPES or who in ("anonymous", "narrow scope"):
            for response, what in ((read, "read"), (search, "search")):
                if leaked := _leaks(response, secrets):
                    failures.append(f"{who} {what} {resource_type} shows {leaked}")
    assert not failures, "\n".join(failures)


def test_no_outsider_gets_patient_a_everything(world, application) -> None:
    fill_world(world)
    path = f"{BASE}/Patient/{world.patient.pk}/$everything"
    client = Client()
    expected = {
        None: 401,
        issue_token(world.other_patient.user, application, PATIENT_SCOPES): 404,
        issue_token(world.other_provider.user, application, PROVIDER_SCOPES): 404,
        issue_token(world.patient.user, application, _narrow_scope("Patient")): 403,
    }
    for token, status in expected.items():
        response = api_get(client, path, token)
        assert response.status_code == status
        assert world.patient.user.full_name not in response.content.decode()


def test_a_token_of_an_ended_care_relationship_reads_nothing_more(world, application) -> None:
    from providers.models import ProviderPatient, RelationshipStatus

    ids = fill_world(world)
    token = issue_token(world.provider.user, application, PROVIDER_SCOPES)
    ProviderPatient.objects.filter(provider=world.provider, patient=world.patient).update(
        status=RelationshipStatus.INACTIVE
    )
    for resource_type in sorted(PATIENT_DATA_TYPES):
        assert (
            api_get(Client(), f"{BASE}/{resource_type}/{ids[resource_type]}", token).status_code
            == 404
        )
