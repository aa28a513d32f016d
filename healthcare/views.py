"""Operational endpoints (not part of either portal)."""

from __future__ import annotations

import sys

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


# Public on purpose: load balancers probe it without credentials, and it tells nothing but up/down.
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _database_busy(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is a wait for a pooled database connection that timed out."""
    while error is not None:
        if type(error).__name__ == "PoolTimeout":
            return True
        error = error.__cause__ or error.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, except when every database connection was busy: that is a 503 to retry.

    Django calls this inside its `except` block, so the failure is still in sys.exc_info().
    """
    if _database_busy(sys.exc_info()[1]):
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "5"
        return response
    return render(request, "500.html", status=500)
