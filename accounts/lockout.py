"""Hooks for django-axes: how the account is named in a request, and what a locked-out user sees."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.models import UserManager


def username_from_request(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The normalised email, so "Pat@X.org" and "pat@x.org" share one failure count."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return UserManager.normalize_email(raw)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # Same words whether or not the account exists.
    return _(
        "Too many failed sign-in attempts. Sign-in is blocked for %(minutes)d minutes; "
        "try again later or reset your password."
    ) % {"minutes": minutes}


def lockout_response(request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> HttpResponse:
    from accounts.forms import LoginForm

    form = LoginForm(request)
    return render(
        request,
        "accounts/login.html",
        {"form": form, "lockout_message": lockout_message()},
        status=429,
    )
