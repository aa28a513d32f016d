"""Writes to medical records.

`medical_record_create` stores a record as it is (demo data, imports, the
admin's world). Portal pages and the assistant write through
`medical_record_write` and `medical_record_update`, which check who may write
(a provider in an active care relationship; emergency access is read-only),
that the linked appointment is this patient's with this provider, and that the
record date is not in the future. Every change is kept by django-auditlog; the
record page shows that history.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from patients.models import PatientProfile
from patients.policy import has_care_relationship
from patients.timezones import zone_of
from providers.models import ProviderProfile
from records.exceptions import NotAllowed
from records.models import MedicalRecord
from scheduling.exceptions import SchedulingError
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_set_outcome

# What a provider may change on a record; patient and author never change.
EDITABLE_FIELDS = ("record_date", "symptoms", "diagnosis", "treatment", "notes", "appointment")
# Appointments a record may document: not those that did not take place.
LINKABLE_APPOINTMENT_STATUSES = frozenset(
    {AppointmentStatus.SCHEDULED, AppointmentStatus.COMPLETED}
)


@transaction.atomic
def medical_record_create(
    *,
    patient: PatientProfile,
    provider: ProviderProfile,
    record_date: dt.date,
    diagnosis: str = "",
    symptoms: str = "",
    treatment: str = "",
    notes: str = "",
    appointment: Appointment | None = None,
) -> MedicalRecord:
    """Store a visit record as given (no policy): demo data and imports. Portals use `medical_record_write`."""
    record = MedicalRecord(
        patient=patient,
        provider=provider,
        appointment=appointment,
        record_date=record_date,
        diagnosis=diagnosis.strip(),
        symptoms=symptoms.strip(),
        treatment=treatment.strip(),
        notes=notes.strip(),
    )
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def medical_record_write(
    *,
    by: User,
    patient: PatientProfile,
    record_date: dt.date,
    symptoms: str = "",
    diagnosis: str = "",
    treatment: str = "",
    notes: str = "",
    appointment: Appointment | None = None,
    complete_appointment: bool = False,
) -> MedicalRecord:
    """A provider documents a visit of their patient, optionally completing the visit's appointment.

    The record and the appointment's completion are one transaction: if the
    appointment cannot be completed, no record is written either.
    """
    provider = _writer(by, patient)
    texts = _clean_texts(symptoms=symptoms, diagnosis=diagnosis, treatment=treatment, notes=notes)
    _validate(provider, patient, record_date=record_date, appointment=appointment)
    record = medical_record_create(
        patient=patient,
        provider=provider,
        record_date=record_date,
        appointment=appointment,
        **texts,
    )
    if complete_appointment:
        _complete(appointment, by=by)
    return record


@transaction.atomic
def medical_record_update(
    *,
    record: MedicalRecord,
    by: User,
    record_date: dt.date,
    symptoms: str = "",
    diagnosis: str = "",
    treatment: str = "",
    notes: str = "",
    appointment: Appointment | None = None,
    complete_appointment: bool = False,
) -> MedicalRecord:
    """The record's author amends it; the previous values stay in its history.

    Only the provider who wrote a record may amend it, and only while the
    patient is in their care. Saving without a change writes nothing.
    """
    record = (
        MedicalRecord.objects.select_for_update(of=("self",))
        .select_related("patient", "provider__user")
        .get(pk=record.pk)
    )
    provider = _writer(by, record.patient)
    if record.provider_id != provider.pk:
        raise NotAllowed(_("Only the provider who wrote this record can amend it."))
    texts = _clean_texts(symptoms=symptoms, diagnosis=diagnosis, treatment=treatment, notes=notes)
    _validate(provider, record.patient, record_date=record_date, appointment=appointment)
    new_values = {"record_date": record_date, "appointment": appointment, **texts}
    changed = [name for name, value in new_values.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, new_values[name])
    if changed:
        record.full_clean()
        record.save(update_fields=[*changed, "updated_at"])
    if complete_appointment:
        _complete(appointment, by=by)
    return record


# --- Helpers --------------------------------------------------------------------------


def _writer(by: User, patient: PatientProfile) -> ProviderProfile:
    """The provider writing for `patient`; refused without an active care relationship."""
    provider = getattr(by, "provider_profile", None) if by.is_provider else None
    if provider is None or not has_care_relationship(by, patient):
        raise NotAllowed
    return provider


def _clean_texts(**texts: str) -> dict[str, str]:
    cleaned = {name: (value or "").replace("\r\n", "\n").strip() for name, value in texts.items()}
    if not any(cleaned[name] for name in ("symptoms", "diagnosis", "treatment")):
        raise ValidationError(_("Write at least the symptoms, the diagnosis or the treatment."))
    return cleaned


def _validate(
    provider: ProviderProfile,
    patient: PatientProfile,
    *,
    record_date: dt.date,
    appointment: Appointment | None,
) -> None:
    errors: dict[str, str] = {}
    # Not in the future of the provider's own calendar day.
    if record_date > timezone.now().astimezone(zone_of(provider)).date():
        errors["record_date"] = _("The record date cannot be in the future.")
    if appointment is not None:
        if appointment.patient_id != patient.pk or appointment.provider_id != provider.pk:
            errors["appointment"] = _("Choose one of this patient's appointments with you.")
        elif appointment.status not in LINKABLE_APPOINTMENT_STATUSES:
            errors["appointment"] = _("A cancelled or missed appointment cannot be documented.")
    if errors:
        raise ValidationError(errors)


def _complete(appointment: Appointment | None, *, by: User) -> None:
    if appointment is None:
        raise ValidationError(
            {"complete_appointment": _("Choose the appointment to mark completed.")}
        )
    if appointment.status == AppointmentStatus.COMPLETED:
        return  # already done: the box can stay ticked on an amendment
    try:
        appointment_set_outcome(appointment=appointment, status=AppointmentStatus.COMPLETED, by=by)
    except SchedulingError as exc:
        raise ValidationError({"complete_appointment": exc.message}) from exc
