"""Account emails. Each is queued for the task worker after the surrounding transaction commits."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.tokens import email_verification_link, invitation_link
from healthcare.mail import email_enqueue


def _send(to: str, subject: str, template: str, context: dict[str, object]) -> None:
    # Rendered now, with the request's data; the worker only delivers it.
    email_enqueue(to=to, subject=subject, body=render_to_string(template, context))


def send_verification_email(*, user: User, base_url: str) -> None:
    link = base_url.rstrip("/") + reverse(
        "accounts:verify-email", kwargs={"token": email_verification_link.make(user)}
    )
    _send(
        user.email,
        "Confirm your email address",
        "accounts/email/verify.txt",
        {"user": user, "link": link, "days": settings.EMAIL_VERIFICATION_TIMEOUT // 86400},
    )


def send_already_registered_email(*, user: User, base_url: str) -> None:
    # Registration must not reveal which addresses have accounts, so the
    # owner of the address hears about the attempt instead of the visitor.
    _send(
        user.email,
        "Someone tried to register with your email address",
        "accounts/email/already_registered.txt",
        {
            "user": user,
            "login": base_url.rstrip("/") + reverse("accounts:login"),
            "reset": base_url.rstrip("/") + reverse("accounts:password-reset"),
        },
    )


def send_provider_invitation(*, user: User, base_url: str) -> None:
    link = base_url.rstrip("/") + reverse(
        "accounts:invitation", kwargs={"token": invitation_link.make(user)}
    )
    _send(
        user.email,
        "You are invited to the healthcare portal",
        "accounts/email/invitation.txt",
        {"user": user, "link": link, "days": settings.PROVIDER_INVITATION_TIMEOUT // 86400},
    )


# Changes to how an account signs in; the owner hears of each one, so a change
# they did not make (a stolen session, a stolen password) does not go unnoticed.
AUTHENTICATOR_ADDED = "authenticator-added"
AUTHENTICATOR_REPLACED = "authenticator-replaced"
TWO_STEP_OFF = "two-step-off"
RECOVERY_CODES_REPLACED = "recovery-codes"
PASSWORD_CHANGED = "password"
EMAIL_CHANGED = "email"


def _security_change_subjects() -> dict[str, str]:
    return {
        AUTHENTICATOR_ADDED: _("Two-step sign-in was turned on"),
        AUTHENTICATOR_REPLACED: _("A new authenticator app was set up for your account"),
        TWO_STEP_OFF: _("Two-step sign-in was turned off"),
        RECOVERY_CODES_REPLACED: _("New recovery codes were made for your account"),
        PASSWORD_CHANGED: _("Your password was changed"),
        EMAIL_CHANGED: _("The email address of your account was changed"),
    }


def send_security_notice(
    *, user: User, change: str, to: str | None = None, old_email: str = ""
) -> None:
    """Tell the account owner (at `to`, else the account's address) that `change` happened just now."""
    _send(
        to or user.email,
        _security_change_subjects()[change],
        "accounts/email/security_change.txt",
        {
            "user": user,
            "change": change,
            "what": _security_change_subjects()[change],
            "when": timezone.now(),
            "old_email": old_email,
            "new_email": user.email,
        },
    )


def send_email_change_link(*, user: User, new_email: str, link: str) -> None:
    """The link that proves the new address; the address changes only once it is opened."""
    _send(
        new_email,
        _("Confirm your new email address"),
        "accounts/email/email_change.txt",
        {"user": user, "link": link, "hours": settings.EMAIL_CHANGE_TIMEOUT // 3600},
    )
