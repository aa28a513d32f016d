"""Client address of a request, resistant to spoofed X-Forwarded-For."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address that connected to us, or the one our trusted proxies saw.

    X-Forwarded-For is written by the client first and appended to by each
    proxy, so only the last TRUSTED_PROXY_COUNT entries can be believed; with
    no trusted proxy the header is ignored entirely.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
