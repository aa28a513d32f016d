"""Writes to user accounts."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import match_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import emails
from accounts.models import Role, User


class NotAllowed(Exception):
    """The user may not do this."""


class InvalidOTP(Exception):
    """A one-time code was wrong or already used."""


class EmailTaken(Exception):
    """Another account already signs in with this address."""


@transaction.atomic
def user_create(
    *,
    email: str,
    full_name: str,
    role: Role | str,
    password: str | None = None,
    phone_number: str = "",
    is_active: bool = True,
    email_verified: bool = False,
) -> User:
    """Create a sign-in account. Without a password the account cannot sign in until one is set."""
    user = User(
        email=User.objects.normalize_email(email),
        full_name=full_name.strip(),
        role=role,
        phone_number=phone_number.strip(),
        is_active=is_active,
        email_verified_at=timezone.now() if email_verified else None,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Accounts are never deleted (their clinical data must survive); they are switched off."""
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    return user


@transaction.atomic
def user_verify_email(*, user: User) -> User:
    """Mark the address confirmed (the verification link was opened)."""
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at", "updated_at"])
    return user


@transaction.atomic
def user_accept_invitation(*, user: User, password: str) -> User:
    """Set the invited user's first password; the invitation link proved the address."""
    user.set_password(password)
    user.email_verified_at = user.email_verified_at or timezone.now()
    user.save(update_fields=["password", "email_verified_at", "updated_at"])
    return user


@transaction.atomic
def user_sign_out_everywhere(*, user: User) -> User:
    """Invalidate every session of the user, on every device, at once."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    return user


# --- Multi-factor sign-in -------------------------------------------------------

RECOVERY_CODE_COUNT = 10


@transaction.atomic
def mfa_totp_begin(*, user: User) -> TOTPDevice:
    """Start authenticator enrolment: a new, unconfirmed TOTP secret (earlier unconfirmed ones go)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=str(_("Authenticator app")), confirmed=False)


@transaction.atomic
def mfa_totp_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm enrolment with a first code from the app; returns fresh one-time recovery codes.

    Raises InvalidOTP when the code is wrong. Any earlier authenticator is
    replaced, so a user has exactly one; it is removed only here, once the new
    one has proved to work, never when enrolment starts. The owner is emailed.
    """
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token.strip()):
        raise InvalidOTP(_("That code is not right. Check the time on your phone and try the current code."))
    earlier = TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk)
    replaced, _rows = earlier.delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    emails.send_security_notice(
        user=user, change=emails.AUTHENTICATOR_REPLACED if replaced else emails.AUTHENTICATOR_ADDED
    )
    return _recovery_codes_replace(user)


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=str(_("Recovery codes")), confirmed=True)
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def mfa_recovery_codes_regenerate(*, user: User) -> list[str]:
    """Replace the user's recovery codes; each works once, in place of an authenticator code."""
    codes = _recovery_codes_replace(user)
    emails.send_security_notice(user=user, change=emails.RECOVERY_CODES_REPLACED)
    return codes


@transaction.atomic
def mfa_disable(*, user: User) -> None:
    """Remove every second factor. Providers and staff may not: it is required for them."""
    if user.requires_mfa:
        raise NotAllowed(_("Two-step sign-in is required for your account."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    emails.send_security_notice(user=user, change=emails.TWO_STEP_OFF)


@transaction.atomic
def user_change_password(*, user: User, password: str) -> User:
    """Set a new password (already validated); every other session ends with the old one."""
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    emails.send_security_notice(user=user, change=emails.PASSWORD_CHANGED)
    return user


@transaction.atomic
def user_change_email(*, user: User, new_email: str) -> User:
    """Move the account to an address its owner has just proved (the link was opened there).

    Both addresses are told. Every other session of the user ends: whoever
    holds one signed in under the old address. Raises EmailTaken.
    """
    new_email = User.objects.normalize_email(new_email)
    if User.objects.filter(email=new_email).exclude(pk=user.pk).exists():
        raise EmailTaken(_("This address already belongs to another account."))
    old_email = user.email
    user.email = new_email
    user.email_verified_at = timezone.now()
    user.session_epoch = F("session_epoch") + 1
    user.save(update_fields=["email", "email_verified_at", "session_epoch", "updated_at"])
    user.refresh_from_db(fields=["session_epoch"])
    for address in (old_email, new_email):
        emails.send_security_notice(
            user=user, change=emails.EMAIL_CHANGED, to=address, old_email=old_email
        )
    return user


def mfa_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_verify(*, user: User, token: str) -> Device | None:
    """The device that accepts this code (authenticator or an unused recovery code), else None."""
    token = token.replace(" ", "").strip()
    if not token:
        return None
    return match_token(user, token)
