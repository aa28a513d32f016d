"""Patient portal pages: dashboard, own profile, and who viewed the record."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import patient_required
from messaging.middleware import unread_count_of
from messaging.selectors import latest_unread
from patients.forms import PatientProfileForm
from patients.middleware import remember_zone
from patients.selectors import phi_accesses_of_patient
from patients.services import patient_update_profile
from prescriptions.selectors import active_prescriptions_for_patient
from scheduling.selectors import upcoming_appointments_for_patient

ACCESS_LOG_PAGE_SIZE = 25
DASHBOARD_PRESCRIPTIONS = 5


@never_cache
@require_GET
@patient_required
def dashboard(request: HttpRequest) -> HttpResponse:
    profile = request.user.patient_profile
    context = {
        "profile": profile,
        "appointments": upcoming_appointments_for_patient(profile),
        "prescriptions": active_prescriptions_for_patient(profile, limit=DASHBOARD_PRESCRIPTIONS),
        "unread_count": unread_count_of(request),
        "unread_messages": latest_unread(request.user),
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
