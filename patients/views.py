"""Patient portal pages: dashboard, own profile, and who viewed the record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import patient_required
from messaging.selectors import latest_unread_with_count
from patients.forms import PatientProfileForm
from patients.middleware import remember_zone
from patients.selectors import phi_accesses_of_patient
from patients.services import patient_update_profile
from patients.templatetags.zoned_time import iso
from patients.timezones import UTC, format_in_zone, zone_named
from prescriptions.selectors import active_prescription_values_for_patient
from scheduling.models import AppointmentType
from scheduling.selectors import upcoming_appointment_values_for_patient

ACCESS_LOG_PAGE_SIZE = 25
DASHBOARD_PRESCRIPTIONS = 5


@dataclass(frozen=True)
class DashboardAppointment:
    """One upcoming appointment as the dashboard prints it."""

    iso: str
    when: str  # in the viewer's zone (else the provider's), as the `zoned` filter prints it
    provider: str
    minutes: int
    type_label: str
    office: str
    reason: str


@dataclass(frozen=True)
class DashboardPrescription:
    medication: str
    dosage: str
    frequency: str
    provider: str
    end: str
    refills: int


@dataclass(frozen=True)
class DashboardMessage:
    sender: str
    iso: str
    utc: str
    ago: str
    excerpt: str


def _provider_name(name: str, credentials: str) -> str:
    # As ProviderProfile.display_name.
    return f"{name}, {credentials}" if credentials else name


def _provider_zone(hours: object) -> dt.tzinfo:
    # As ProviderProfile.zone.
    return (zone_named(hours.get("timezone")) if isinstance(hours, dict) else None) or UTC


@never_cache
@require_GET
@patient_required
def dashboard(request: HttpRequest) -> HttpResponse:
    profile = request.user.patient_profile
    # Plain values, each formatted once here rather than through filters and
    # model properties per row in the template.
    types = dict(AppointmentType.choices)
    appointments = [
        DashboardAppointment(
            iso=iso(row["date_time"]),
            when=format_in_zone(row["date_time"], _provider_zone(row["provider_hours"])),
            provider=_provider_name(row["provider_name"], row["provider_credentials"]),
            minutes=row["duration_minutes"],
            type_label=str(types.get(row["type"], row["type"])),
            office=row["provider_office"],
            reason=row["reason"],
        )
        for row in upcoming_appointment_values_for_patient(profile)
    ]
    prescriptions = [
        DashboardPrescription(
            medication=row["medication_name"],
            dosage=row["dosage"],
            frequency=row["frequency"],
            provider=_provider_name(row["provider_name"], row["provider_credentials"]),
            end=date_format(row["end_date"], "j M Y"),
            refills=row["refills"],
        )
        for row in active_prescription_values_for_patient(profile, limit=DASHBOARD_PRESCRIPTIONS)
    ]
    unread, unread_count = latest_unread_with_count(request.user)
    messages_shown = [
        DashboardMessage(
            sender=row["sender_name"],
            iso=iso(row["sent_at"]),
            utc=format_in_zone(row["sent_at"], UTC),
            ago=timesince(row["sent_at"]),
            excerpt=Truncator(row["content"]).chars(100),
        )
        for row in unread
    ]
    # The navigation's badge shows the count read with the messages
    # (UnreadBadgeMiddleware would otherwise count them again).
    badges = getattr(request, "portal_badges", None)
    if isinstance(badges, dict):
        badges["messages"] = unread_count
    context = {
        "profile": profile,
        "appointments": appointments,
        "prescriptions": prescriptions,
        "unread_count": unread_count,
        "unread_messages": messages_shown,
    }
    return render(request, "patients/dashboard.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("ssn")
@patient_required
def profile(request: HttpRequest) -> HttpResponse:
    patient = request.user.patient_profile
    data = request.POST if request.method == "POST" else None
    form = PatientProfileForm(data, profile=patient)
    if request.method == "POST" and form.is_valid():
        # An SSN already on another profile is saved and flagged for staff, with
        # the same answer as any other: a refusal would tell whose number it is.
        try:
            patient_update_profile(profile=patient, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            if form.cleaned_data.get("time_zone"):
                remember_zone(request, form.cleaned_data["time_zone"])
            messages.success(request, _("Your profile has been saved."))
            return redirect("patients:profile")
    return render(request, "patients/profile.html", {"form": form, "profile": patient})


@never_cache
@require_GET
@patient_required
def access_log(request: HttpRequest) -> HttpResponse:
    profile = request.user.patient_profile
    paginator = Paginator(phi_accesses_of_patient(profile), ACCESS_LOG_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "patients/access_log.html", {"page": page})
