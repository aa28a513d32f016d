"""The half-way state of a sign-in: the password is right, the second factor is still owed.

Such a session is not signed in (Django's auth sees an anonymous visitor), but
it must not act as an anonymous visitor either: it may reach the code step,
enrolment while the account has no confirmed authenticator, and sign-out. The
middleware below holds it to that; the views ask `pending_user` who it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

PENDING_KEY = "accounts_mfa_pending"

CODE_STEP = "accounts:login-otp"
ENROLMENT = "accounts:mfa-setup"
SIGN_OUT = "accounts:logout"


def pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    """The user who passed the password step of this sign-in and still owes a second factor.

    An expired pending sign-in is forgotten here, so the visitor is an ordinary
    anonymous one again.
    """
    pending = request.session.get(PENDING_KEY) or {}
    if not pending or time.time() - pending.get("at", 0) > settings.MFA_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, {}
    return User.objects.filter(pk=pending["user"], is_active=True).first(), pending


def has_confirmed_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def may_enrol_while_pending(user: User) -> bool:
    """Enrolment half-way through sign-in is only for an account that has no authenticator yet.

    Otherwise the password alone would be enough to replace the owner's
    authenticator with the visitor's own.
    """
    return not has_confirmed_authenticator(user)


class PendingSignInMiddleware:
    """Holds a password-only session to the code step, enrolment (without an authenticator) and sign-out.

    Every other URL, page or POST, answers with a redirect to the step still
    owed; nothing else runs. Websockets refuse such a session on their own: it
    is not signed in (accounts.sessions.session_user).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or user.is_authenticated or PENDING_KEY not in request.session:
            return self.get_response(request)
        pending, _state = pending_user(request)
        if pending is None:
            return self.get_response(request)
        may_enrol = may_enrol_while_pending(pending)
        try:
            name = resolve(request.path_info).view_name
        except Resolver404:
            name = ""
        if name in (CODE_STEP, SIGN_OUT) or (name == ENROLMENT and may_enrol):
            return self.get_response(request)
        return redirect(ENROLMENT if may_enrol else CODE_STEP)
