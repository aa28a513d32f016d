"""Provider portal pages: dashboard, profile, patient list, chart and break-the-glass access."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import provider_required
from healthcare import ratelimits
from healthcare.net import client_ip
from patients.services import phi_access_record
from prescriptions.selectors import pending_refill_rows_and_count_for_provider
from providers import display
from providers.forms import (
    EmergencyAccessForm,
    PatientSearchForm,
    ProviderProfileForm,
    add_service_errors,
)
from providers.selectors import (
    active_emergency_access,
    chart_patient,
    patient_list_page,
    provider_dashboard,
    provider_timezone,
)
from providers.services import (
    PatientAmbiguous,
    PatientNotFound,
    emergency_access_request,
    provider_update_profile,
)
from records.selectors import clinical_chart

PATIENTS_PER_PAGE = 25
DASHBOARD_REFILLS = 5
CHART_RESOURCE = "chart"


def _age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@provider_required
@never_cache
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    provider = request.user.provider_profile
    board = provider_dashboard(provider)
    # The navigation's badge shows the count the dashboard read with its messages
    # (UnreadBadgeMiddleware would otherwise count them again).
    badges = getattr(request, "portal_badges", None)
    if isinstance(badges, dict):
        badges["messages"] = board.unread_count
    refills, refill_count = pending_refill_rows_and_count_for_provider(
        provider, limit=DASHBOARD_REFILLS
    )
    context = {
        "profile": provider,
        "board": board,
        "rows": display.dashboard_rows(board, refills),
        "refill_count": refill_count,
    }
    return render(request, "providers/dashboard.html", context)


@provider_required
@never_cache
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    provider = request.user.provider_profile
    if request.method == "POST":
        form = ProviderProfileForm(request.POST)
        if form.is_valid():
            try:
                provider_update_profile(profile=provider, **form.service_kwargs())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect("providers:profile")
    else:
        initial = ProviderProfileForm.initial_for(
            provider, default_timezone=provider_timezone(provider).key
        )
        form = ProviderProfileForm(initial=initial)
    return render(request, "providers/profile.html", {"form": form, "profile": provider})


@provider_required
@never_cache
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = patient_list_page(
        request.user.provider_profile, query, request.GET.get("page"), PATIENTS_PER_PAGE
    )
    return render(
        request,
        "providers/patient_list.html",
        {
            "form": form,
            "query": query,
            "page": page,
            "patient_rows": display.patient_rows(page.object_list),
        },
    )


@provider_required
@never_cache
@require_GET
def patient_chart(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = chart_patient(request.user, patient_id)
    if patient is None:
        raise Http404
    phi_access_record(
        accessor=request.user,
        patient=patient,
        resource=CHART_RESOURCE,
        object_id=patient.pk,
        ip_address=client_ip(request),
        in_care=patient.in_care,
    )
    # Visible without a care relationship means emergency access, which is read-only;
    # a relationship means the provider may write.
    can_write = patient.in_care
    emergency = None if can_write else active_emergency_access(request.user, patient)
    tz = provider_timezone(request.user.provider_profile)
    clinical = clinical_chart(
        request.user,
        patient,
        records_page=request.GET.get("records_page"),
        prescriptions_page=request.GET.get("prescriptions_page"),
    )
    write_url = reverse("records:record-create", kwargs={"patient_id": patient.pk})
    return render(
        request,
        "providers/patient_chart.html",
        {
            "patient": patient,
            "age": _age_on(patient.date_of_birth, timezone.now().astimezone(tz).date()),
            "emergency": emergency,
            "provider_tz": tz,
            "clinical": clinical,
            "appointment_rows": display.appointment_rows(
                clinical, zone=tz, can_write=can_write, write_url=write_url
            ),
            "record_rows": display.record_rows(clinical.records.object_list, zone=tz),
            "current_prescription_rows": display.prescription_rows(clinical.prescriptions.current),
            "past_prescription_rows": display.prescription_rows(clinical.prescriptions.past),
            "refill_rows": display.refill_rows(clinical.pending_refills, zone=tz),
            "write_url": write_url,
            "can_write": can_write,
        },
    )


@provider_required
@never_cache
@require_http_methods(["GET", "POST"])
# Per provider: guessing a date of birth takes many searches; a real emergency takes a few.
@ratelimits.limit("emergency-lookup", key=ratelimits.by_user)
def emergency_access(request: HttpRequest) -> HttpResponse:
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = emergency_access_request(
                provider=request.user.provider_profile,
                ip_address=client_ip(request),
                **form.cleaned_data,
            )
        except PatientNotFound:
            form.add_error(
                None,
                _(
                    "No patient matches that name and date of birth. Check the spelling and the date."
                ),
            )
        except PatientAmbiguous:
            form.add_error(
                None,
                _(
                    "More than one patient matches that name and date of birth. "
                    "Add the patient's insurance number to tell them apart."
                ),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if outcome.grant is None:
                messages.info(request, _("This is your patient; no emergency access was needed."))
            return redirect("providers:patient-chart", patient_id=outcome.patient.pk)
    return render(request, "providers/emergency_access.html", {"form": form})
