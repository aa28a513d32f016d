"""Content-Security-Policy with this origin's websockets in connect-src.

CSP3 lets 'self' match ws:/wss: on the page's own host and port, but older
engines (Safari before 15.4, Firefox before 105's fix of the port rule) refuse
the socket. Naming the exact origin of the request costs nothing and keeps the
policy just as narrow: only this host, only the scheme the page came over.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.response import HttpResponseBase


def websocket_origin(request: HttpRequest) -> str | None:
    """`wss://host[:port]` for a page served over TLS, else `ws://...`; None for a host not ours."""
    try:
        host = request.get_host()
    except DisallowedHost:
        # CommonMiddleware has already answered 400; this response needs no socket.
        return None
    return f"{'wss' if request.is_secure() else 'ws'}://{host}"


class PortalCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origin = websocket_origin(request)
        if origin is not None:
            update = dict(parts.update or {})
            # A view's own @csp_update of connect-src is kept beside the socket origin.
            extra = update.get("connect-src") or []
            extra = [extra] if isinstance(extra, str) else list(extra)
            update["connect-src"] = [*extra, origin]
            parts.update = update
        return parts
