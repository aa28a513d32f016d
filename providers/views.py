"""Provider portal pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import provider_required


@provider_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "providers/dashboard.html", {"profile": request.user.provider_profile})
