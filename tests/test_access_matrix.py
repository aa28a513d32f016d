"""Every URL that names an object, opened by every persona: only the owner and her provider get in.

The URLs are found by walking the resolver at collection time, so each page a
later issue adds shows up here as its own test id without being listed. For
each one: anonymous -> sign-in (or 404), patient A / provider P -> 200 where
the page is meant for their role, unrelated patient B and unrelated provider
Q -> 404 (a 403 only for the wrong role), and an outsider's POST changes
nothing. See tests/access_world.py for the world and the argument builders.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.test import Client
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.decorators import patient_required, portal_required, provider_required
from messaging.models import Message
from patients.models import PatientProfile
from patients.policy import has_care_relationship
from patients.selectors import patient_for_user
from scheduling.models import Appointment
from tests.access_world import (
    ANONYMOUS,
    KWARGS,
    OTHER_PATIENT,
    OTHER_PROVIDER,
    OUTSIDERS,
    PATIENT,
    PERSONAS,
    PROVIDER,
    Endpoint,
    World,
    body_of,
    build_path,
    changed_counts,
    describe,
    discover_endpoints,
    endpoints_with_arguments,
    make_world,
    missing_builder_message,
    row_counts,
    ssn_spellings,
    urlconf_installed,
)

ENDPOINTS = endpoints_with_arguments()
OBJECT_ENDPOINTS = [e for e in ENDPOINTS if not e.is_public_token_link]
TOKEN_ENDPOINTS = [e for e in ENDPOINTS if e.is_public_token_link]

# URLs that neither A nor P can open with a 200, each with the reason. A URL
# nobody can open is usually a bug; list one here only with a comment saying why.
NOBODY_OPENS: dict[str, str] = {}

# URLs an unrelated person may open although they name an object of the world, with the reason.
OUTSIDER_MAY_OPEN: dict[str, str] = {
    # Any patient may book with any provider of the practice: the provider is a
    # directory entry (scheduling.selectors.bookable_provider), not A's data.
    "scheduling:patient-book-provider": "booking is open to every patient",
}

DENIED = (403, 404)

# Pages without arguments that anonymous visitors may open; every other one
# must send them to sign in. Each is public on purpose (see its view's comment).
PUBLIC_PAGES = frozenset(
    {
        "home",  # sends each visitor where they belong
        "healthz",  # load balancer probe
        "admin-login-redirect",  # to the portal's own sign-in
        "accounts:login",
        "accounts:login-otp",
        "accounts:logout",
        "accounts:register",
        "accounts:verify-resend",
        "accounts:password-reset",
        "accounts:password-reset-done",
        "accounts:password-reset-complete",
        # SMART on FHIR discovery is read by apps before anyone signs in (fhir_api/views.py).
        "fhir:metadata",
        "fhir:smart-configuration",
        "oauth2_provider:oidc-connect-discovery-info",
        "oauth2_provider:jwks-info",  # the public keys that verify ID tokens
    }
)

# Namespaces whose URLs authenticate an OAuth client or a bearer token, never the
# session: the FHIR API and the OAuth endpoints apps call. A session (anyone's)
# gets a 401 there, and anonymous a 400/401/405 or the sign-in (the consent page);
# never a 2xx. The per-token matrix is in fhir_api/tests/test_access_matrix.py.
TOKEN_AUTHENTICATED_NAMESPACES = frozenset({"fhir", "oauth2_provider"})


def _token_authenticated(endpoint: Endpoint) -> bool:
    return endpoint.name.partition(":")[0] in TOKEN_AUTHENTICATED_NAMESPACES and endpoint.name not in PUBLIC_PAGES


# The world of tests/access_world.py: A and her provider P, B and hers, Q.
world = pytest.fixture(make_world)


def _login_url() -> str:
    return resolve_url(settings.LOGIN_URL)


def _sent_to_sign_in(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith(_login_url())


def test_discovery_finds_the_object_urls() -> None:
    names = [e.name for e in OBJECT_ENDPOINTS]
    assert names, "the resolver walk found no URL with an object argument"
    assert "providers:patient-chart" in names
    assert not any(e.name.startswith("admin:") or e.route.startswith("admin/") for e in ENDPOINTS)
    chart = next(e for e in OBJECT_ENDPOINTS if e.name == "providers:patient-chart")
    assert chart.kwargs == ("patient_id",)
    assert chart.route == "provider/patients/<uuid:patient_id>/"


def test_discovery_recognises_the_public_token_links() -> None:
    names = {e.name for e in TOKEN_ENDPOINTS}
    assert {
        "accounts:verify-email",
        "accounts:invitation",
        "accounts:password-reset-confirm",
    } <= names
    assert not names & {e.name for e in OBJECT_ENDPOINTS}


@pytest.mark.parametrize("kwarg", sorted(KWARGS))
def test_every_builder_makes_its_value_for_every_persona(kwarg: str, world: World) -> None:
    # Builders of arguments no URL takes yet still run, so the day a URL
    # takes one it does not fail for a reason that has nothing to do with it.
    values = {persona: KWARGS[kwarg].build(world, persona) for persona in PERSONAS}
    assert all(value is not None for value in values.values()), values
    assert KWARGS[kwarg].build(world, PATIENT) == values[PATIENT], "builders must make one object"


def test_every_exception_names_a_url_that_exists() -> None:
    names = {e.name for e in discover_endpoints()}
    listed = {*NOBODY_OPENS, *OUTSIDER_MAY_OPEN, *PUBLIC_PAGES}
    assert listed <= names, f"stale exceptions, remove them: {sorted(listed - names)}"


def test_every_url_argument_has_a_builder() -> None:
    unfilled = [missing_builder_message(e) for e in ENDPOINTS if e.missing_builders]
    assert not unfilled, "\n".join(unfilled)


@pytest.mark.parametrize(
    "endpoint",
    [e for e in discover_endpoints() if not e.kwargs and e.name not in PUBLIC_PAGES],
    ids=str,
)
def test_anonymous_visitors_are_sent_to_sign_in(endpoint: Endpoint, client: Client) -> None:
    check_anonymous_sent_to_sign_in(endpoint, client)


def check_anonymous_sent_to_sign_in(endpoint: Endpoint, client: Client) -> None:
    path = build_path(endpoint, {})
    if _token_authenticated(endpoint):
        for response in (client.get(path), client.post(path, {})):
            assert _sent_to_sign_in(response) or response.status_code in (400, 401, 405), (
                f"anonymous {response.request['REQUEST_METHOD']} {path}: {describe(response)}"
            )
        return
    for response in (client.get(path), client.post(path, {})):
        assert _sent_to_sign_in(response) or response.status_code in (404, 405), (
            f"anonymous {response.request['REQUEST_METHOD']} {path}: {describe(response)}; "
            "add a role decorator, or list the page in PUBLIC_PAGES with why it is public"
        )


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=str)
def test_only_the_owner_and_related_provider_can_open(endpoint: Endpoint, world: World) -> None:
    check_access_matrix(endpoint, world)


def check_access_matrix(endpoint: Endpoint, world: World) -> None:
    """Open `endpoint` as every persona and assert who gets in; AssertionError says who should not."""
    assert not endpoint.missing_builders, missing_builder_message(endpoint)
    responses = {
        persona: world.clients[persona].get(world.path_for(endpoint, persona))
        for persona in PERSONAS
    }
    seen = {persona: describe(r) for persona, r in responses.items()}
    status = {persona: r.status_code for persona, r in responses.items()}
    if _token_authenticated(endpoint):
        assert all(r.status_code == 401 for r in responses.values()), (
            f"{endpoint.name} reads a bearer token, never the session: every session must get 401: {seen}"
        )
        _check_outsiders_cannot_post(endpoint, world)
        return
    owner_ok = status[PATIENT] == 200
    provider_ok = status[PROVIDER] == 200
    post_only = not (owner_ok or provider_ok) and 405 in (status[PATIENT], status[PROVIDER])

    anonymous = responses[ANONYMOUS]
    assert (
        _sent_to_sign_in(anonymous)
        or anonymous.status_code == 404
        or (post_only and anonymous.status_code == 405)
    ), f"anonymous GET of {endpoint.name} must be sent to {_login_url()} (or 404), got {seen}"

    if not endpoint.object_kwargs:
        # Only dates or pages in the URL: each user sees their own data there,
        # so nobody is an outsider; the owner rules below do not apply.
        return

    if post_only:
        _check_post_only(endpoint, world)
        return

    if endpoint.name not in NOBODY_OPENS:
        assert owner_ok or provider_ok, (
            f"neither patient A (the owner) nor provider P (her provider) can open {endpoint.name}: {seen}. "
            "Fix the view, or list the URL in NOBODY_OPENS with the reason."
        )
    if not owner_ok:
        assert status[PATIENT] in DENIED, (
            f"the patient on a page not meant for her role must get 403/404: {seen}"
        )
    if not provider_ok:
        assert status[PROVIDER] in DENIED, (
            f"the provider on a page not meant for his role must get 403/404: {seen}"
        )

    # An outsider of the page's own role must not learn the object exists (404,
    # not 403); one of the other role is refused either way.
    may_open = (200,) if endpoint.name in OUTSIDER_MAY_OPEN else ()
    expected_b = (404, *may_open) if owner_ok else DENIED
    expected_q = (404, *may_open) if provider_ok else DENIED
    assert status[OTHER_PATIENT] in expected_b, (
        f"unrelated patient B opening A's {endpoint.name} must get {expected_b}: {seen}"
    )
    assert status[OTHER_PROVIDER] in expected_q, (
        f"unrelated provider Q opening A's {endpoint.name} must get {expected_q}: {seen}"
    )
    for persona in OUTSIDERS:
        body = body_of(responses[persona])
        for ssn in ssn_spellings(world.patient.ssn):
            assert ssn not in body, f"{persona} sees A's SSN on {endpoint.name}"

    _check_outsiders_cannot_post(endpoint, world)


def _check_outsiders_cannot_post(endpoint: Endpoint, world: World) -> None:
    """An empty POST by anyone but A and P is refused and writes nothing (not even an audit entry)."""
    for persona in (ANONYMOUS, *OUTSIDERS):
        if endpoint.name in OUTSIDER_MAY_OPEN and persona != ANONYMOUS:
            continue
        path = world.path_for(endpoint, persona)
        before = row_counts()
        response = world.clients[persona].post(path, {})
        after = row_counts()
        assert not 200 <= response.status_code < 300, (
            f"{persona} POST to A's {endpoint.name} must be refused, got {describe(response)}"
        )
        if persona == ANONYMOUS:
            assert _sent_to_sign_in(response) or response.status_code in (403, 404, 405), (
                f"anonymous POST to {endpoint.name}: {describe(response)}"
            )
        else:
            assert response.status_code in (302, 403, 404, 405), (
                f"{persona} POST to A's {endpoint.name}: {describe(response)}"
            )
        assert not changed_counts(before, after), (
            f"{persona} POST to A's {endpoint.name} changed the database: {changed_counts(before, after)}"
        )


def _check_post_only(endpoint: Endpoint, world: World) -> None:
    _check_outsiders_cannot_post(endpoint, world)
    # The owner or her provider must be able to use it, or it is dead code.
    owners = {}
    for persona in (PATIENT, PROVIDER):
        response = world.clients[persona].post(world.path_for(endpoint, persona), {})
        owners[persona] = describe(response)
        if response.status_code not in (*DENIED, 405):
            return
    assert endpoint.name in NOBODY_OPENS, (
        f"neither A nor P can POST to {endpoint.name}: {owners}. "
        "Fix the view, or list the URL in NOBODY_OPENS with the reason."
    )


@pytest.mark.parametrize("endpoint", TOKEN_ENDPOINTS, ids=str)
def test_a_public_link_with_a_garbage_token_shows_no_data(endpoint: Endpoint, world: World) -> None:
    check_public_link(endpoint, world)


def check_public_link(endpoint: Endpoint, world: World) -> None:
    """A forged token gets a 404 or a redirect, or a page without anybody's data, and changes nothing."""
    assert not endpoint.missing_builders, missing_builder_message(endpoint)
    path = world.path_for(endpoint, ANONYMOUS)
    anonymous = world.clients[ANONYMOUS]
    personal = [
        text
        for profile in (world.patient, world.other_patient, world.provider, world.other_provider)
        for text in (profile.user.full_name, profile.user.email)
    ] + [s for ssn in world.ssns for s in ssn_spellings(ssn)]

    response = anonymous.get(path)
    assert response.status_code in (200, 301, 302, 404, 410), f"GET {path}: {describe(response)}"
    if response.status_code == 200:
        body = body_of(response)
        assert 'type="password"' not in body, f"{path} offers to set a password on a forged link"
        for text in personal:
            assert text not in body, f"{path} with a forged token shows {text!r}"

    before = row_counts()
    posted = anonymous.post(
        path,
        {
            "password1": "Forged-link-pass-99",
            "password2": "Forged-link-pass-99",
            "new_password1": "Forged-link-pass-99",
            "new_password2": "Forged-link-pass-99",
        },
    )
    assert posted.status_code in (200, 301, 302, 403, 404, 405, 410), (
        f"POST {path}: {describe(posted)}"
    )
    assert not changed_counts(before, row_counts()), (
        f"a forged {endpoint.name} link changed the database"
    )
    for profile in (world.patient, world.provider):
        profile.user.refresh_from_db()
        assert not profile.user.check_password("Forged-link-pass-99")


