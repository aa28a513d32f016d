"""Medical record pages: the patient's records and summary; providers write, read and amend records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import patient_required, portal_required, provider_required
from healthcare.net import client_ip
from patients.models import PatientProfile, PHIResource
from patients.selectors import patient_for_user
from patients.services import phi_access_record
from patients.timezones import format_in_zone, zone_of
from providers.selectors import active_emergency_access
from records.exceptions import NotAllowed
from records.forms import MedicalRecordForm, add_service_errors
from records.models import MedicalRecord
from records.selectors import (
    health_summary,
    linkable_appointments,
    medical_record_for_user,
    medical_record_history,
    record_list_page,
    writable_patient,
)
from records.services import medical_record_update, medical_record_write

BAD_INPUT = 400


@dataclass(frozen=True)
class RecordListRow:
    """One record of the patient's list, every value formatted once (no filters per row)."""

    pk: UUID
    url: str
    date: str
    title: str
    author: str
    appointment: str
    treatment: str


def _record_list_row(row: dict[str, Any], zones: dict[Any, dt.tzinfo]) -> RecordListRow:
    provider = row["provider__user__full_name"]
    if row["provider__credentials"]:
        provider = f"{provider}, {row['provider__credentials']}"
    appointment = ""
    if row["appointment__date_time"] is not None:
        # The provider's zone, as on every page about the visit (the viewer's own, if set).
        if row["provider_id"] not in zones:
            hours = row["provider__working_hours"]
            zones[row["provider_id"]] = zone_of(
                hours.get("timezone") if isinstance(hours, dict) else None
            )
        when = format_in_zone(row["appointment__date_time"], zones[row["provider_id"]])
        appointment = _("Appointment of %(when)s") % {"when": when}
    return RecordListRow(
        pk=row["pk"],
        url=reverse("records:record-detail", kwargs={"record_id": row["pk"]}),
        date=date_format(row["record_date"], "j M Y"),
        title=Truncator(row["diagnosis"]).chars(80) if row["diagnosis"] else _("Visit"),
        author=_("With %(provider)s") % {"provider": provider},
        appointment=appointment,
        treatment=Truncator(row["treatment"]).chars(160) if row["treatment"] else "",
    )


@patient_required
@never_cache
@require_GET
def patient_record_list(request: HttpRequest) -> HttpResponse:
    page = record_list_page(request.user.patient_profile, request.GET.get("page"))
    zones: dict[Any, dt.tzinfo] = {}
    records = [_record_list_row(row, zones) for row in page.object_list]
    return render(request, "records/patient_record_list.html", {"records": records, "page": page})


@patient_required
@never_cache
@require_GET
def patient_summary(request: HttpRequest) -> HttpResponse:
    return render(
        request, "records/patient_summary.html", {"summary": health_summary(request.user)}
    )


@portal_required
@never_cache
@require_GET
def record_detail(request: HttpRequest, record_id: UUID) -> HttpResponse:
    """One record, for its patient or for a provider who may read the patient's chart."""
    record = medical_record_for_user(request.user, record_id)
    if record is None:
        raise Http404
    context: dict[str, Any] = {
        "record": record,
        "history": medical_record_history(record),
        "prescriptions": list(
            record.prescriptions.select_related("provider__user").order_by("-start_date")
        ),
        "tz": zone_of(record.provider),
        "base_template": "portal_patient.html",
    }
    if request.user.is_provider:
        context.update(_provider_context(request, record))
    return render(request, "records/record_detail.html", context)


def _provider_context(request: HttpRequest, record: MedicalRecord) -> dict[str, Any]:
    access = phi_access_record(
        accessor=request.user,
        patient=record.patient,
        resource=PHIResource.MEDICAL_RECORD,
        object_id=record.pk,
        ip_address=client_ip(request),
    )
    emergency = access is not None and access.emergency
    return {
        "base_template": "providers/base.html",
        # Emergency access is read-only; only the author amends a record.
        "can_write": not emergency,
        "can_edit": not emergency and record.provider.user_id == request.user.pk,
        "emergency": active_emergency_access(request.user, record.patient) if emergency else None,
        "provider_tz": zone_of(request.user.provider_profile),
    }


@provider_required
@never_cache
@require_http_methods(["GET", "POST"])
def record_create(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = _writable_patient(request, patient_id)
    provider = request.user.provider_profile
    appointments = linkable_appointments(provider, patient)
    if request.method == "POST":
        form = MedicalRecordForm(request.POST, appointments=appointments)
        if form.is_valid():
            try:
                record = medical_record_write(
                    by=request.user, patient=patient, **form.service_kwargs()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            else:
                messages.success(request, _("The record is saved."))
                return redirect("records:record-detail", record_id=record.pk)
    else:
        _log_form_opened(request, patient)
        form = MedicalRecordForm(
            appointments=appointments,
            initial={
                "record_date": timezone.now().astimezone(zone_of(provider)).date(),
                "appointment": request.GET.get("appointment") or None,
            },
        )
    return _render_form(request, form, patient=patient, record=None)


@provider_required
@never_cache
@require_http_methods(["GET", "POST"])
def record_update(request: HttpRequest, record_id: UUID) -> HttpResponse:
    record = medical_record_for_user(request.user, record_id)
    if record is None:
        raise Http404
    if record.provider.user_id != request.user.pk or not writable_patient(
        request.user, record.patient
    ):
        raise PermissionDenied(_("Only the provider who wrote this record can amend it."))
    appointments = linkable_appointments(
        record.provider, record.patient, include=record.appointment_id
    )
    if request.method == "POST":
        form = MedicalRecordForm(request.POST, appointments=appointments)
        if form.is_valid():
            try:
                medical_record_update(record=record, by=request.user, **form.service_kwargs())
            except ValidationError as exc:
                add_service_errors(form, exc)
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            else:
                messages.success(
                    request, _("The record is amended; its history keeps the earlier text.")
                )
                return redirect("records:record-detail", record_id=record.pk)
    else:
        _log_form_opened(request, record.patient, record)
        form = MedicalRecordForm(
            appointments=appointments,
            initial={
                "record_date": record.record_date,
                "symptoms": record.symptoms,
                "diagnosis": record.diagnosis,
                "treatment": record.treatment,
                "notes": record.notes,
                "appointment": record.appointment_id,
            },
        )
    return _render_form(request, form, patient=record.patient, record=record)


# --- Helpers --------------------------------------------------------------------------


def _writable_patient(request: HttpRequest, patient_id: UUID) -> PatientProfile:
    """The patient if the provider may write for them; 404 if not visible, 403 under emergency access."""
    patient = patient_for_user(request.user, patient_id)
    if patient is None:
        raise Http404
    if not writable_patient(request.user, patient):
        raise PermissionDenied(_("Emergency access is read-only."))
    return patient


def _log_form_opened(
    request: HttpRequest, patient: PatientProfile, record: MedicalRecord | None = None
) -> None:
    # The form shows the patient's appointments (and, to amend, the record): PHI.
    phi_access_record(
        accessor=request.user,
        patient=patient,
        resource=PHIResource.MEDICAL_RECORD,
        object_id=record.pk if record else "",
        ip_address=client_ip(request),
    )


def _render_form(
    request: HttpRequest,
    form: MedicalRecordForm,
    *,
    patient: PatientProfile,
    record: MedicalRecord | None,
) -> HttpResponse:
    return render(
        request,
        "records/record_form.html",
        {"form": form, "patient": patient, "record": record},
        status=BAD_INPUT if form.is_bound else 200,
    )
