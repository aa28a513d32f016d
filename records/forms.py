"""Input of medical records: validation only (the rules live in records.services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patients.timezones import format_in_zone
from scheduling.models import Appointment

TEXT_MAX_LENGTH = 10_000


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has it, else on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        form.add_error(key if key in form.fields else None, errors)


def date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _text(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class AppointmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Appointment) -> str:
        when = format_in_zone(obj.date_time, obj.provider, "D j M Y, H:i T")
        parts = [when, obj.get_type_display()]
        if obj.reason:
            parts.append(obj.reason[:60])
        parts.append(obj.get_status_display())
        return " · ".join(str(p) for p in parts)


class MedicalRecordForm(forms.Form):
    record_date = forms.DateField(
        label=_("Record date"),
        widget=date_input(),
        help_text=_("The day of the visit; not in the future."),
    )
    symptoms = _text(_("Symptoms"))
    diagnosis = _text(_("Diagnosis"))
    treatment = _text(_("Treatment"))
    notes = _text(_("Notes"))
    appointment = AppointmentChoiceField(
        label=_("Appointment"),
        queryset=Appointment.objects.none(),
        required=False,
        empty_label=_("Not linked to an appointment"),
        help_text=_("One of this patient's appointments with you, up to today."),
    )
    complete_appointment = forms.BooleanField(
        label=_("Also mark this appointment completed"), required=False
    )

    def __init__(self, *args: Any, appointments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["appointment"].queryset = appointments

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("complete_appointment") and not data.get("appointment"):
            self.add_error("complete_appointment", _("Choose the appointment to mark completed."))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}
