"""The FHIR API as an app sees it: valid resources, search, paging, errors, and the access log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from fhir_api.models import ApiAccess
from fhir_api.tests.conftest import (
    PATIENT_SCOPES,
    PROVIDER_SCOPES,
    api_get,
    fill_world,
    issue_token,
    validate,
)
from patients.models import PHIAccess
from scheduling.models import Appointment, AppointmentStatus

BASE = "/fhir/r4"
TYPES = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Appointment",
    "Encounter",
    "Condition",
    "MedicationRequest",
    "Communication",
)

pytestmark = pytest.mark.django_db


def body(response) -> dict:
    assert response["Content-Type"].startswith("application/fhir+json") or response[
        "Content-Type"
    ].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


def test_capability_statement_is_public_valid_and_lists_what_is_served(client: Client) -> None:
    response = client.get(f"{BASE}/metadata")
    assert response.status_code == 200
    statement = body(response)
    validate(statement)
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == set(TYPES)
    assert {p["name"] for p in resources["Appointment"]["searchParam"]} >= {
        "patient",
        "date",
        "status",
        "_count",
    }
    assert resources["Patient"]["operation"][0]["name"] == "everything"


def test_smart_configuration_names_the_endpoints_and_requires_pkce(client: Client) -> None:
    config = body(client.get(f"{BASE}/.well-known/smart-configuration"))
    assert config["authorization_endpoint"].endswith("/o/authorize/")
    assert config["token_endpoint"].endswith("/o/token/")
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {
        "patient/*.rs",
        "patient/Patient.read",
        "user/*.rs",
        "launch/patient",
        "offline_access",
    } <= set(config["scopes_supported"])
    assert "launch-standalone" in config["capabilities"]


def test_every_resource_the_patient_reads_validates_and_never_carries_the_ssn(
    world, application
) -> None:
    ids = fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    client = Client()
    for resource_type, pk in ids.items():
        read = api_get(client, f"{BASE}/{resource_type}/{pk}", token)
        assert read.status_code == 200, (resource_type, read.content)
        resource = body(read)
        validate(resource)
        assert resource["id"] == str(pk)
        search = api_get(client, f"{BASE}/{resource_type}", token)
        assert search.status_code == 200
        bundle = body(search)
        validate(bundle)
        assert bundle["type"] == "searchset" and bundle["total"] >= 1
        for raw in (read.content.decode(), search.content.decode()):
            assert world.patient.ssn not in raw and world.patient.ssn.replace("-", "") not in raw


def test_mappings_follow_the_value_sets(world, application) -> None:
    ids = fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    client = Client()
    appointment = body(api_get(client, f"{BASE}/Appointment/{ids['Appointment']}", token))
    assert appointment["status"] == "booked"
    assert appointment["appointmentType"]["coding"][0]["code"] == "ROUTINE"
    prescription = body(
        api_get(client, f"{BASE}/MedicationRequest/{ids['MedicationRequest']}", token)
    )
    assert prescription["dispenseRequest"]["numberOfRepeatsAllowed"] == 2
    assert prescription["status"] == "active" and prescription["intent"] == "order"
    condition = body(api_get(client, f"{BASE}/Condition/{ids['Condition']}", token))
    assert condition["code"]["text"] == "Seasonal allergic rhinitis"
    patient = body(api_get(client, f"{BASE}/Patient/{ids['Patient']}", token))
    assert patient["birthDate"] == world.patient.date_of_birth.isoformat()
    assert all("ssn" not in json.dumps(i).lower() for i in patient["identifier"])


def test_search_by_status_date_and_last_updated(world, application) -> None:
    fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    client = Client()
    when = Appointment.objects.get(patient=world.patient).date_time
    day = when.astimezone(dt.UTC).date()

    def total(**params) -> int:
        response = api_get(client, f"{BASE}/Appointment", token, **params)
        assert response.status_code == 200, response.content
        return body(response)["total"]

    assert total(status="booked") == 1
    assert total(status="cancelled") == 0
    assert total(date=f"ge{day.isoformat()}") == 1
    assert total(date=f"lt{day.isoformat()}") == 0
    assert total(date=day.isoformat()) == 1
    assert total(date=f"gt{(day + dt.timedelta(days=1)).isoformat()}") == 0
    assert total(patient=f"Patient/{world.patient.pk}") == 1
    assert total(patient=f"Patient/{world.other_patient.pk}") == 0
    assert (
        total(_lastUpdated=f"ge{(timezone.now() - dt.timedelta(hours=1)).date().isoformat()}") == 1
    )
    assert (
        total(_lastUpdated=f"lt{(timezone.now() - dt.timedelta(days=2)).date().isoformat()}") == 0
    )


def test_paging_links_walk_every_result_once(world, application) -> None:
    first, _reply = fill_world(world)["Communication"], None
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    client = Client()
    seen = []
    url = f"{BASE}/Communication?_count=1"
    pages = 0
    while url:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        bundle = body(response)
        validate(bundle)
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        if pages:
            assert "previous" in links
        url = links.get("next")
        pages += 1
    assert pages == 2 and len(seen) == 2 == len(set(seen))
    assert str(first) in seen


@pytest.mark.parametrize(
    "query",
    [
        "date=yesterday",
        "date=sa2024-01-01",
        "status=booked,nonsense",
        "colour=blue",
        "_count=ten",
        "patient=nobody",
    ],
)
def test_a_bad_search_is_a_400_operation_outcome(world, application, query: str) -> None:
    fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    response = Client().get(
        f"{BASE}/Appointment?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    outcome = body(response)
    validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome"


def test_without_a_valid_token_it_is_401(world, application) -> None:
    ids = fill_world(world)
    expired = issue_token(world.patient.user, application, PATIENT_SCOPES, expires_in=-10)
    client = Client()
    for token in (None, "not-a-token", expired):
        response = api_get(client, f"{BASE}/Patient/{ids['Patient']}", token)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        validate(body(response))


def test_a_signed_in_browser_session_alone_reads_nothing(world, patient_client) -> None:
    ids = fill_world(world)
    assert patient_client.get(f"{BASE}/Patient/{ids['Patient']}").status_code == 401


def test_a_narrow_scope_is_403_on_other_types(world, application) -> None:
    ids = fill_world(world)
    token = issue_token(world.patient.user, application, "openid patient/Appointment.rs")
    client = Client()
    assert api_get(client, f"{BASE}/Appointment/{ids['Appointment']}", token).status_code == 200
    for resource_type in ("Patient", "MedicationRequest", "Condition", "Communication"):
        response = api_get(client, f"{BASE}/{resource_type}/{ids[resource_type]}", token)
        assert response.status_code == 403, resource_type
        validate(body(response))


def test_read_only_and_search_only_scopes(world, application) -> None:
    ids = fill_world(world)
    client = Client()
    read_only = issue_token(world.patient.user, application, "patient/Appointment.r")
    assert api_get(client, f"{BASE}/Appointment/{ids['Appointment']}", read_only).status_code == 200
    assert api_get(client, f"{BASE}/Appointment", read_only).status_code == 403
    v1 = issue_token(world.patient.user, application, "patient/Appointment.read")
    assert api_get(client, f"{BASE}/Appointment", v1).status_code == 200


def test_provider_reads_own_patients_and_never_another(world, application) -> None:
    ids = fill_world(world)
    client = Client()
    token = issue_token(world.provider.user, application, PROVIDER_SCOPES)
    assert api_get(client, f"{BASE}/Patient/{ids['Patient']}", token).status_code == 200
    assert api_get(client, f"{BASE}/Patient/{world.other_patient.pk}", token).status_code == 404
    patients = body(api_get(client, f"{BASE}/Patient", token))
    assert [e["resource"]["id"] for e in patients["entry"]] == [str(world.patient.pk)]
    # patient/ scopes carry no patient context for a provider: nothing is reachable through them.
    patient_scoped = issue_token(world.provider.user, application, "patient/*.rs")
    assert api_get(client, f"{BASE}/Patient/{ids['Patient']}", patient_scoped).status_code == 403


def test_emergency_access_does_not_reach_the_api(world, application) -> None:
    from patients.services import emergency_access_grant

    ids = fill_world(world)
    emergency_access_grant(
        provider=world.other_provider,
        patient=world.patient,
        reason="Unconscious in the emergency room, no relatives reachable",
    )
    token = issue_token(world.other_provider.user, application, PROVIDER_SCOPES)
    assert api_get(Client(), f"{BASE}/Patient/{ids['Patient']}", token).status_code == 404


def test_every_api_read_is_logged_with_the_app_and_shown_to_the_patient(
    world, application, patient_client
) -> None:
    ids = fill_world(world)
    client = Client()
    token = issue_token(world.provider.user, application, PROVIDER_SCOPES)
    before = PHIAccess.objects.filter(patient=world.patient).count()
    api_get(client, f"{BASE}/Condition/{ids['Condition']}", token)
    api_get(client, f"{BASE}/Appointment", token)
    own = issue_token(world.patient.user, application, PATIENT_SCOPES)
    api_get(client, f"{BASE}/MedicationRequest", own)
    rows = PHIAccess.objects.filter(patient=world.patient).order_by("accessed_at")[before:]
    assert [(r.accessor_id, r.resource) for r in rows] == [
        (world.provider.user.pk, "medical_record"),
        (world.provider.user.pk, "appointment"),
        (world.patient.user.pk, "prescription"),
    ]
    assert set(
        ApiAccess.objects.filter(phi_access__in=rows).values_list("app_name", flat=True)
    ) == {"Health Diary"}
    page = patient_client.get("/patient/access-log/")
    assert page.status_code == 200
    assert "Health Diary" in page.content.decode()


def test_reading_practitioners_logs_nothing(world, application) -> None:
    fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    before = PHIAccess.objects.count()
    assert api_get(Client(), f"{BASE}/Practitioner", token).status_code == 200
    assert PHIAccess.objects.count() == before


def test_everything_is_paged_and_complete(world, application) -> None:
    ids = fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    client = Client()
    url = f"{BASE}/Patient/{ids['Patient']}/$everything?_count=2"
    found: list[tuple[str, str]] = []
    while url:
        bundle = body(client.get(url, headers={"Authorization": f"Bearer {token}"}))
        validate(bundle)
        found += [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    assert len(found) == len(set(found)) == bundle["total"]
    assert {(t, str(pk)) for t, pk in ids.items() if t != "PractitionerRole"} <= set(found)
    other = api_get(client, f"{BASE}/Patient/{world.other_patient.pk}/$everything", token)
    assert other.status_code == 404


def test_cancelled_and_no_show_map_to_fhir_codes(world, application) -> None:
    ids = fill_world(world)
    Appointment.objects.filter(pk=ids["Appointment"]).update(status=AppointmentStatus.NO_SHOW)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    assert (
        body(api_get(Client(), f"{BASE}/Appointment/{ids['Appointment']}", token))["status"]
        == "noshow"
    )


def test_the_api_refuses_writes_with_an_operation_outcome(world, application) -> None:
    ids = fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    response = Client().post(
        f"{BASE}/Patient/{ids['Patient']}", {}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 405


def test_tokens_are_stored_hashed(world, application) -> None:
    raw = issue_token(world.patient.user, application, PATIENT_SCOPES)
    stored = AccessToken.objects.get(user=world.patient.user)
    assert stored.token == "" and raw not in stored.token_checksum


def test_rate_limit_per_token(world, application, settings) -> None:
    settings.RATELIMITS = {
        **getattr(settings, "RATELIMITS", {}),
        "fhir-token": "3/m",
        "fhir-app": "100/m",
    }
    fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    client = Client()
    codes = [api_get(client, f"{BASE}/Practitioner", token).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = issue_token(world.patient.user, application, PATIENT_SCOPES)
    assert api_get(client, f"{BASE}/Practitioner", other).status_code == 200


def test_download_my_record_is_a_valid_bundle_of_everything(world, patient_client) -> None:
    ids = fill_world(world)
    response = patient_client.get("/my-record/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    bundle = json.loads(response.content)
    validate(bundle)
    assert bundle["type"] == "collection"
    found = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
    assert {(t, str(pk)) for t, pk in ids.items() if t != "PractitionerRole"} <= found
    assert world.patient.ssn not in response.content.decode()
    assert "download" in patient_client.get("/records/").content.decode()


def test_patient_sees_and_disconnects_an_app(world, application, patient_client) -> None:
    issue_token(world.patient.user, application, PATIENT_SCOPES)
    page = patient_client.get("/accounts/security/").content.decode()
    assert "Health Diary" in page
    response = patient_client.post("/my-record/apps/disconnect/", {"application": application.pk})
    assert response.status_code == 302
    assert not AccessToken.objects.filter(user=world.patient.user).exists()
    assert (
        patient_client.post(
            "/my-record/apps/disconnect/", {"application": application.pk}
        ).status_code
        == 404
    )


def test_queries_per_page_do_not_grow_with_the_record(world, application) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging.services import message_create

    fill_world(world)
    token = issue_token(world.patient.user, application, PATIENT_SCOPES)
    client = Client()

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api_get(client, path, token).status_code == 200
        return len(captured)

    paths = ("/fhir/r4/Communication", f"/fhir/r4/Patient/{world.patient.pk}/$everything")
    small = [queries(path) for path in paths]
    for n in range(30):
        message_create(
            sender=world.patient.user, receiver=world.provider.user, content=f"Question {n}"
        )
    assert [queries(path) for path in paths] == small
