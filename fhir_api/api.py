"""The FHIR API's plumbing: bearer-token callers, scopes, rate limits, OperationOutcome, Bundles.

Views (fhir.views) stay small: they authenticate with `caller_of`, pick the
resource type's `TypeSpec` and return what the helpers here build.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.settings import oauth2_settings

from accounts.models import User
from fhir_api import resources as fhir
from fhir_api import scopes as smart
from fhir_api import selectors
from fhir_api.search import (
    DateField,
    SearchSpec,
    date_filter,
    reference_id,
    token_values,
)
from patients.models import PatientProfile, PHIResource

FHIR_JSON = "application/fhir+json"


class ApiError(Exception):
    """An error the API answers with an OperationOutcome."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def fhir_response(
    body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=f"{FHIR_JSON}; charset=utf-8",
    )
    # PHI: never kept by a shared cache or the browser's.
    response["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def operation_outcome(error: ApiError) -> HttpResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": error.code, "diagnostics": error.message}],
    }
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="fhir", error="invalid_token"'
    elif error.status == 403:
        headers["WWW-Authenticate"] = 'Bearer realm="fhir", error="insufficient_scope"'
    elif error.status == 429:
        headers["Retry-After"] = "60"
    return fhir_response(body, status=error.status, headers=headers)


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("/metadata")


# --- Who is calling -----------------------------------------------------------------


@dataclass
class Caller:
    """A request authenticated by an access token."""

    user: User
    application: Any
    scopes: frozenset[str]
    token_key: str  # the token's checksum: a rate-limit key that is not the token itself
    # patient/ scopes reach this patient (a patient's own record); None for providers.
    launch_patient: PatientProfile | None = None
    ip_address: str | None = None

    def may(self, resource_type: str, *, search: bool) -> bool:
        if smart.grants(self.scopes, resource_type=resource_type, context="user", search=search):
            return True
        return self.launch_patient is not None and smart.grants(
            self.scopes, resource_type=resource_type, context="patient", search=search
        )

    def patients(self) -> QuerySet[PatientProfile]:
        return selectors.api_patients(self.user, only=self.launch_patient)


def caller_of(request: HttpRequest) -> Caller:
    """The caller of an API request, or ApiError 401 (no, expired or revoked token) / 429."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        raise ApiError(401, "login", "An access token is required (Authorization: Bearer).")
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None)
    user = getattr(token, "user", None)
    if not valid or token is None or user is None or not user.is_active:
        raise ApiError(401, "login", "The access token is invalid, expired or revoked.")
    raw = request.headers["Authorization"].removeprefix("Bearer ").strip()
    caller = Caller(
        user=user,
        application=token.application,
        scopes=frozenset(token.scope.split()),
        token_key=hashlib.sha256(raw.encode()).hexdigest(),
        launch_patient=getattr(user, "patient_profile", None) if user.is_patient else None,
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    _check_rate_limits(request, caller)
    return caller


# Defaults of the API's limits; settings.RATELIMITS (RATELIMIT_FHIR_TOKEN, RATELIMIT_FHIR_APP) overrides them.
DEFAULT_RATES = {"fhir-token": "300/m", "fhir-app": "3000/m"}


def rate_of(name: str) -> str | None:
    """The limit `name` as configured with the site's other rate limits; "" switches it off."""
    rates = getattr(settings, "RATELIMITS", {})
    return (rates[name] if name in rates else DEFAULT_RATES[name]) or None


def _check_rate_limits(request: HttpRequest, caller: Caller) -> None:
    """Per token (one app instance) and per app (all its users together)."""
    limits = (
        ("fhir-token", lambda group, req: f"token:{caller.token_key}"),
        (
            "fhir-app",
            lambda group, req: f"app:{caller.application.pk if caller.application else '-'}",
        ),
    )
    for name, key in limits:
        if is_ratelimited(
            request,
            group=f"portal:{name}",
            key=key,
            rate=lambda g, r, n=name: rate_of(n),
            method=ALL,
            increment=True,
        ):
            raise ApiError(429, "throttled", "Too many requests; wait a minute and try again.")


# --- What each resource type is made of ---------------------------------------------------


def _by_patient(path: str = "patient") -> Callable[[QuerySet, str], QuerySet]:
    return lambda qs, raw: qs.filter(**{f"{path}_id": reference_id(raw, "Patient")})


def _by_date(field_name: str, *, is_date: bool) -> Callable[[QuerySet, str], QuerySet]:
    return lambda qs, raw: qs.filter(date_filter(DateField(field_name, is_date), raw))


def _by_status(mapping: dict[str, str]) -> Callable[[QuerySet, str], QuerySet]:
    fhir_to_stored = {code: stored for stored, code in mapping.items()}
    return lambda qs, raw: qs.filter(status__in=token_values(raw, fhir_to_stored))


