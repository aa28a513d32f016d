"""Writes to medical records."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from patients.models import PatientProfile
from providers.models import ProviderProfile
from records.models import MedicalRecord
from scheduling.models import Appointment


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
    """Document a visit for the patient."""
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
