"""Input of prescriptions and refill decisions: validation only (rules live in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from prescriptions.models import Prescription
from prescriptions.services import NOTE_MAX_LENGTH, REASON_MAX_LENGTH
from records.forms import TEXT_MAX_LENGTH, add_service_errors, date_input
from records.models import MedicalRecord

__all__ = [
    "DenyForm",
    "PrescriptionForm",
    "RefillRequestForm",
    "RenewForm",
    "add_service_errors",
]

MAX_REFILLS = 12


def _max_length(name: str) -> int:
    return Prescription._meta.get_field(name).max_length


class _CourseForm(forms.Form):
    """Dates, refills, duration and notes: what a prescription and its renewal both ask for."""

    field_order = ["start_date", "end_date", "refills", "duration", "notes"]

    duration = forms.CharField(
        label=_("Duration"),
        required=False,
        max_length=_max_length("duration"),
        help_text=_("For example: 10 days, 3 months."),
    )
    start_date = forms.DateField(label=_("Start date"), widget=date_input())
    end_date = forms.DateField(
        label=_("End date"), widget=date_input(), help_text=_("On or after the start date.")
    )
    refills = forms.IntegerField(
        label=_("Refills"),
        min_value=0,
        max_value=MAX_REFILLS,
        initial=0,
        help_text=_("How many times the patient may have it refilled."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date must be on or after the start date."))
        return data


class PrescriptionForm(_CourseForm):
    medication_name = forms.CharField(
        label=_("Medication"), max_length=_max_length("medication_name")
    )
    dosage = forms.CharField(
        label=_("Dosage"), max_length=_max_length("dosage"), help_text=_("For example: 500 mg.")
    )
    frequency = forms.CharField(
        label=_("Frequency"),
        max_length=_max_length("frequency"),
        help_text=_("For example: twice a day with food."),
    )
    medical_record = forms.ModelChoiceField(
        label=_("From the record"),
        queryset=MedicalRecord.objects.none(),
        required=False,
        empty_label=_("Not linked to a record"),
    )

    field_order = [
        "medication_name",
        "dosage",
        "frequency",
        "duration",
        "start_date",
        "end_date",
        "refills",
        "notes",
        "medical_record",
    ]

    def __init__(self, *args: Any, records: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["medical_record"]
        field.queryset = records
        field.label_from_instance = _record_label

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


def _record_label(record: MedicalRecord) -> str:
    summary = record.diagnosis or record.symptoms or record.treatment
    return f"{record.record_date:%Y-%m-%d} · {summary[:60]}"


class RenewForm(_CourseForm):
    """A new course of the same medication, answering a refill request."""

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class DenyForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the patient sees it)"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RefillRequestForm(forms.Form):
    note = forms.CharField(
        label=_("Note for your provider (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
