"""Rate limits (django-ratelimit) on the pages that email people or make the server work hard.

Counters live in the cache named by RATELIMIT_USE_CACHE, Redis in production, so
every server process counts against the same limit. Each limit has a name; its
rate ("10/h", "5/15m") comes from settings.RATELIMITS, so an operator can tune
it without touching code. A refused request gets a 429 before the view runs:
nothing is written and no email is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit import UNSAFE
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit

from healthcare.net import client_ip

logger = logging.getLogger(__name__)

ViewT = TypeVar("ViewT", bound=Callable[..., Any])


def rate_of(name: str) -> str | None:
    """The configured rate of the limit `name` (settings.RATELIMITS); "" switches it off."""
    return settings.RATELIMITS[name] or None


def _rate(name: str) -> Callable[[str, Any], str | None]:
    # Read at request time, so a changed setting (or a test's override) applies at once.
    return lambda group, request: rate_of(name)


def by_address(group: str, request: HttpRequest) -> str:
    """The client address our trusted proxies report; a forged X-Forwarded-For is ignored."""
    return client_ip(request) or "unknown"


def by_user(group: str, request: Any) -> str:
    """The signed-in user: one person's limit, whatever address or tab they use."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"address:{by_address(group, request)}"


def by_posted_email(group: str, request: HttpRequest) -> str:
    """The address an email would go to: one inbox is not flooded from many client addresses."""
    return request.POST.get("email", "").strip().lower()


def limit(
    name: str, *, key: Callable[[str, Any], str], method: Any = UNSAFE
) -> Callable[[ViewT], ViewT]:
    """Refuse a view's requests beyond the rate named `name`, counted per `key`.

    Only `method` requests count (writes by default), so reading a form is never limited.
    """
    return ratelimit(group=f"portal:{name}", key=key, rate=_rate(name), method=method, block=True)


@dataclass
class _Caller:
    """What django-ratelimit reads from a request, for callers without one (websockets)."""

    user: Any
    method: str = "POST"
    META: dict[str, str] = field(default_factory=dict)


def allow_user_action(name: str, user: Any) -> bool:
    """Count one action of `user` against the limit `name`; False once over it.

    For code that has no HttpRequest (websocket consumers). It shares the
    counter of views limited by `limit(name, key=by_user)`.
    """
    # The method list is part of django-ratelimit's cache key: the same one as limit()'s default.
    usage = get_usage(
        _Caller(user=user),
        group=f"portal:{name}",
        key=by_user,
        rate=_rate(name),
        method=UNSAFE,
        increment=True,
    )
    limited = usage is not None and usage["should_limit"]
    if limited:
        logger.warning("Rate limit %s reached by user %s", name, user.pk)
    return not limited


def too_many_requests(request: HttpRequest, exception: Exception) -> HttpResponse:
    """RATELIMIT_VIEW: a 429 that says what happened and when to try again, in HTML or JSON."""
    user = getattr(request, "user", None)
    logger.warning(
        "Rate limit reached on %s by %s",
        request.path,
        f"user {user.pk}"
        if user is not None and user.is_authenticated
        else f"address {client_ip(request)}",
    )
    message = _("Too many attempts in a short time. Please wait a few minutes and try again.")
    if "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"errors": {"__all__": [message]}}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = "60"
    return response
