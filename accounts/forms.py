"""Input validation for sign-in, registration and account security."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.core.exceptions import ValidationError
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from healthcare.mail import email_enqueue
from patients.forms import WriteOnlyTextInput
from patients.ssn import normalize_ssn
from patients.timezones import zone_named


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        # One message for a wrong password, an unknown address and a disabled account.
        "invalid_login": _("The email or password is not right."),
        "inactive": _("The email or password is not right."),
        "unverified": _(
            "Please confirm your email address first: open the link we emailed you. "
            "You can ask for a new link below."
        ),
    }

    def clean_username(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["username"])

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if user.role == Role.PATIENT and user.email_verified_at is None:
            raise ValidationError(self.error_messages["unverified"], code="unverified")


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's reset form, but the email goes to the task worker instead of out of the request."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_enqueue(to=to_email, subject=subject, body=body)


class OTPForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordFieldsMixin(forms.Form):
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters; not a common password and not like your email or name."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def _check_passwords(self, user: User) -> None:
        p1, p2 = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
            return
        if p1:
            try:
                password_validation.validate_password(p1, user)
            except ValidationError as exc:
                self.add_error("password1", exc)


class PatientRegistrationForm(PasswordFieldsMixin):
    full_name = forms.CharField(label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone_number = forms.CharField(label=_("Phone"), max_length=32, widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}))
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}))
    address = forms.CharField(label=_("Address"), max_length=500, widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    emergency_contact = forms.CharField(label=_("Emergency contact name"), max_length=200)
    emergency_contact_phone = forms.CharField(label=_("Emergency contact phone"), max_length=32, widget=forms.TextInput(attrs={"type": "tel"}))
    insurance_number = forms.CharField(label=_("Insurance number"), max_length=64, required=False, help_text=_("Optional; you can add it later."))
    ssn = forms.CharField(
        label=_("Social Security number"),
        max_length=11,
        required=False,
        help_text=_("Optional. Stored encrypted and never shown in full again."),
        # Never echoed back, not even after another field was refused.
        widget=WriteOnlyTextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    # Filled in by the browser (static/js/register.js) with its own zone; editable later in the profile.
    time_zone = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    field_order = [
        "full_name", "email", "phone_number", "date_of_birth", "address",
        "emergency_contact", "emergency_contact_phone", "insurance_number", "ssn",
        "password1", "password2",
    ]

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])

    def clean_date_of_birth(self) -> dt.date:
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise ValidationError(_("The date of birth cannot be in the future."))
        if born.year < today.year - 130:
            raise ValidationError(_("Please check the year of birth."))
        return born

    def clean_ssn(self) -> str:
        raw = self.cleaned_data.get("ssn", "")
        return normalize_ssn(raw) if raw else ""

    def clean_time_zone(self) -> str:
        # A guess, never a reason to refuse a registration: an unknown name is dropped.
        name = self.cleaned_data.get("time_zone", "")
        return name if zone_named(name) is not None else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        probe = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
        self._check_passwords(probe)
        return cleaned


class SetPasswordForm(PasswordFieldsMixin):
    """First password of an invited provider."""

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._check_passwords(self.user)
        return cleaned


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])


class EnrolOTPForm(OTPForm):
    """The first code of a new authenticator; recovery codes do not exist yet, so none are mentioned."""

    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ReauthForm(forms.Form):
    """The password again and, with two-step sign-in on, a current code."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, user: User, *args: Any, needs_code: bool, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        if not needs_code:
            del self.fields["code"]


class EmailChangeForm(EmailForm):
    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("New email address")

    def clean_email(self) -> str:
        email = super().clean_email()
        if email == self.user.email:
            raise ValidationError(_("This is already your email address."))
        return email
