"""Project-wide middleware."""

from __future__ import annotations

from collections.abc import Callable

from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from healthcare.net import client_ip


class AuditActorMiddleware(AuditlogMiddleware):
    """Records the signed-in user and the trusted client address on audit entries.

    auditlog's own middleware believes the first X-Forwarded-For entry, which
    any client can forge; the audit trail must name the real address.
    """

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_ip(request)


class HttpMethodAllowlistMiddleware:
    """Answers 405 to every HTTP method the site does not use (TRACE, TRACK, PUT, OPTIONS...).

    Function views that only test `request.method == "POST"` would otherwise
    render the page for any other verb, so a TRACE or PUT answered 200. The
    list is settings.HTTP_METHODS_ALLOWED, checked before any other work.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.allowed = tuple(m.upper() for m in settings.HTTP_METHODS_ALLOWED)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in self.allowed:
            return HttpResponseNotAllowed(self.allowed)
        return self.get_response(request)
