"""One-time links: email verification and provider invitations.

A link carries the user id and a fingerprint of the state it is meant to
change, signed with a timestamp. Once used, the state changes (email verified,
password set) and the fingerprint no longer matches, so the link is spent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User


class OneTimeLink:
    def __init__(self, salt: str, max_age_setting: str, state: Callable[[User], str]) -> None:
        self.salt = salt
        self.max_age_setting = max_age_setting
        self.state = state

    def _fingerprint(self, user: User) -> str:
        return salted_hmac(self.salt, f"{user.pk}:{self.state(user)}", algorithm="sha256").hexdigest()[:32]

    def make(self, user: User) -> str:
        return signing.dumps([str(user.pk), self._fingerprint(user)], salt=self.salt)

    def resolve(self, token: str) -> User | None:
        """The user the link was made for, or None when it is forged, expired or already used."""
        try:
            user_id, fingerprint = signing.loads(
                token, salt=self.salt, max_age=getattr(settings, self.max_age_setting)
            )
        except (signing.BadSignature, ValueError, TypeError):
            return None
        user = User.objects.filter(pk=user_id, is_active=True).first() if _is_uuid(user_id) else None
        if user is None or not constant_time_compare(fingerprint, self._fingerprint(user)):
            return None
        return user


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


email_verification_link = OneTimeLink(
    "accounts.email-verification", "EMAIL_VERIFICATION_TIMEOUT", lambda u: f"{u.email}:{u.email_verified_at}"
)
invitation_link = OneTimeLink(
    "accounts.provider-invitation", "PROVIDER_INVITATION_TIMEOUT", lambda u: f"{u.email}:{u.password}"
)


class EmailChangeLink:
    """The link mailed to a new address: the user, the new address and the state it changes.

    The fingerprint covers the current address and password, so the link is
    spent once the address changes (or the password does).
    """

    salt = "accounts.email-change"

    def _fingerprint(self, user: User, new_email: str) -> str:
        state = f"{user.pk}:{user.email}:{user.password}:{new_email}"
        return salted_hmac(self.salt, state, algorithm="sha256").hexdigest()[:32]

    def make(self, user: User, new_email: str) -> str:
        fingerprint = self._fingerprint(user, new_email)
        return signing.dumps([str(user.pk), new_email, fingerprint], salt=self.salt)

    def resolve(self, token: str) -> tuple[User, str] | None:
        """(user, new address), or None when the link is forged, expired or already used."""
        try:
            user_id, new_email, fingerprint = signing.loads(
                token, salt=self.salt, max_age=settings.EMAIL_CHANGE_TIMEOUT
            )
        except (signing.BadSignature, ValueError, TypeError):
            return None
        if not _is_uuid(user_id) or not isinstance(new_email, str):
            return None
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            return None
        if not constant_time_compare(fingerprint, self._fingerprint(user, new_email)):
            return None
        return user, new_email


email_change_link = EmailChangeLink()
