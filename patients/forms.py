"""Input validation for the patient's own pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.models import PatientProfile
from patients.ssn import normalize_ssn
from patients.timezones import common_zone_names, default_patient_zone

phone_validator = RegexValidator(
    r"^\+?[0-9 ().\-]{7,32}$",
    _("Enter a phone number using digits, spaces, +, -, ( and )."),
    code="phone",
)


class WriteOnlyTextInput(forms.TextInput):
    """A text box that never writes a value into the page, not even the one just submitted."""

    def format_value(self, value: Any) -> None:
        return None


class PatientProfileForm(forms.Form):
    """The details a patient keeps up to date themselves. The SSN can be replaced, never read."""

    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    phone_number = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        validators=[phone_validator],
        help_text=_("The number the practice should call you on."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    emergency_contact = forms.CharField(
        label=_("Emergency contact name"),
        max_length=200,
        required=False,
        help_text=_("Someone we may call if you cannot be reached in an emergency."),
    )
    emergency_contact_phone = forms.CharField(
        label=_("Emergency contact phone"),
        max_length=32,
        required=False,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    insurance_number = forms.CharField(
        label=_("Insurance number"),
        max_length=64,
        required=False,
        help_text=_("As printed on your insurance card."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Every time in the portal is shown in this zone."),
    )
    ssn = forms.CharField(
        label=_("New Social Security number"),
        max_length=11,
        required=False,
        widget=WriteOnlyTextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, profile: PatientProfile, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "full_name": profile.user.full_name,
                "phone_number": profile.user.phone_number,
                "date_of_birth": profile.date_of_birth,
                "address": profile.address,
                "emergency_contact": profile.emergency_contact,
                "emergency_contact_phone": profile.emergency_contact_phone,
                "insurance_number": profile.insurance_number,
                "time_zone": profile.time_zone or default_patient_zone().key,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in common_zone_names()]
        self.ssn_on_file: str = profile.ssn_masked
        if self.ssn_on_file:
            self.fields["ssn"].help_text = _(
                "Only to replace the number on file. Leave blank to keep it. "
                "Stored encrypted and never shown in full."
            )
        else:
            self.fields["ssn"].label = _("Social Security number")
            self.fields["ssn"].help_text = _(
                "Optional: 9 digits, in the form ###-##-####. Stored encrypted and never shown in full."
            )

    def clean_date_of_birth(self) -> dt.date:
        born: dt.date = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise ValidationError(_("The date of birth cannot be in the future."), code="future")
        if born.year < today.year - 130:
            raise ValidationError(_("Please check the year of birth."), code="too_old")
        return born

    def clean_ssn(self) -> str:
        raw: str = self.cleaned_data.get("ssn", "")
        return normalize_ssn(raw) if raw else ""

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's refusal next to the fields it names, the rest above the form."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)
