"""Project-wide middleware."""

from __future__ import annotations

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest

from healthcare.net import client_ip


class AuditActorMiddleware(AuditlogMiddleware):
    """Records the signed-in user and the trusted client address on audit entries.

    auditlog's own middleware believes the first X-Forwarded-For entry, which
    any client can forge; the audit trail must name the real address.
    """

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_ip(request)
