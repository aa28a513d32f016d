"""Prescription pages: patients read theirs and ask for refills; providers prescribe and decide refills."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import patient_required, portal_required, provider_required
from healthcare.net import client_ip
from patients.models import PatientProfile, PHIResource
from patients.selectors import patient_for_user
from patients.services import phi_access_record
from patients.timezones import zone_of
from prescriptions.exceptions import NotAllowed, PrescriptionError, RenewalRequired
from prescriptions.forms import (
    DenyForm,
    PrescriptionForm,
    RefillRequestForm,
    RenewForm,
    add_service_errors,
)
from prescriptions.models import Prescription, PrescriptionStatus, RefillRequest
from prescriptions.selectors import (
    pending_refill_of,
    pending_refills_for_provider,
    prescription_for_user,
    prescription_list_page,
    refill_for_user,
    refill_requests_of_prescription,
)
from prescriptions.services import (
    prescription_cancel,
    prescription_complete,
    prescription_prescribe,
    refill_request_approve,
    refill_request_create,
    refill_request_deny,
    refill_request_renew,
)
from providers.selectors import active_emergency_access
from records.selectors import writable_patient

BAD_INPUT = 400
# The zero id that stands for a prescription's in a reversed URL pattern.
_ANY_ID = UUID(int=0)
# What a provider opens on the refill pages, as written to the PHI access log.
REFILLS_RESOURCE = "refills"


# --- Patients ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PrescriptionRow:
    """One prescription of the patient's list, every value formatted once (no filters per row)."""

    pk: UUID
    url: str
    medication: str
    dosage: str
    frequency: str
    start: str
    end: str
    duration: str
    refills: int
    provider: str
    status: str
    status_label: str
    refill_pending: bool


def _prescription_rows(prescriptions: list[dict[str, Any]]) -> list[PrescriptionRow]:
    # One reversed pattern and one formatting per date, not a reverse() and two
    # date_format() per row: a page has 20-odd rows sharing a handful of dates.
    pattern = reverse("prescriptions:prescription-detail", kwargs={"prescription_id": _ANY_ID})
    any_id = str(_ANY_ID)
    dates: dict[dt.date, str] = {}

    def day(value: dt.date) -> str:
        if value not in dates:
            dates[value] = date_format(value, "j M Y")
        return dates[value]

    labels = {status: str(label) for status, label in PrescriptionStatus.choices}
    rows = []
    for row in prescriptions:
        provider = row["provider__user__full_name"]
        if row["provider__credentials"]:
            provider = f"{provider}, {row['provider__credentials']}"
        rows.append(
            PrescriptionRow(
                pk=row["pk"],
                url=pattern.replace(any_id, str(row["pk"])),
                medication=row["medication_name"],
                dosage=row["dosage"],
                frequency=row["frequency"],
                start=day(row["start_date"]),
                end=day(row["end_date"]),
                duration=row["duration"],
                refills=row["refills"],
                provider=provider,
                status=row["shown_status"],
                status_label=labels[row["shown_status"]],
                refill_pending=row["refill_pending"],
            )
        )
    return rows


def _prescription_rows_html(rows: list[PrescriptionRow]) -> SafeString:
    """The table rows of prescription_row_table.html, written with html.escape.

    The same markup as the template loop they replace (a test compares the
    two); the loop's per-variable cost was most of the page's rendering.
    """
    pending = f' <span class="status status-pending">{escape(_("Refill requested"))}</span>'
    html = []
    for row in rows:
        duration = f" ({escape(row.duration)})" if row.duration else ""
        html.append(
            f'\n        <tr data-prescription="{escape(str(row.pk))}">\n'
            f'          <th scope="row"><a href="{escape(row.url)}">{escape(row.medication)}</a></th>\n'
            f"          <td>{escape(row.dosage)}, {escape(row.frequency)}</td>\n"
            f"          <td>{escape(row.start)} – {escape(row.end)}{duration}</td>\n"
            f"          <td data-refills>{escape(str(row.refills))}</td>\n"
            f"          <td>{escape(row.provider)}</td>\n"
            f'          <td><span class="status status-{escape(row.status)}">{escape(row.status_label)}</span>'
            f"{pending if row.refill_pending else ''}</td>\n"
            "        </tr>\n      "
        )
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped


