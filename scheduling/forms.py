"""Input validation for the scheduling pages. Rules about time and people live in services."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patients.models import PatientProfile
from providers.models import ProviderProfile
from providers.selectors import patients_of_provider
from scheduling.models import MAX_DURATION_MINUTES, AppointmentStatus, AppointmentType
from scheduling.slots import parse_slot_key

REASON_HELP = _("A few words for your provider, for example “cough for two weeks”.")


class SlotField(forms.CharField):
    """A slot key (its start in UTC) as an aware datetime. Whether it is free is the service's call."""

    default_error_messages = {
        "required": _("Choose a time."),
        "invalid": _("Choose one of the times offered."),
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        value = super().to_python(value)
        if not value:
            return None
        parsed = parse_slot_key(value)
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class ProviderSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, specialization or department"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class BookingForm(forms.Form):
    """A patient books a slot; the slot radios are drawn by the slot picker."""

    slot = SlotField(label=_("Time"))
    type = forms.ChoiceField(
        label=_("Type of visit"),
        choices=[
            (AppointmentType.REGULAR, AppointmentType.REGULAR.label),
            (AppointmentType.FOLLOW_UP, AppointmentType.FOLLOW_UP.label),
        ],
        initial=AppointmentType.REGULAR,
    )
    reason = forms.CharField(
        label=_("Reason for the visit"), max_length=255, required=False, help_text=REASON_HELP
    )


class RescheduleForm(forms.Form):
    slot = SlotField(label=_("New time"))


class CancelForm(forms.Form):
    """Cancelling: the provider must say why; the patient may."""

    reason = forms.CharField(label=_("Reason for cancelling"), max_length=255, required=False)

    def __init__(self, *args: Any, require_reason: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = require_reason
        if require_reason:
            self.fields["reason"].help_text = _("The patient is told this reason by email.")


class OutcomeForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (AppointmentStatus.COMPLETED, AppointmentStatus.COMPLETED.label),
            (AppointmentStatus.NO_SHOW, AppointmentStatus.NO_SHOW.label),
        ]
    )


class NotesForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=10_000, widget=forms.Textarea
    )


class CalendarForm(forms.Form):
    date = forms.DateField(required=False)
    view = forms.ChoiceField(choices=[("week", _("Week")), ("day", _("Day"))], required=False)


def _local(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=tz)


class TimeOffForm(forms.Form):
    """Whole days by default; times (in the provider's zone) narrow it to part of a day."""

    starts_on = forms.DateField(
        label=_("From (date)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    start_time = forms.TimeField(
        label=_("From (time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Leave empty to start at the beginning of the day."),
    )
    ends_on = forms.DateField(
        label=_("Until (date)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_time = forms.TimeField(
        label=_("Until (time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Leave empty to block until the end of the day."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("For example “Holiday” or “Team meeting”. Patients do not see it."),
    )

    def __init__(self, *args: Any, tz: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on is None or ends_on is None:
            return data
        start_time, end_time = data.get("start_time"), data.get("end_time")
        starts_at = _local(starts_on, start_time or dt.time.min, self.tz)
        if end_time is None:
            ends_at = _local(ends_on + dt.timedelta(days=1), dt.time.min, self.tz)
        else:
            ends_at = _local(ends_on, end_time, self.tz)
        if ends_at <= starts_at:
            self.add_error("ends_on", _("The time off must end after it starts."))
        elif ends_at - starts_at > dt.timedelta(days=366):
            self.add_error("ends_on", _("Block at most a year at a time."))
        data["starts_at"], data["ends_at"] = starts_at, ends_at
        return data


class ProviderBookingForm(forms.Form):
    """A provider books for one of their patients: a free slot, or any time for an emergency."""

    patient = forms.ModelChoiceField(
        label=_("Patient"),
        queryset=PatientProfile.objects.none(),
        empty_label=_("Choose a patient"),
    )
    type = forms.ChoiceField(label=_("Type of visit"), choices=AppointmentType.choices)
    reason = forms.CharField(label=_("Reason for the visit"), max_length=255, required=False)
    slot = SlotField(label=_("Time"), required=False)
    emergency_date = forms.DateField(
        label=_("Emergency: date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    emergency_time = forms.TimeField(
        label=_("Emergency: start time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    duration_minutes = forms.IntegerField(
        label=_("Emergency: length (minutes)"),
        required=False,
        min_value=5,
        max_value=MAX_DURATION_MINUTES,
    )

    def __init__(self, *args: Any, provider: ProviderProfile, tz: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        field = self.fields["patient"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = patients_of_provider(provider)
        field.label_from_instance = lambda p: f"{p.full_name} ({p.date_of_birth:%Y-%m-%d})"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        emergency = data.get("type") == AppointmentType.EMERGENCY
        day, time = data.get("emergency_date"), data.get("emergency_time")
        if emergency and (day or time):
            if day is None or time is None:
                self.add_error("emergency_time", _("Give both the date and the start time."))
                return data
            data["starts_at"] = _local(day, time, self.tz)
        elif data.get("slot"):
            data["starts_at"] = data["slot"]
        elif "type" in data and "slot" not in self.errors:
            message = (
                _("Choose a free time, or give a date and start time for the emergency.")
                if emergency
                else _("Choose a time.")
            )
            self.add_error("slot", message)
        return data
