"""Writes to user accounts."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Role, User


@transaction.atomic
def user_create(
    *,
    email: str,
    full_name: str,
    role: Role | str,
    password: str | None = None,
    phone_number: str = "",
    is_active: bool = True,
) -> User:
    """Create a sign-in account. Without a password the account cannot sign in until one is set."""
    user = User(
        email=User.objects.normalize_email(email),
        full_name=full_name.strip(),
        role=role,
        phone_number=phone_number.strip(),
        is_active=is_active,
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
