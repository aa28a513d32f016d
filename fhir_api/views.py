"""The FHIR R4 API (/fhir/r4/), the SMART consent page, connected apps and "Download my record".

API views authenticate with a bearer token (fhir_api.api.caller_of), never with
the portal's session: a signed-in browser alone reads nothing here. Every error
is an OperationOutcome; another patient's resource is a 404 like one that does
not exist.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.views import AuthorizationView

from accounts.decorators import patient_required, portal_required
from fhir_api import api, services
from fhir_api import scopes as smart
from fhir_api.everything import everything_page, record_bundle_resources, sections_for
from fhir_api.search import SearchError, apply_search, paging_of
from healthcare.net import client_ip

ApiView = Callable[..., HttpResponse]


def fhir_endpoint(view: ApiView) -> ApiView:
    """GET only, no CSRF (no cookies are read), every failure an OperationOutcome, never a 500 page."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if request.method not in ("GET", "HEAD"):
                raise api.ApiError(405, "not-supported", "This server is read-only.")
            return view(request, *args, **kwargs)
        except api.ApiError as error:
            return api.operation_outcome(error)
        except SearchError as error:
            return api.operation_outcome(api.ApiError(400, "invalid", str(error)))

    return wrapper


def _caller(request: HttpRequest) -> api.Caller:
    caller = api.caller_of(request)
    caller.ip_address = client_ip(request)
    return caller


def _not_found(resource_type: str) -> api.ApiError:
    return api.ApiError(404, "not-found", f"{resource_type} not found.")


def _uuid(value: str, resource_type: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _not_found(resource_type) from None


def _log_reads(caller: api.Caller, spec: api.TypeSpec, rows: list[Any], resource: str = "") -> None:
    patient_ids = api.patients_in(spec, rows)
    if patient_ids:
        services.api_reads_record(
            accessor=caller.user,
            application=caller.application,
            patient_ids=patient_ids,
            resource=resource or spec.phi_resource,
            ip_address=caller.ip_address,
        )


# --- Public discovery ---------------------------------------------------------------


# Public: a FHIR server's capabilities are read before any sign-in (FHIR R4 3.1.0.4).
@fhir_endpoint
def metadata(request: HttpRequest) -> HttpResponse:
    return api.fhir_response(api.capability_statement(request))


# Public: SMART App Launch discovery, read by apps before they ask anyone to sign in.
@fhir_endpoint
def smart_configuration(request: HttpRequest) -> HttpResponse:
    response = api.fhir_response(api.smart_configuration(request))
    response["Content-Type"] = "application/json"
    return response


# --- Read and search ----------------------------------------------------------------


@fhir_endpoint
def resource_search(request: HttpRequest, resource_type: str) -> HttpResponse:
    caller = _caller(request)
    spec = api.spec_for(caller, resource_type, search=True)
    paging = paging_of(request.GET)
    rows_query = apply_search(spec.rows(caller), request.GET, spec.search)
    total = rows_query.count()
    rows = list(rows_query[paging.offset : paging.offset + paging.count]) if paging.count else []
    _log_reads(caller, spec, rows)
    links = api.page_links(request, offset=paging.offset, count=paging.count, total=total)
    body = api.bundle(request, [spec.to_resource(row) for row in rows], total=total, links=links)
    return api.fhir_response(body)


@fhir_endpoint
def resource_read(request: HttpRequest, resource_type: str, **ids: str) -> HttpResponse:
    caller = _caller(request)
    spec = api.spec_for(caller, resource_type, search=False)
    (raw_id,) = ids.values()
    row = spec.rows(caller).filter(pk=_uuid(raw_id, resource_type)).first()
    if row is None:
        raise _not_found(resource_type)
    _log_reads(caller, spec, [row])
    return api.fhir_response(spec.to_resource(row))


@fhir_endpoint
def patient_everything(request: HttpRequest, patient_id: str) -> HttpResponse:
    caller = _caller(request)
    api.spec_for(caller, "Patient", search=False)
    patient = caller.patients().filter(pk=_uuid(patient_id, "Patient")).first()
    if patient is None:
        raise _not_found("Patient")
    unknown = sorted(set(request.GET) - {"_count", "_offset", "_format"})
    if unknown:
        raise SearchError(_("Unsupported parameter: %(names)s.") % {"names": ", ".join(unknown)})
    paging = paging_of(request.GET)
    sections = sections_for(
        caller.user, patient, allowed=lambda name: caller.may(name, search=True)
    )
    resources, total = everything_page(sections, offset=paging.offset, count=paging.count)
    services.api_reads_record(
        accessor=caller.user,
        application=caller.application,
        patient_ids=[patient.pk],
        resource="chart",
        ip_address=caller.ip_address,
    )
    links = api.page_links(request, offset=paging.offset, count=paging.count, total=total)
    return api.fhir_response(api.bundle(request, resources, total=total, links=links))


# --- SMART consent (the OAuth authorize endpoint) -------------------------------------


@method_decorator(portal_required, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class ConsentView(AuthorizationView):
    """django-oauth-toolkit's authorize endpoint, shown as a portal page.

    portal_required applies the sign-in rules of the portal itself: a patient
    or a provider, and a provider's session must have passed the second factor
    (a patient with two-step sign-in on passed it to sign in at all).
    """

    template_name = "fhir_api/consent.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        # The consent form posts here, and the answer redirects to the app: browsers hold
        # that redirect to the page's form-action too, so the page names the app's origin,
        # the redirect URI registered by an administrator and just validated by DOT.
        redirect_uri = getattr(self, "oauth2_data", {}).get("redirect_uri")
        if redirect_uri:
            parts = urlsplit(redirect_uri)
            response._csp_update = {"form-action": ["'self'", f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
        return response

    def _base_template(self) -> str:
        return "portal_patient.html" if self.request.user.is_patient else "portal_provider.html"

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> HttpResponse:
        # DOT renders a refused request (no client, bad redirect URI) with only the error
        # in the context: the page still needs its portal layout, and says it is a bad request.
        context.setdefault("base_template", self._base_template())
        if context.get("error"):
            response_kwargs.setdefault("status", 400)
        return super().render_to_response(context, **response_kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requested = context.get("scopes") or []
        context["scope_lines"] = [smart.describe(scope) for scope in requested]
        context["base_template"] = self._base_template()
        context["offline"] = smart.OFFLINE_ACCESS in requested
        context["access_minutes"] = api.client_settings_summary()["access_seconds"] // 60
        return context


# --- Connected apps and the record download (portal pages) -------------------------------


@portal_required
@require_POST
def connected_app_revoke(request: HttpRequest) -> HttpResponse:
    application_id = request.POST.get("application", "")
    if not application_id.isdigit() or not services.connected_app_revoke(
        user=request.user, application_id=int(application_id)
    ):
        raise Http404
    messages.success(request, _("The app was disconnected: it can no longer read your data."))
    return redirect("accounts:security")


@patient_required
@never_cache
@require_GET
def record_download(request: HttpRequest) -> HttpResponse:
    """The patient's whole record as a FHIR Bundle (type collection), downloaded as a file."""
    patient = request.user.patient_profile
    bundle = api.bundle(
        request, record_bundle_resources(request.user, patient), bundle_type="collection"
    )
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2),
        content_type="application/fhir+json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="health-record-{timezone.localdate().isoformat()}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response