@patient_required
@never_cache
@require_GET
def patient_prescription_list(request: HttpRequest) -> HttpResponse:
    lists = prescription_list_page(request.user.patient_profile, past_page=request.GET.get("page"))
    current, past = _prescription_rows(lists.current), _prescription_rows(lists.past)
    context = {
        "lists": lists,
        "current": current,
        "current_html": _prescription_rows_html(current),
        "past": past,
        "past_html": _prescription_rows_html(past),
    }
    return render(request, "prescriptions/patient_prescription_list.html", context)


@patient_required
@never_cache
@require_http_methods(["GET", "POST"])
def refill_request_create_view(request: HttpRequest, prescription_id: UUID) -> HttpResponse:
    prescription = _readable(request, prescription_id)
    form = RefillRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            refill_request_create(
                prescription=prescription,
                requested_by=request.user,
                note=form.cleaned_data["note"],
                renewal=request.POST.get("renewal") == "1",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PrescriptionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Your refill request is sent. You will see the decision here.")
            )
            return redirect("prescriptions:prescription-detail", prescription_id=prescription.pk)
    return render(
        request,
        "prescriptions/refill_request_form.html",
        {"prescription": prescription, "form": form, "pending": pending_refill_of(prescription)},
        status=BAD_INPUT if form.is_bound and form.errors else 200,
    )


# --- Both portals -----------------------------------------------------------------------


@portal_required
@never_cache
@require_GET
def prescription_detail(request: HttpRequest, prescription_id: UUID) -> HttpResponse:
    prescription = _readable(request, prescription_id)
    refills = refill_requests_of_prescription(prescription)
    context: dict[str, Any] = {
        "prescription": prescription,
        "refill_requests": refills,
        "pending": next((r for r in refills if r.is_pending), None),
        "tz": zone_of(prescription.provider),
        "base_template": "portal_patient.html",
    }
    if request.user.is_provider:
        access = phi_access_record(
            accessor=request.user,
            patient=prescription.patient,
            resource=PHIResource.PRESCRIPTION,
            object_id=prescription.pk,
            ip_address=client_ip(request),
        )
        context.update(_provider_context(request, prescription.patient, access))
    else:
        context["refill_form"] = RefillRequestForm()
    return render(request, "prescriptions/prescription_detail.html", context)


# --- Providers ----------------------------------------------------------------------------


