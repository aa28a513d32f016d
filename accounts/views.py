"""Sign-in (password, then a second factor), registration, verification, invitations, security."""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.emails import send_verification_email
from accounts.forms import EmailForm, LoginForm, OTPForm, PatientRegistrationForm, SetPasswordForm
from accounts.lockout import lockout_response
from accounts.models import Role, User
from accounts.signin import PENDING_KEY, may_enrol_while_pending
from accounts.signin import pending_user as _pending_user
from accounts.tokens import email_verification_link, invitation_link
from patients.services import patient_register

RECOVERY_CODES_KEY = "accounts_new_recovery_codes"
ENROL_DEVICE_KEY = "accounts_enrol_device"


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


# --- Landing -------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """Public on purpose: it only sends each visitor to the place they belong."""
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if user.role == Role.PATIENT and hasattr(user, "patient_profile"):
        return redirect("patients:dashboard")
    if user.role == Role.PROVIDER and hasattr(user, "provider_profile"):
        return redirect("providers:dashboard")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "accounts/no_portal.html", status=403)


# --- Sign-in -------------------------------------------------------------------


def _finish_login(request: HttpRequest, user: User, backend: str, device: Any | None, next_url: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    auth_login(request, user, backend=backend)
    if device is not None:
        otp_login(request, device)
    return redirect(_safe_next(request, next_url))


# Public: this is the way in.
@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    next_url = request.POST.get("next") or request.GET.get("next", "")
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if user.requires_mfa or services.mfa_enabled(user):
            request.session[PENDING_KEY] = {
                "user": str(user.pk),
                "backend": user.backend,
                "at": time.time(),
                "next": next_url,
            }
            if services.mfa_enabled(user):
                return redirect("accounts:login-otp")
            return redirect("accounts:mfa-setup")
        return _finish_login(request, user, user.backend, None, next_url)
    expired = request.GET.get("expired") == "1"
    return render(request, "accounts/login.html", {"form": form, "next": next_url, "expired": expired})


# Public: the second step of sign-in, for whoever passed the first one in this session.
@never_cache
def login_otp(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Please sign in again."))
        return redirect("accounts:login")
    form = OTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credentials = {"username": user.email}
        if AxesProxyHandler.is_locked(request, credentials):
            return lockout_response(request, credentials)
        device = services.mfa_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            return _finish_login(request, user, pending["backend"], device, pending.get("next", ""))
        # A wrong code counts towards the lockout like a wrong password.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, credentials)
        form.add_error("code", _("That code is not right, or it was already used."))
    return render(request, "accounts/login_otp.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.success(request, _("You have signed out."))
    return redirect("accounts:login")


# --- Second factor enrolment ---------------------------------------------------


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")


# Public in the sense of login_required: a sign-in in progress may enrol before it is complete.
@never_cache
def mfa_setup(request: HttpRequest) -> HttpResponse:
    pending_user, pending = _pending_user(request)
    user = request.user if request.user.is_authenticated else pending_user
    if user is None:
        return redirect("accounts:login")
    if not request.user.is_authenticated and not may_enrol_while_pending(user):
        # The password alone must never replace the authenticator it protects.
        return redirect("accounts:login-otp")
    if request.user.is_authenticated and user.requires_mfa and not user.is_verified():
        # A provider or staff session without a second factor is not trusted: start over.
        auth_logout(request)
        messages.info(request, _("Please sign in again with your authenticator code."))
        return redirect("accounts:login")

    device = TOTPDevice.objects.filter(
        pk=request.session.get(ENROL_DEVICE_KEY), user=user, confirmed=False
    ).first()
    if device is None:
        device = services.mfa_totp_begin(user=user)
        request.session[ENROL_DEVICE_KEY] = device.pk

    form = OTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.mfa_totp_confirm(user=user, device=device, token=form.cleaned_data["code"])
        except services.InvalidOTP as exc:
            form.add_error("code", str(exc))
        else:
            request.session.pop(ENROL_DEVICE_KEY, None)
            request.session[RECOVERY_CODES_KEY] = codes
            if not request.user.is_authenticated:
                _finish_login(request, user, pending["backend"], device, pending.get("next", ""))
            else:
                otp_login(request, device)
            messages.success(request, _("Two-step sign-in is on."))
            return redirect("accounts:mfa-recovery-codes")
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
        "required": user.requires_mfa,
    }
    return render(request, "accounts/mfa_setup.html", context)


@login_required
@never_cache
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Shows freshly made recovery codes once; they are not stored in clear anywhere."""
    codes = request.session.pop(RECOVERY_CODES_KEY, None)
    if not codes:
        return redirect("accounts:security")
    return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes})


@login_required
@require_POST
def mfa_recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if not services.mfa_enabled(request.user):
        return redirect("accounts:security")
    request.session[RECOVERY_CODES_KEY] = services.mfa_recovery_codes_regenerate(user=request.user)
    return redirect("accounts:mfa-recovery-codes")


@login_required
@require_POST
def mfa_disable(request: HttpRequest) -> HttpResponse:
    try:
        services.mfa_disable(user=request.user)
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Two-step sign-in is off."))
    return redirect("accounts:security")


# --- Security page ---------------------------------------------------------------


@login_required
def security(request: HttpRequest) -> HttpResponse:
    template = "accounts/security.html"
    context = {"mfa_enabled": services.mfa_enabled(request.user), "mfa_required": request.user.requires_mfa}
    return render(request, template, context)


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.user_sign_out_everywhere(user=request.user)
    auth_logout(request)
    messages.success(request, _("You have been signed out on every device."))
    return redirect("accounts:login")


# --- Registration and verification ------------------------------------------------


# Public: patients create their own accounts.
@sensitive_post_parameters("password1", "password2", "ssn")
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = PatientRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient_register(
            email=data["email"],
            password=data["password1"],
            full_name=data["full_name"],
            date_of_birth=data["date_of_birth"],
            phone_number=data["phone_number"],
            address=data["address"],
            emergency_contact=data["emergency_contact"],
            emergency_contact_phone=data["emergency_contact_phone"],
            insurance_number=data["insurance_number"],
            ssn=data["ssn"],
            base_url=_base_url(request),
        )
        return render(request, "accounts/register_done.html", {"email": data["email"]})
    return render(request, "accounts/register.html", {"form": form})


# Public: opened from the verification email.
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    user = email_verification_link.resolve(token)
    if user is None:
        messages.error(request, _("This confirmation link is invalid or has expired. Ask for a new one below."))
        return redirect("accounts:verify-resend")
    services.user_verify_email(user=user)
    messages.success(request, _("Your email address is confirmed. You can sign in now."))
    return redirect("accounts:login")


# Public: the same answer whether or not the address has an account.
def verify_resend(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(
            email=form.cleaned_data["email"], is_active=True, email_verified_at__isnull=True
        ).first()
        if user is not None:
            send_verification_email(user=user, base_url=_base_url(request))
        messages.info(request, _("If that address has an unconfirmed account, a new link is on its way."))
        return redirect("accounts:login")
    return render(request, "accounts/verify_resend.html", {"form": form})


# Public: opened from the invitation email.
@sensitive_post_parameters("password1", "password2")
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    user = invitation_link.resolve(token)
    if user is None:
        messages.error(request, _("This invitation link is invalid, expired or already used. Ask your administrator for a new one."))
        return redirect("accounts:login")
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_accept_invitation(user=user, password=form.cleaned_data["password1"])
        messages.success(request, _("Your password is set. Sign in to set up two-step sign-in."))
        return redirect("accounts:login")
    return render(request, "accounts/invitation.html", {"form": form, "invited": user})
