"""The SSN never leaves the server except masked, and providers' PHI views are logged.

Like the access matrix, the pages come from walking the URL resolver, so every
page a later issue adds is checked here too (arguments filled from the same
world, see tests/access_world.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from uuid import UUID

import pytest
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse

from accounts.decorators import provider_required
from healthcare.net import client_ip
from patients.models import PHIAccess
from patients.selectors import patient_for_user
from patients.services import phi_access_record
from tests.access_world import (
    ANONYMOUS,
    OTHER_PATIENT,
    OTHER_PROVIDER,
    PATIENT,
    PATIENT_SSN,
    PATIENT_SSN_MASKED,
    PERSONAS,
    PROVIDER,
    Endpoint,
    World,
    body_of,
    describe,
    discover_endpoints,
    make_world,
    missing_builder_message,
    ssn_spellings,
    urlconf_installed,
)

ENDPOINTS = discover_endpoints()
PHI_ENDPOINTS = [e for e in ENDPOINTS if e.phi_kwargs and not e.is_public_token_link]

# Pages that take a PHI argument but show no PHI of the patient, with the reason.
# Every other one a provider opens must write an access-log row.
NOT_PHI_PAGES: dict[str, str] = {}

# Gaps found in pages still being built, each with the fix. Strict: once the view
# is fixed the test passes, the xfail turns red, and the entry must go.
KNOWN_GAPS: dict[str, str] = {}


def _phi_params() -> list[object]:
    return [
        pytest.param(
            e,
            id=e.name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[e.name])]
            if e.name in KNOWN_GAPS
            else [],
        )
        for e in PHI_ENDPOINTS
    ]


# The test client's address, which the access log must record.
CLIENT_IP = "127.0.0.1"


# The world of tests/access_world.py: A and her provider P, B and hers, Q.
world = pytest.fixture(make_world)


def _assert_no_ssn(body: str, world: World, where: str) -> None:
    for ssn in world.ssns:
        for spelling in ssn_spellings(ssn):
            assert spelling not in body, f"{where} shows an SSN in full ({spelling!r})"


def test_the_world_has_the_ssns_this_file_looks_for(world: World) -> None:
    assert world.patient.ssn == PATIENT_SSN
    assert world.patient.ssn_masked == PATIENT_SSN_MASKED
    assert world.other_patient.ssn


def test_discovery_finds_every_page() -> None:
    names = {e.name for e in ENDPOINTS}
    assert {
        "patients:profile",
        "providers:patient-chart",
        "providers:dashboard",
        "accounts:login",
    } <= names
    assert "providers:patient-chart" in {e.name for e in PHI_ENDPOINTS}


def test_every_exception_names_a_phi_url_that_exists() -> None:
    names = {e.name for e in PHI_ENDPOINTS}
    listed = {*NOT_PHI_PAGES, *KNOWN_GAPS}
    assert listed <= names, f"stale exceptions, remove them: {sorted(listed - names)}"


# --- (1) No page shows an SSN in full ---------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_no_page_shows_an_ssn_in_full(endpoint: Endpoint, world: World) -> None:
    check_no_ssn(endpoint, world)


def check_no_ssn(endpoint: Endpoint, world: World) -> None:
    """GET `endpoint` as every persona; AssertionError when a body holds an SSN in full."""
    assert not endpoint.missing_builders, missing_builder_message(endpoint)
    for persona in PERSONAS:
        path = world.path_for(endpoint, persona)
        response = world.clients[persona].get(path)
        _assert_no_ssn(body_of(response), world, f"GET {path} as {persona} ({describe(response)})")


def test_the_patients_own_profile_shows_the_ssn_masked(world: World) -> None:
    body = body_of(world.clients[PATIENT].get(reverse("patients:profile")))
    assert PATIENT_SSN_MASKED in body
    _assert_no_ssn(body, world, "the patient's profile")


def test_the_providers_chart_shows_the_ssn_masked(world: World) -> None:
    response = world.clients[PROVIDER].get(
        reverse("providers:patient-chart", args=[world.patient.pk])
    )
    assert response.status_code == 200
    body = body_of(response)
    assert PATIENT_SSN_MASKED in body
    _assert_no_ssn(body, world, "the provider's chart")


def test_a_rejected_profile_form_does_not_echo_the_ssn(world: World) -> None:
    # A form shown again with errors must not write the typed SSN back into the page.
    response = world.clients[PATIENT].post(
        reverse("patients:profile"),
        {"full_name": "", "date_of_birth": "not a date", "ssn": "123 45 6789"},
    )
    assert response.status_code == 200
    body = body_of(response)
    assert "form-errors" in body or "error" in body
    _assert_no_ssn(body, world, "the rejected profile form")


def test_a_rejected_registration_does_not_echo_the_ssn(client: Client, world: World) -> None:
    response = client.post(
        reverse("accounts:register"),
        {
            "full_name": "Quinn New",
            "email": "quinn.new@example.org",
            "date_of_birth": (dt.date.today() - dt.timedelta(days=40 * 365)).isoformat(),
            "ssn": "345-67-8901",
            "password1": "short",
            "password2": "different",
        },
    )
    assert response.status_code in (200, 400)
    body = body_of(response)
    for spelling in ssn_spellings("345-67-8901"):
        assert spelling not in body, f"the rejected registration form shows the SSN ({spelling!r})"


def test_the_admin_shows_the_ssn_masked(staff_client: Client, world: World) -> None:
    pages = [
        reverse("admin:patients_patientprofile_changelist"),
        reverse("admin:patients_patientprofile_change", args=[world.patient.pk]),
    ]
    for page in pages:
        response = staff_client.get(page)
        assert response.status_code == 200, f"{page}: {describe(response)}"
        _assert_no_ssn(body_of(response), world, page)
    assert PATIENT_SSN_MASKED in body_of(staff_client.get(pages[1]))


# --- (2) A provider's opening of PHI is logged; the patient's own is not ------------


def _accesses() -> list[PHIAccess]:
    return list(PHIAccess.objects.order_by("accessed_at", "pk"))


@pytest.mark.parametrize("endpoint", _phi_params())
def test_opening_phi_is_logged_for_the_provider_and_not_for_the_patient(
    endpoint: Endpoint, world: World
) -> None:
    before = PHIAccess.objects.count()
    seen = check_phi_logged(endpoint, world)
    if not any(outcome.startswith("200") for outcome in seen.values()):
        # An action that only takes POST opens no page, and the FHIR API opens nothing to a
        # portal session (401 until a bearer token): a GET must show nothing and log nothing
        # for either of them. Their POST is covered by the access matrix; the API's reads and
        # their access log by fhir_api/tests with real tokens.
        post_only = any(outcome.startswith("405") for outcome in seen.values())
        token_only = all(outcome.startswith("401") for outcome in seen.values())
        assert post_only or token_only, f"neither A nor P can open {endpoint.name}: {seen}"
        assert PHIAccess.objects.count() == before, f"a refused GET of {endpoint.name} was logged"


def check_phi_logged(endpoint: Endpoint, world: World) -> dict[str, str]:
    """Open `endpoint` as A, then as P; what each got. AssertionError when the log is wrong."""
    assert not endpoint.missing_builders, missing_builder_message(endpoint)
    seen = {}

    before = PHIAccess.objects.count()
    response = world.clients[PATIENT].get(world.path_for(endpoint, PATIENT))
    seen[PATIENT] = describe(response)
    if response.status_code == 200:
        assert PHIAccess.objects.count() == before, (
            f"the patient opening her own {endpoint.name} was logged"
        )

    known = {a.pk for a in _accesses()}
    response = world.clients[PROVIDER].get(world.path_for(endpoint, PROVIDER))
    seen[PROVIDER] = describe(response)
    if response.status_code == 200:
        new = [a for a in _accesses() if a.pk not in known]
        if endpoint.name not in NOT_PHI_PAGES:
            assert new, (
                f"provider P opened A's {endpoint.name} and no PHIAccess row was written: call "
                "patients.services.phi_access_record in the view (or list it in NOT_PHI_PAGES with why)."
            )
        for access in new:
            assert access.accessor_id == world.provider.user_id, (
                "the access row must name P as accessor"
            )
            assert access.patient_id == world.patient.pk, (
                "the access row must name A as the patient"
            )
            assert access.resource, "the access row must say what was opened"
            assert access.ip_address == CLIENT_IP, (
                f"the access row must record the client's address, not {access.ip_address!r}"
            )
            assert not access.emergency, "P has a care relationship: no emergency access"
    return seen


def test_opening_the_chart_writes_one_access_row_naming_who_what_and_where(world: World) -> None:
    chart = reverse("providers:patient-chart", args=[world.patient.pk])
    assert world.clients[PROVIDER].get(chart).status_code == 200
    [access] = _accesses()
    assert access.accessor == world.provider.user
    assert access.patient == world.patient
    assert access.resource == "chart"
    assert access.object_id == str(world.patient.pk)
    assert access.ip_address == CLIENT_IP


def test_outsiders_refused_a_chart_leave_no_access_row(world: World) -> None:
    chart = reverse("providers:patient-chart", args=[world.patient.pk])
    for persona in (ANONYMOUS, OTHER_PATIENT, OTHER_PROVIDER, PATIENT):
        assert world.clients[persona].get(chart).status_code in (302, 403, 404)
    assert _accesses() == []


# --- The checks themselves can fail -------------------------------------------------


@provider_required
def _chart_with_the_full_ssn(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = patient_for_user(request.user, patient_id)
    if patient is None:
        raise Http404
    phi_access_record(
        accessor=request.user, patient=patient, resource="chart", ip_address=client_ip(request)
    )
    return HttpResponse(f"{patient.full_name} SSN {patient.ssn.replace('-', '')}")


@provider_required
def _chart_not_logged(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = patient_for_user(request.user, patient_id)
    if patient is None:
        raise Http404
    return HttpResponse(f"{patient.full_name} SSN {patient.ssn_masked}")


@provider_required
def _chart_logged_without_address(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = patient_for_user(request.user, patient_id)
    if patient is None:
        raise Http404
    phi_access_record(accessor=request.user, patient=patient, resource="chart")
    return HttpResponse(patient.full_name)


@pytest.fixture
def selftest_endpoints(settings) -> Iterator[dict[str, Endpoint]]:
    patterns = [
        path("full-ssn/<uuid:patient_id>/", _chart_with_the_full_ssn, name="full-ssn"),
        path("not-logged/<uuid:patient_id>/", _chart_not_logged, name="not-logged"),
        path("no-address/<uuid:patient_id>/", _chart_logged_without_address, name="no-address"),
    ]
    with urlconf_installed(settings, "tests._phi_exposure_selftest_urls", patterns) as endpoints:
        yield endpoints


def test_the_ssn_check_catches_a_page_with_the_full_ssn(
    selftest_endpoints: dict[str, Endpoint], world: World
) -> None:
    with pytest.raises(
        AssertionError, match="as provider .* shows an SSN in full \\('123456789'\\)"
    ):
        check_no_ssn(selftest_endpoints["full-ssn"], world)
    check_no_ssn(selftest_endpoints["not-logged"], world)


def test_the_log_check_catches_a_provider_page_that_is_not_logged(
    selftest_endpoints: dict[str, Endpoint], world: World
) -> None:
    with pytest.raises(AssertionError, match="no PHIAccess row was written"):
        check_phi_logged(selftest_endpoints["not-logged"], world)
    with pytest.raises(AssertionError, match="must record the client's address, not None"):
        check_phi_logged(selftest_endpoints["no-address"], world)
    assert check_phi_logged(selftest_endpoints["full-ssn"], world) == {
        PATIENT: "403",
        PROVIDER: "200",
    }
