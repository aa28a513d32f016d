"""Account emails. Each is queued for the task worker after the surrounding transaction commits."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

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
