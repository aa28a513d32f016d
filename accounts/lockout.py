"""Hooks for django-axes: how the account is named in a request, and what a locked-out user sees."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import UserManager
from healthcare.net import client_ip


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


def address_failures(request: HttpRequest) -> int:
    """Failed sign-ins from this address, against any accounts, within the cool-off.

    Django-axes counts per account (5 locks it); an address shared by a whole
    clinic's Wi-Fi must not be locked by one person's typos, so the address has
    its own, far higher limit that only stops spraying across many accounts.
    """
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(ip_address=client_ip(request), attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return int(total or 0)


def address_locked(request: HttpRequest) -> bool:
    return address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT


def tries_left_message(request: HttpRequest) -> str:
    """After the third failure for an account: how many tries are left before it is blocked."""
    failures = getattr(request, "axes_failures_since_start", None)
    if not isinstance(failures, int) or failures < 3:
        return ""
    left = max(settings.AXES_FAILURE_LIMIT - failures, 0)
    if left == 0:
        return ""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return ngettext(
        "%(left)d try left before sign-in to this account is blocked for %(minutes)d minutes.",
        "%(left)d tries left before sign-in to this account is blocked for %(minutes)d minutes.",
        left,
    ) % {"left": left, "minutes": minutes}


def lockout_response(request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> HttpResponse:
    from accounts.forms import LoginForm

    # The address stays in the field, so trying again later is one password away.
    form = LoginForm(request, initial={"username": username_from_request(request, credentials)})
    return render(
        request,
        "accounts/login.html",
        {"form": form, "lockout_message": lockout_message()},
        status=429,
    )
