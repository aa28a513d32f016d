"""System checks for the account emails (verification, password reset, invitations)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Backends that never deliver: they print the message or keep it in memory.
NON_DELIVERING_EMAIL_BACKENDS = frozenset(
    {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    }
)


@register(Tags.security, deploy=True)
def check_email_backend_delivers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """In production, sign-in links must reach the inbox, not the server's stdout or memory.

    Verification, password-reset and invitation emails carry links that take
    over an account; printed to the console they end up in the process log.
    """
    if settings.DEBUG or settings.EMAIL_BACKEND not in NON_DELIVERING_EMAIL_BACKENDS:
        return []
    return [
        Error(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND} while DEBUG is off: password-reset and "
            "verification links would be printed or dropped instead of emailed.",
            hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.org:587.",
            id="healthcare.E001",
        )
    ]
