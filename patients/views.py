"""Patient portal pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import patient_required


@patient_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "patients/dashboard.html", {"profile": request.user.patient_profile})
