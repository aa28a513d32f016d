"""Writes to prescriptions."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from patients.models import PatientProfile
from prescriptions.models import Prescription, PrescriptionStatus
from providers.models import ProviderProfile
from records.models import MedicalRecord


@transaction.atomic
def prescription_create(
    *,
    patient: PatientProfile,
    provider: ProviderProfile,
    medication_name: str,
    dosage: str,
    frequency: str,
    start_date: dt.date,
    end_date: dt.date,
    duration: str = "",
    refills: int = 0,
    notes: str = "",
    medical_record: MedicalRecord | None = None,
    status: PrescriptionStatus | str = PrescriptionStatus.ACTIVE,
) -> Prescription:
    """Prescribe a medication to the patient."""
    prescription = Prescription(
        patient=patient,
        provider=provider,
        medical_record=medical_record,
        medication_name=medication_name.strip(),
        dosage=dosage.strip(),
        frequency=frequency.strip(),
        duration=duration.strip(),
        start_date=start_date,
        end_date=end_date,
        refills=refills,
        notes=notes.strip(),
        status=status,
    )
    prescription.full_clean()
    prescription.save()
    return prescription
