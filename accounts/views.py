"""Sign-in (password, then a second factor), registration, verification, invitations, security."""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm as NewPasswordForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
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
from accounts.emails import send_email_change_link, send_verification_email
from accounts.forms import (
    EmailChangeForm,
    EmailForm,
    EnrolOTPForm,
    LoginForm,
    OTPForm,
    PatientRegistrationForm,
    ReauthForm,
    SetPasswordForm,
)
from accounts.lockout import address_locked, lockout_response, tries_left_message
from accounts.models import Role, User
from accounts.reauth import reauth_is_recent, reauth_mark, reauth_redirect, reauth_required
from accounts.signin import PENDING_KEY, may_enrol_while_pending
from accounts.signin import pending_user as _pending_user
from accounts.tokens import email_change_link, email_verification_link, invitation_link
from healthcare import ratelimits
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
@ratelimits.limit("sign-in", key=ratelimits.by_address)
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST" and address_locked(request):
        return lockout_response(request, {"username": request.POST.get("username", "")})
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
    # After an explicit sign-out only that is said, not also that the session ran out.
    signed_out = any(SIGNED_OUT_TAG in m.tags for m in messages.get_messages(request))
    expired = request.GET.get("expired") == "1" and not signed_out
    context = {"form": form, "next": next_url, "expired": expired, "tries_left": tries_left_message(request)}
    return render(request, "accounts/login.html", context)


# Public: the second step of sign-in, for whoever passed the first one in this session.
@never_cache
@ratelimits.limit("sign-in", key=ratelimits.by_address)
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
    # Tagged, so the sign-in page does not also say the session ran out (another
    # tab of the portal may land there with ?expired=1 at the same moment).
    messages.success(request, _("You have signed out."), extra_tags=SIGNED_OUT_TAG)
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
    if request.user.is_authenticated and not reauth_is_recent(request):
        # Adding or replacing the authenticator of a signed-in account: prove it is the owner.
        return reauth_redirect(request)

    device = TOTPDevice.objects.filter(
        pk=request.session.get(ENROL_DEVICE_KEY), user=user, confirmed=False
    ).first()
    if device is None:
        device = services.mfa_totp_begin(user=user)
        request.session[ENROL_DEVICE_KEY] = device.pk

    form = EnrolOTPForm(request.POST or None)
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
                # Other sessions were signed in without this authenticator: they end here.
                services.user_sign_out_everywhere(user=user)
                update_session_auth_hash(request, user)
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
    # Also offered as a text file to download; it is made here, never stored.
    lines = [_("Recovery codes for %(email)s") % {"email": request.user.email}, "", *codes, ""]
    context = {"codes": codes, "codes_text": "\n".join(lines)}
    return render(request, "accounts/mfa_recovery_codes.html", context)


@reauth_required
@require_POST
def mfa_recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if not services.mfa_enabled(request.user):
        return redirect("accounts:security")
    request.session[RECOVERY_CODES_KEY] = services.mfa_recovery_codes_regenerate(user=request.user)
    return redirect("accounts:mfa-recovery-codes")


@reauth_required
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
@ratelimits.limit("register", key=ratelimits.by_address)
@ratelimits.limit("register-email", key=ratelimits.by_posted_email)
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
            time_zone=data["time_zone"],
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
@ratelimits.limit("verify-resend", key=ratelimits.by_address)
@ratelimits.limit("verify-resend-email", key=ratelimits.by_posted_email)
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


# --- Re-authentication and changes to how the account signs in ---------------------

SIGNED_OUT_TAG = "signed-out"


@login_required
@sensitive_post_parameters("password", "code")
@never_cache
def reauth(request: HttpRequest) -> HttpResponse:
    """The password again and, with two-step sign-in on, a current code; good for a few minutes."""
    user = request.user
    next_url = request.POST.get("next") or request.GET.get("next", "")
    credentials = {"username": user.email}
    form = ReauthForm(user, request.POST or None, needs_code=services.mfa_enabled(user))
    if request.method == "POST" and form.is_valid():
        if AxesProxyHandler.is_locked(request, credentials):
            # Someone at this session is guessing: the session goes with the account's lockout.
            auth_logout(request)
            return lockout_response(request, credentials)
        password_ok = user.check_password(form.cleaned_data["password"])
        # The code is only tried with the right password: a used code is spent.
        code_ok = password_ok and (
            "code" not in form.cleaned_data
            or services.mfa_verify(user=user, token=form.cleaned_data["code"]) is not None
        )
        if password_ok and code_ok:
            reauth_mark(request)
            return redirect(_safe_next(request, next_url or reverse("accounts:security")))
        # A wrong password or code here counts towards the lockout like one at sign-in.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            auth_logout(request)
            return lockout_response(request, credentials)
        form.add_error(None, _("The password or the code is not right."))
    context = {"form": form, "next": next_url, "minutes": settings.REAUTH_VALID_SECONDS // 60}
    return render(request, "accounts/reauth.html", context)


@reauth_required
@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    form = NewPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["new_password1"]
        user = services.user_change_password(user=request.user, password=password)
        # This session stays signed in; every other one ends with the old password.
        update_session_auth_hash(request, user)
        return redirect("accounts:password-change-done")
    return render(request, "accounts/password_change.html", {"form": form})


@reauth_required
@never_cache
def email_change(request: HttpRequest) -> HttpResponse:
    """Ask for a new address; it is used only once the link mailed there is opened."""
    form = EmailChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["email"]
        # An address taken by another account gets no link, and the page does not
        # say so: this form must not tell which addresses have accounts.
        if not User.objects.filter(email=new_email).exists():
            token = email_change_link.make(request.user, new_email)
            path = reverse("accounts:email-change-confirm", kwargs={"token": token})
            link = _base_url(request).rstrip("/") + path
            send_email_change_link(user=request.user, new_email=new_email, link=link)
        sent = _("We sent a link to %(email)s. Your address changes when you open it.")
        messages.info(request, sent % {"email": new_email})
        return redirect("accounts:security")
    return render(request, "accounts/email_change.html", {"form": form})


# Public: opened from the email sent to the new address, perhaps on another device.
# A GET only shows the question (mail scanners open links); the change is a POST.
@never_cache
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    resolved = email_change_link.resolve(token)
    if resolved is None:
        messages.error(request, _("This link is invalid, expired or already used."))
        return redirect("home")
    user, new_email = resolved
    if request.method == "POST":
        try:
            services.user_change_email(user=user, new_email=new_email)
        except services.EmailTaken as exc:
            messages.error(request, str(exc))
            return redirect("home")
        if request.user.is_authenticated and request.user.pk == user.pk:
            update_session_auth_hash(request, user)
        messages.success(request, _("Your email address is now %(email)s.") % {"email": new_email})
        return redirect("home")
    return render(request, "accounts/email_change_confirm.html", {"new_email": new_email})


# --- Idle sign-out ---------------------------------------------------------------------


@login_required
@require_POST
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """Activity on an open page (typing, "Stay signed in") that made no request of its own.

    Any request renews the idle expiry (SESSION_SAVE_EVERY_REQUEST); the answer
    tells the page how long it now has. The absolute limit still applies.
    """
    return JsonResponse({"idle_seconds": settings.SESSION_COOKIE_AGE})
