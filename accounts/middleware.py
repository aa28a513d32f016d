"""Session limits beyond Django's idle expiry."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

LOGIN_AT_SESSION_KEY = "accounts_login_at"


def past_absolute_limit(session_data: Any) -> bool:
    """True when the session was opened more than SESSION_ABSOLUTE_SECONDS ago (or never stamped)."""
    login_at = session_data.get(LOGIN_AT_SESSION_KEY)
    return login_at is None or time.time() - float(login_at) > settings.SESSION_ABSOLUTE_SECONDS


class SessionLimitsMiddleware:
    """Ends a session SESSION_ABSOLUTE_SECONDS after sign-in, however active it has been.

    The idle timeout is Django's own (SESSION_COOKIE_AGE renewed on every
    request); this adds the absolute limit a stolen but busy session cannot dodge.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and past_absolute_limit(request.session):
            logout(request)
            messages.info(request, _("Your session has ended. Please sign in again."))
            return redirect(settings.LOGIN_URL)
        return self.get_response(request)
