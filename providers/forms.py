"""Input validation for the provider portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.services import EMERGENCY_REASON_MIN_LENGTH
from providers.models import ProviderProfile
from providers.working_hours import (
    DEFAULT_SLOT_MINUTES,
    SLOT_MINUTES_CHOICES,
    SLOT_MINUTES_KEY,
    TIMEZONE_KEY,
    WEEKDAY_KEYS,
    WEEKLY_KEY,
    WorkingHours,
    day_name,
    format_day_text,
    parse_day_text,
    parse_working_hours,
    timezone_choices,
    working_hours_or_none,
)


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has it, else on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        form.add_error(key if key in form.fields else None, errors)


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class ProviderProfileForm(forms.Form):
    """Practice details plus working hours; each weekday is typed as "09:00-12:00, 13:00-17:00"."""

    credentials = forms.CharField(label=_("Credentials"), required=False, max_length=100)
    specialization = forms.CharField(label=_("Specialization"), required=False, max_length=100)
    department = forms.CharField(label=_("Department"), required=False, max_length=100)
    office_location = forms.CharField(label=_("Office location"), required=False, max_length=255)
    phone_number = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    slot_minutes = forms.TypedChoiceField(
        label=_("Appointment slot length"),
        coerce=int,
        choices=(),
        initial=DEFAULT_SLOT_MINUTES,
    )
    timezone = forms.ChoiceField(label=_("Time zone"), choices=())

    PRACTICE_FIELDS = (
        "credentials",
        "specialization",
        "department",
        "office_location",
        "phone_number",
    )
    # Errors of parse_working_hours are keyed by what they are about; these are the form's fields.
    _HOURS_ERROR_FIELDS = {TIMEZONE_KEY: "timezone", SLOT_MINUTES_KEY: "slot_minutes"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Labels built per request, in the language of the request.
        self.fields["slot_minutes"].choices = [
            (m, gettext("%(minutes)d minutes") % {"minutes": m}) for m in SLOT_MINUTES_CHOICES
        ]
        self.fields["timezone"].choices = [(name, name) for name in timezone_choices()]
        for weekday, key in enumerate(WEEKDAY_KEYS):
            self.fields[key] = forms.CharField(
                label=day_name(weekday),
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "09:00-12:00, 13:00-17:00"}),
            )

    @classmethod
    def initial_for(cls, profile: ProviderProfile, *, default_timezone: str) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "credentials": profile.credentials,
            "specialization": profile.specialization,
            "department": profile.department,
            "office_location": profile.office_location,
            "phone_number": profile.user.phone_number,
            "timezone": default_timezone,
            "slot_minutes": DEFAULT_SLOT_MINUTES,
        }
        try:
            hours = working_hours_or_none(profile.working_hours)
        except ValidationError:
            hours = None  # a row from before validation; the provider re-enters their hours
        if hours is not None:
            initial["timezone"] = hours.timezone_name
            initial["slot_minutes"] = hours.slot_minutes
            for weekday, key in enumerate(WEEKDAY_KEYS):
                initial[key] = format_day_text(hours.intervals_on(weekday))
        return initial

    def practice_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.PRACTICE_FIELDS]

    def day_fields(self) -> list[forms.BoundField]:
        return [self[key] for key in WEEKDAY_KEYS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        weekly: dict[str, list[list[str]]] = {}
        for key in WEEKDAY_KEYS:
            if key not in cleaned:
                continue  # already refused (too long)
            try:
                weekly[key] = parse_day_text(cleaned[key])
            except ValidationError as exc:
                self.add_error(key, exc)
        # The rules across fields (overlaps, slot length) still run on what could
        # be read, so every problem shows at once; a field that already has an
        # error is not given a second, derived one.
        try:
            cleaned["working_hours"] = parse_working_hours(
                {
                    TIMEZONE_KEY: cleaned.get("timezone"),
                    SLOT_MINUTES_KEY: cleaned.get("slot_minutes"),
                    WEEKLY_KEY: weekly,
                }
            )
        except ValidationError as exc:
            for key, errors in exc.error_dict.items():
                field = self._HOURS_ERROR_FIELDS.get(key, key if key in WEEKDAY_KEYS else None)
                if field is None or field not in self.errors:
                    self.add_error(field, errors)
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        hours: WorkingHours = data["working_hours"]
        return {name: data[name] for name in self.PRACTICE_FIELDS} | {"working_hours": hours}


class EmergencyAccessForm(forms.Form):
    full_name = forms.CharField(
        label=_("Patient's full name"),
        max_length=200,
        help_text=_("Exactly as registered; capital letters do not matter."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    insurance_number = forms.CharField(
        label=_("Insurance number"),
        required=False,
        max_length=64,
        help_text=_("Only needed when several patients share the name and date of birth."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("Reason for emergency access"),
        min_length=EMERGENCY_REASON_MIN_LENGTH,
        max_length=2000,
        error_messages={
            "min_length": _("Describe the emergency in at least %(limit_value)d characters."),
        },
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = gettext(
            "At least %(n)d characters. Your reason, the time and your address are "
            "recorded and reviewed."
        ) % {"n": EMERGENCY_REASON_MIN_LENGTH}