def _communication_by_patient(qs: QuerySet, raw: str) -> QuerySet:
    patient_id = reference_id(raw, "Patient")
    from django.db.models import Q

    return qs.filter(
        Q(sender__patient_profile__pk=patient_id) | Q(receiver__patient_profile__pk=patient_id)
    )


@dataclass(frozen=True)
class TypeSpec:
    name: str
    rows: Callable[[Caller], QuerySet]
    to_resource: Callable[[Any], dict[str, Any]]
    search: SearchSpec
    # The patient a row belongs to (None: not patient data, e.g. a Practitioner).
    patient_of: Callable[[Any], PatientProfile | None] = field(default=lambda row: None)
    phi_resource: str = ""


def _communication(message: Any) -> dict[str, Any]:
    patient = selectors.message_patient(message)
    assert patient is not None  # api_messages only returns messages with a patient party
    return fhir.communication_resource(message, patient)


TYPES: dict[str, TypeSpec] = {
    spec.name: spec
    for spec in (
        TypeSpec(
            "Patient",
            rows=lambda c: c.patients(),
            to_resource=fhir.patient_resource,
            search=SearchSpec({}, DateField("updated_at", False), ("user__full_name", "pk")),
            patient_of=lambda row: row,
            phi_resource=PHIResource.PROFILE,
        ),
        TypeSpec(
            "Practitioner",
            rows=lambda c: selectors.api_practitioners(),
            to_resource=fhir.practitioner_resource,
            search=SearchSpec({}, DateField("updated_at", False), ("user__full_name", "pk")),
        ),
        TypeSpec(
            "PractitionerRole",
            rows=lambda c: selectors.api_practitioners(),
            to_resource=fhir.practitioner_role_resource,
            search=SearchSpec(
                {"practitioner": lambda qs, raw: qs.filter(pk=reference_id(raw, "Practitioner"))},
                DateField("updated_at", False),
                ("user__full_name", "pk"),
            ),
        ),
        TypeSpec(
            "Appointment",
            rows=lambda c: selectors.api_appointments(c.user, c.patients()),
            to_resource=fhir.appointment_resource,
            search=SearchSpec(
                {
                    "patient": _by_patient(),
                    "date": _by_date("date_time", is_date=False),
                    "status": _by_status(fhir.APPOINTMENT_STATUS),
                },
                DateField("updated_at", False),
                ("-date_time", "pk"),
            ),
            patient_of=lambda row: row.patient,
            phi_resource=PHIResource.APPOINTMENT,
        ),
        TypeSpec(
            "Encounter",
            rows=lambda c: selectors.api_medical_records(c.user, c.patients()),
            to_resource=fhir.encounter_resource,
            search=SearchSpec(
                {"patient": _by_patient(), "date": _by_date("record_date", is_date=True)},
                DateField("updated_at", False),
                ("-record_date", "-created_at", "pk"),
            ),
            patient_of=lambda row: row.patient,
            phi_resource=PHIResource.MEDICAL_RECORD,
        ),
        TypeSpec(
            "Condition",
            rows=lambda c: selectors.api_conditions(c.user, c.patients()),
            to_resource=fhir.condition_resource,
            search=SearchSpec(
                {"patient": _by_patient(), "recorded-date": _by_date("record_date", is_date=True)},
                DateField("updated_at", False),
                ("-record_date", "-created_at", "pk"),
            ),
            patient_of=lambda row: row.patient,
            phi_resource=PHIResource.MEDICAL_RECORD,
        ),
        TypeSpec(
            "MedicationRequest",
            rows=lambda c: selectors.api_prescriptions(c.user, c.patients()),
            to_resource=fhir.medication_request_resource,
            search=SearchSpec(
                {
                    "patient": _by_patient(),
                    "status": _by_status(fhir.MEDICATION_REQUEST_STATUS),
                    "authoredon": _by_date("created_at", is_date=False),
                },
                DateField("updated_at", False),
                ("-start_date", "-created_at", "pk"),
            ),
            patient_of=lambda row: row.patient,
            phi_resource=PHIResource.PRESCRIPTION,
        ),
        TypeSpec(
            "Communication",
            rows=lambda c: selectors.api_messages(c.user, c.patients()),
            to_resource=_communication,
            search=SearchSpec(
                {
                    "patient": _communication_by_patient,
                    "subject": _communication_by_patient,
                    "sent": _by_date("sent_at", is_date=False),
                },
                DateField("last_updated", False),
                ("-sent_at", "pk"),
            ),
            patient_of=selectors.message_patient,
            phi_resource=PHIResource.MESSAGES,
        ),
    )
}


