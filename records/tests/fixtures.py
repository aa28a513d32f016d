"""Clinical data for the records and prescriptions tests (the personas live in the root conftest).

Both apps' conftest.py import these fixtures. Dates are counted from today in
the provider's zone (America/New_York in the personas' working hours), the
day the services judge "today" and "past its end date" by.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from patients.models import PatientProfile
from patients.services import emergency_access_grant
from prescriptions.models import Prescription, RefillRequest
from prescriptions.services import prescription_create, refill_request_create
from providers.models import ProviderProfile
from records.models import MedicalRecord
from records.services import medical_record_create
from scheduling.models import Appointment
from scheduling.services import appointment_create

NEW_YORK = ZoneInfo("America/New_York")
EMERGENCY_REASON = "Unconscious in the emergency department, allergies unknown."


def today() -> dt.date:
    """Today where the personas' providers work."""
    return timezone.now().astimezone(NEW_YORK).date()


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK)


def make_records(
    patient: PatientProfile, provider: ProviderProfile, count: int, *, start: int = 0
) -> list[MedicalRecord]:
    return [
        medical_record_create(
            patient=patient,
            provider=provider,
            record_date=today() - dt.timedelta(days=n + 1),
            diagnosis=f"Diagnosis {n:03d}",
            symptoms=f"Symptoms {n:03d}",
            treatment=f"Treatment {n:03d}",
        )
        for n in range(start, start + count)
    ]


def make_prescriptions(
    patient: PatientProfile,
    provider: ProviderProfile,
    count: int,
    *,
    start: int = 0,
    ended: bool = False,
    medical_record: MedicalRecord | None = None,
) -> list[Prescription]:
    """`count` prescriptions, current ones (or, with ended=True, past their end date)."""
    base = today() - dt.timedelta(days=60 if ended else 5)
    return [
        prescription_create(
            patient=patient,
            provider=provider,
            medication_name=f"Medication {n:03d}",
            dosage="10 mg",
            frequency="once daily",
            start_date=base - dt.timedelta(days=n),
            end_date=base + dt.timedelta(days=30),
            refills=3,
            medical_record=medical_record,
        )
        for n in range(start, start + count)
    ]


def make_appointments(
    patient: PatientProfile,
    provider: ProviderProfile,
    count: int,
    *,
    start: int = 0,
    days: int = -1,
) -> list[Appointment]:
    """`count` appointments `days` from today, 15 minutes apart from 08:00 local."""
    day = today() + dt.timedelta(days=days)
    return [
        appointment_create(
            patient=patient,
            provider=provider,
            date_time=at(day, 8) + dt.timedelta(minutes=15 * n),
            duration_minutes=15,
            reason=f"Visit {n:03d}",
        )
        for n in range(start, start + count)
    ]


@pytest.fixture
def visit(patient: PatientProfile, provider: ProviderProfile) -> Appointment:
    """Pat's appointment with Dr Patel this morning, still scheduled."""
    return appointment_create(
        patient=patient, provider=provider, date_time=at(today(), 9), reason="Persistent cough"
    )


@pytest.fixture
def record(patient: PatientProfile, provider: ProviderProfile) -> MedicalRecord:
    return medical_record_create(
        patient=patient,
        provider=provider,
        record_date=today() - dt.timedelta(days=7),
        diagnosis="Seasonal allergic rhinitis",
        symptoms="Sneezing, itchy eyes",
        treatment="Cetirizine 10 mg daily",
    )


@pytest.fixture
def prescription(patient: PatientProfile, provider: ProviderProfile) -> Prescription:
    return prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Cetirizine",
        dosage="10 mg",
        frequency="once daily",
        duration="30 days",
        start_date=today() - dt.timedelta(days=10),
        end_date=today() + dt.timedelta(days=20),
        refills=2,
    )


@pytest.fixture
def refill(prescription: Prescription, patient: PatientProfile) -> RefillRequest:
    return refill_request_create(
        prescription=prescription, requested_by=patient.user, note="Running low"
    )


@pytest.fixture
def emergency_grant(other_provider: ProviderProfile, patient: PatientProfile):
    """Dr Other broke the glass for Pat: she may read Pat's chart for an hour, and write nothing."""
    return emergency_access_grant(provider=other_provider, patient=patient, reason=EMERGENCY_REASON)


@pytest.fixture
def emergency_client(other_provider_client: Client, emergency_grant) -> Client:
    return other_provider_client