@provider_required
@never_cache
@require_http_methods(["GET", "POST"])
def prescription_create(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _writable_patient(request, patient_id)
    records = patient.medical_records.order_by("-record_date", "-created_at")
    if request.method == "POST":
        form = PrescriptionForm(request.POST, records=records)
        if form.is_valid():
            try:
                prescription = prescription_prescribe(
                    by=request.user, patient=patient, **form.service_kwargs()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            else:
                messages.success(request, _("The prescription is written."))
                return redirect(
                    "prescriptions:prescription-detail", prescription_id=prescription.pk
                )
    else:
        phi_access_record(
            accessor=request.user,
            patient=patient,
            resource=PHIResource.PRESCRIPTION,
            ip_address=client_ip(request),
        )
        today = _today(request)
        form = PrescriptionForm(
            records=records,
            initial={
                "start_date": today,
                "end_date": today,
                "medical_record": request.GET.get("record") or None,
            },
        )
    return render(
        request,
        "prescriptions/prescription_form.html",
        {"form": form, "patient": patient},
        status=BAD_INPUT if form.is_bound else 200,
    )


@provider_required
@require_POST
def prescription_cancel_view(request: HttpRequest, prescription_id: UUID) -> HttpResponse:
    return _transition(
        request, prescription_id, prescription_cancel, _("The prescription is cancelled.")
    )


@provider_required
@require_POST
def prescription_complete_view(request: HttpRequest, prescription_id: UUID) -> HttpResponse:
    return _transition(
        request, prescription_id, prescription_complete, _("The prescription is completed.")
    )


@provider_required
@never_cache
@require_GET
def provider_refill_list(request: HttpRequest) -> HttpResponse:
    refills = pending_refills_for_provider(request.user.provider_profile)
    return render(request, "prescriptions/provider_refill_list.html", {"refills": refills})


@provider_required
@never_cache
@require_GET
def refill_detail(request: HttpRequest, refill_id: UUID) -> HttpResponse:
    refill = _refill(request, refill_id)
    return _render_refill(request, refill)


@provider_required
@require_POST
def refill_approve(request: HttpRequest, refill_id: UUID) -> HttpResponse:
    refill = _refill(request, refill_id)
    try:
        refill = refill_request_approve(refill=refill, by=request.user)
    except RenewalRequired as exc:
        messages.error(request, exc.message)
        return redirect("prescriptions:refill-detail", refill_id=refill.pk)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except PrescriptionError as exc:
        messages.error(request, exc.message)
        return redirect("prescriptions:refill-detail", refill_id=refill.pk)
    left = refill.prescription.refills
    messages.success(
        request,
        ngettext(
            "Refill approved. %(count)d refill is left.",
            "Refill approved. %(count)d refills are left.",
            left,
        )
        % {"count": left},
    )
    return redirect("prescriptions:provider-refill-list")


@provider_required
@require_POST
def refill_deny(request: HttpRequest, refill_id: UUID) -> HttpResponse:
    refill = _refill(request, refill_id)
    form = DenyForm(request.POST, prefix="deny")
    if form.is_valid():
        try:
            refill_request_deny(refill=refill, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except PrescriptionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Refill denied. The patient sees your reason."))
            return redirect("prescriptions:provider-refill-list")
    return _render_refill(request, refill, deny_form=form, status=BAD_INPUT)


@provider_required
@require_POST
def refill_renew(request: HttpRequest, refill_id: UUID) -> HttpResponse:
    refill = _refill(request, refill_id)
    form = RenewForm(request.POST, prefix="renew")
    if form.is_valid():
        try:
            refill = refill_request_renew(refill=refill, by=request.user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except PrescriptionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Prescription renewed; the request is approved."))
            return redirect("prescriptions:prescription-detail", prescription_id=refill.renewal_id)
    return _render_refill(request, refill, renew_form=form, status=BAD_INPUT)


# --- Helpers ------------------------------------------------------------------------------


def _readable(request: HttpRequest, prescription_id: UUID) -> Prescription:
    prescription = prescription_for_user(request.user, prescription_id)
    if prescription is None:
        raise Http404
    return prescription


def _refill(request: HttpRequest, refill_id: UUID) -> RefillRequest:
    refill = refill_for_user(request.user, refill_id)
    if refill is None:
        raise Http404
    return refill


def _writable_patient(request: HttpRequest, patient_id: UUID) -> PatientProfile:
    """The patient if the provider may write for them; 404 if not visible, 403 under emergency access."""
    patient = patient_for_user(request.user, patient_id)
    if patient is None:
        raise Http404
    if not writable_patient(request.user, patient):
        raise PermissionDenied(_("Emergency access is read-only."))
    return patient


def _today(request: HttpRequest) -> dt.date:
    return timezone.now().astimezone(zone_of(request.user.provider_profile)).date()


def _provider_context(request: HttpRequest, patient: PatientProfile, access: Any) -> dict[str, Any]:
    emergency = access is not None and access.emergency
    return {
        "base_template": "providers/base.html",
        "can_write": not emergency,
        "emergency": active_emergency_access(request.user, patient) if emergency else None,
        "provider_tz": zone_of(request.user.provider_profile),
    }


def _transition(
    request: HttpRequest, prescription_id: UUID, change: Any, done: str
) -> HttpResponse:
    prescription = _readable(request, prescription_id)
    try:
        change(prescription=prescription, by=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except PrescriptionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("prescriptions:prescription-detail", prescription_id=prescription.pk)


def _render_refill(
    request: HttpRequest,
    refill: RefillRequest,
    *,
    deny_form: DenyForm | None = None,
    renew_form: RenewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    access = phi_access_record(
        accessor=request.user,
        patient=refill.patient,
        resource=REFILLS_RESOURCE,
        object_id=refill.pk,
        ip_address=client_ip(request),
    )
    prescription = refill.prescription
    if renew_form is None:
        today = _today(request)
        course = prescription.end_date - prescription.start_date
        renew_form = RenewForm(
            prefix="renew",
            initial={
                "start_date": today,
                "end_date": today + course,
                "refills": 0,
                "duration": prescription.duration,
                "notes": "",
            },
        )
    context = {
        "refill": refill,
        "prescription": prescription,
        "deny_form": deny_form or DenyForm(prefix="deny"),
        "renew_form": renew_form,
        "tz": zone_of(prescription.provider),
        **_provider_context(request, refill.patient, access),
    }
    return render(request, "prescriptions/refill_detail.html", context, status=status)