def spec_for(caller: Caller, resource_type: str, *, search: bool) -> TypeSpec:
    """The type's spec, or ApiError 403 when the token's scopes do not reach it."""
    if not caller.may(resource_type, search=search):
        verb = "search" if search else "read"
        raise ApiError(
            403, "forbidden", f"The access token's scopes do not allow to {verb} {resource_type}."
        )
    return TYPES[resource_type]


def patients_in(spec: TypeSpec, rows: Iterable[Any]) -> list[object]:
    return [patient.pk for row in rows if (patient := spec.patient_of(row)) is not None]


# --- Bundles -------------------------------------------------------------------------


def page_links(
    request: HttpRequest, *, offset: int, count: int, total: int
) -> list[dict[str, str]]:
    """self / first / previous / next links of a page, keeping the query's other parameters."""

    def url(at: int) -> str:
        query: QueryDict = request.GET.copy()
        query["_count"] = str(count)
        query["_offset"] = str(at)
        return (
            request.build_absolute_uri(request.path)
            + "?"
            + urlencode(list(query.lists()), doseq=True)
        )

    links = [{"relation": "self", "url": url(offset)}, {"relation": "first", "url": url(0)}]
    if offset > 0 and count:
        links.append({"relation": "previous", "url": url(max(offset - count, 0))})
    if count and offset + count < total:
        links.append({"relation": "next", "url": url(offset + count)})
    return links


def bundle(
    request: HttpRequest,
    resources: list[dict[str, Any]],
    *,
    bundle_type: str = "searchset",
    total: int | None = None,
    links: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    base = base_url(request)
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
        }
        if bundle_type == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    body: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": bundle_type,
        "timestamp": fhir.instant(timezone.now()),
    }
    if total is not None:
        body["total"] = total
    if links:
        body["link"] = links
    body["entry"] = entries
    return body


def capability_statement(request: HttpRequest) -> dict[str, Any]:
    """What this server implements, exactly: read + search-type of the TYPES with their parameters."""
    date_type = {"date", "recorded-date", "authoredon", "sent"}
    resources = []
    for name, spec in TYPES.items():
        params = [{"name": "_id", "type": "token"}, {"name": "_lastUpdated", "type": "date"}]
        params.append({"name": "_count", "type": "number"})
        for param in spec.search.params:
            kind = "date" if param in date_type else ("token" if param == "status" else "reference")
            params.append({"name": param, "type": kind})
        entry: dict[str, Any] = {
            "type": name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": params,
        }
        if name == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                }
            ]
        resources.append(entry)
    base = base_url(request)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "publisher": "Healthcare portal",
        "kind": "instance",
        "software": {"name": "Healthcare portal FHIR API"},
        "implementation": {"description": "Patient access API (read-only)", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [
                                {
                                    "url": "authorize",
                                    "valueUri": request.build_absolute_uri(
                                        reverse("oauth2_provider:authorize")
                                    ),
                                },
                                {
                                    "url": "token",
                                    "valueUri": request.build_absolute_uri(
                                        reverse("oauth2_provider:token")
                                    ),
                                },
                                {
                                    "url": "revoke",
                                    "valueUri": request.build_absolute_uri(
                                        reverse("oauth2_provider:revoke-token")
                                    ),
                                },
                            ],
                        }
                    ],
                },
                "resource": resources,
            }
        ],
    }


def smart_configuration(request: HttpRequest) -> dict[str, Any]:
    absolute = request.build_absolute_uri
    return {
        "issuer": oauth2_settings.oidc_issuer(request),
        "jwks_uri": absolute(reverse("oauth2_provider:jwks-info")),
        "authorization_endpoint": absolute(reverse("oauth2_provider:authorize")),
        "token_endpoint": absolute(reverse("oauth2_provider:token")),
        "revocation_endpoint": absolute(reverse("oauth2_provider:revoke-token")),
        "userinfo_endpoint": absolute(reverse("oauth2_provider:user-info")),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "response_types_supported": ["code"],
        "scopes_supported": sorted(smart.all_scopes()),
        "code_challenge_methods_supported": ["S256"],
        "capabilities": [
            "launch-standalone",
            "client-public",
            "client-confidential-symmetric",
            "context-standalone-patient",
            "permission-patient",
            "permission-user",
            "permission-offline",
            "permission-v1",
            "permission-v2",
            "sso-openid-connect",
        ],
    }


def client_settings_summary() -> dict[str, Any]:
    """Token lifetimes, for the README and the consent page."""
    provider = settings.OAUTH2_PROVIDER
    return {
        "access_seconds": provider["ACCESS_TOKEN_EXPIRE_SECONDS"],
        "refresh_seconds": provider.get("REFRESH_TOKEN_EXPIRE_SECONDS"),
    }
