from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    PROVIDER = "provider", _("Provider")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The whole address is folded: sign-in is case-insensitive and the
        # database refuses mixed case, so two spellings can never be two accounts.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=self.normalize_email(username))

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        # Administrators are practice staff; they work in the admin, not a portal.
        extra.setdefault("role", Role.PROVIDER)
        return self._create_user(email, password, **extra)


class User(TimestampedModel, AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a patient or a provider. Administrators are staff users."""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    # The seed names the column password_hash; Django's auth machinery keeps
    # calling the attribute `password`.
    password = models.CharField(_("password"), max_length=128, db_column="password_hash")
    phone_number = models.CharField(_("phone number"), max_length=32, blank=True)
    full_name = models.CharField(_("full name"), max_length=200)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    # Patients confirm their address before the first sign-in; providers and
    # staff prove it by accepting their invitation.
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    # Part of the session hash: raising it signs the user out of every session.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        db_table = "users"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="users_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="users_email_lowercase"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def get_session_auth_hash(self) -> str:
        # Django checks this hash on every request; folding the epoch in makes
        # "sign out everywhere" a single column update.
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    @property
    def requires_mfa(self) -> bool:
        """Providers and staff must pass a second factor; for patients it is optional."""
        return self.role == Role.PROVIDER or self.is_staff

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_provider(self) -> bool:
        return self.role == Role.PROVIDER


auditlog.register(
    User,
    exclude_fields=["password", "last_login", "session_epoch"],
    serialize_data=True,
    serialize_auditlog_fields_only=True,
)