# --- The matrix itself can fail -----------------------------------------------------
# A URLconf of deliberately broken views (and two done right) proves that each
# rule above catches the mistake it is there for.


@provider_required
def _chart_done_right(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = patient_for_user(request.user, patient_id)
    if patient is None:
        raise Http404
    return HttpResponse(patient.full_name)


@provider_required
def _chart_for_any_provider(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = get_object_or_404(PatientProfile, pk=patient_id)  # the bug: no policy
    return HttpResponse(patient.full_name)


@provider_required
def _chart_forbidden_to_outsiders(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = get_object_or_404(PatientProfile, pk=patient_id)
    if not has_care_relationship(request.user, patient):
        raise PermissionDenied  # the bug: 403 tells Q the patient exists
    return HttpResponse(patient.full_name)


@patient_required
def _appointment_for_any_patient(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = get_object_or_404(Appointment, pk=appointment_id)  # the bug: no policy
    return HttpResponse(appointment.reason)


@portal_required
def _nobody(request: HttpRequest, record_id: UUID) -> HttpResponse:
    raise Http404


@require_POST
@portal_required
def _mark_read_done_right(request: HttpRequest, message_id: UUID) -> HttpResponse:
    _mark_read(get_object_or_404(Message.objects.filter(receiver=request.user), pk=message_id))
    return redirect("/")


@require_POST
@portal_required
def _mark_read_for_anyone(request: HttpRequest, message_id: UUID) -> HttpResponse:
    _mark_read(get_object_or_404(Message, pk=message_id))  # the bug: no policy
    return redirect("/")


def _mark_read(message: Message) -> None:
    # Written here rather than through messaging.services, which is being rebuilt.
    if not message.read:
        message.read, message.read_at = True, timezone.now()
        message.save(update_fields=["read", "read_at"])


@portal_required
def _widget(request: HttpRequest, widget_id: UUID) -> HttpResponse:
    return HttpResponse("widget")


def _feed_for_any_token(request: HttpRequest, token: str) -> HttpResponse:
    # The bug: a public link that shows data whatever the token.
    return HttpResponse(", ".join(p.full_name for p in PatientProfile.objects.all()))


def _undecorated_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(", ".join(p.full_name for p in PatientProfile.objects.all()))  # the bug


_SELFTEST_PATTERNS = [
    path("undecorated/", _undecorated_page, name="undecorated"),
    path("chart/<uuid:patient_id>/", _chart_done_right, name="chart-done-right"),
    path("leaky-chart/<uuid:patient_id>/", _chart_for_any_provider, name="chart-for-any-provider"),
    path("403-chart/<uuid:patient_id>/", _chart_forbidden_to_outsiders, name="chart-403"),
    path(
        "appointment/<uuid:appointment_id>/", _appointment_for_any_patient, name="appointment-leaky"
    ),
    path("nobody/<uuid:record_id>/", _nobody, name="nobody"),
    path("read/<uuid:message_id>/", _mark_read_done_right, name="mark-read-done-right"),
    path("leaky-read/<uuid:message_id>/", _mark_read_for_anyone, name="mark-read-for-anyone"),
    path("widget/<uuid:widget_id>/", _widget, name="widget"),
    path("feed/<str:token>/", _feed_for_any_token, name="feed-leaky"),
]


@pytest.fixture
def selftest_endpoints(settings) -> Iterator[dict[str, Endpoint]]:
    with urlconf_installed(
        settings, "tests._access_matrix_selftest_urls", _SELFTEST_PATTERNS
    ) as endpoints:
        yield endpoints


@pytest.mark.parametrize("name", ["chart-done-right", "mark-read-done-right"])
def test_the_matrix_passes_views_that_follow_the_policy(
    name: str, selftest_endpoints: dict[str, Endpoint], world: World
) -> None:
    check_access_matrix(selftest_endpoints[name], world)


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        pytest.param(
            "chart-for-any-provider",
            "unrelated provider Q opening A's selftest:chart-for-any-provider must get",
            id="chart-for-any-provider",
        ),
        pytest.param(
            "chart-403",
            r"unrelated provider Q opening A's selftest:chart-403 must get \(404,\)",
            id="chart-403",
        ),
        pytest.param(
            "appointment-leaky",
            "unrelated patient B opening A's selftest:appointment-leaky must get",
            id="appointment-leaky",
        ),
        pytest.param(
            "nobody", "neither patient A .* nor provider P .* can open selftest:nobody", id="nobody"
        ),
        pytest.param(
            "mark-read-for-anyone",
            "other patient POST to A's selftest:mark-read-for-anyone changed the database",
            id="mark-read-for-anyone",
        ),
        pytest.param("widget", "takes widget_id, which the access tests cannot fill", id="widget"),
    ],
)
def test_the_matrix_catches_a_broken_view(
    name: str, complaint: str, selftest_endpoints: dict[str, Endpoint], world: World
) -> None:
    with pytest.raises(AssertionError, match=complaint):
        check_access_matrix(selftest_endpoints[name], world)


def test_the_public_link_check_catches_a_link_that_shows_data(
    selftest_endpoints: dict[str, Endpoint], world: World
) -> None:
    endpoint = selftest_endpoints["feed-leaky"]
    assert endpoint.is_public_token_link
    with pytest.raises(AssertionError, match="with a forged token shows 'Pat Jones'"):
        check_public_link(endpoint, world)


def test_the_anonymous_check_catches_a_page_without_a_role_decorator(
    selftest_endpoints: dict[str, Endpoint], client: Client, world: World
) -> None:
    with pytest.raises(AssertionError, match="anonymous GET /selftest/undecorated/: 200"):
        check_anonymous_sent_to_sign_in(selftest_endpoints["undecorated"], client)
