"""Role checks for portal views. Default deny: every portal view carries one of these."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.models import Role

View = Callable[..., HttpResponse]


def _role_required(role: Role, profile_attr: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if user.role != role or not hasattr(user, profile_attr):
                raise PermissionDenied
            if user.requires_mfa and not user.is_verified():
                # Signed in without a second factor (e.g. by an older session):
                # finish enrolment or verification before any PHI.
                return redirect("accounts:mfa-setup")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


patient_required = _role_required(Role.PATIENT, "patient_profile")
provider_required = _role_required(Role.PROVIDER, "provider_profile")


def portal_required(view: View) -> View:
    """Either portal's users (pages both share, such as messages or the assistant)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.role == Role.PATIENT and hasattr(user, "patient_profile"):
            return view(request, *args, **kwargs)
        if user.role == Role.PROVIDER and hasattr(user, "provider_profile"):
            if not user.is_verified():
                return redirect("accounts:mfa-setup")
            return view(request, *args, **kwargs)
        raise PermissionDenied

    return wrapper
