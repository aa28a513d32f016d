"""Writing and amending medical records: who may, what is checked, and the appointment completed in the same step."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError

from patients.models import PatientProfile
from providers.models import ProviderProfile
from providers.services import relationship_activate, relationship_deactivate
from records.exceptions import NotAllowed
from records.models import MedicalRecord
from records.services import medical_record_update, medical_record_write
from records.tests.fixtures import at, today
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_cancel, appointment_create

pytestmark = pytest.mark.django_db


def _write(provider: ProviderProfile, patient: PatientProfile, **overrides) -> MedicalRecord:
    data = {
        "record_date": today(),
        "symptoms": "Dry cough for two weeks",
        "diagnosis": "Acute bronchitis",
        "treatment": "Rest, fluids, honey",
        "notes": "Return if fever",
    }
    data.update(overrides)
    return medical_record_write(by=provider.user, patient=patient, **data)


def _amend(record: MedicalRecord, provider: ProviderProfile, **overrides) -> MedicalRecord:
    data = {
        "record_date": record.record_date,
        "symptoms": record.symptoms,
        "diagnosis": record.diagnosis,
        "treatment": record.treatment,
        "notes": record.notes,
        "appointment": record.appointment,
    }
    data.update(overrides)
    return medical_record_update(record=record, by=provider.user, **data)


# --- Writing ------------------------------------------------------------------------------


def test_the_patients_provider_writes_a_record(provider, patient) -> None:
    record = _write(provider, patient, diagnosis="  Acute bronchitis \r\n")

    record.refresh_from_db()
    assert (record.patient, record.provider) == (patient, provider)
    assert record.record_date == today()
    assert record.diagnosis == "Acute bronchitis"
    assert record.symptoms == "Dry cough for two weeks"
    assert record.appointment is None


@pytest.mark.parametrize("who", ["other provider", "patient", "former provider"])
def test_only_a_provider_in_an_active_relationship_writes(
    who: str, provider, other_provider, patient
) -> None:
    if who == "former provider":
        relationship_deactivate(link=provider.patient_links.get(patient=patient))
    author = {
        "other provider": other_provider.user,
        "patient": patient.user,
        "former provider": provider.user,
    }[who]

    with pytest.raises(NotAllowed):
        medical_record_write(by=author, patient=patient, record_date=today(), diagnosis="Flu")

    assert not MedicalRecord.objects.exists()


def test_emergency_access_is_read_only(other_provider, patient, emergency_grant) -> None:
    with pytest.raises(NotAllowed):
        _write(other_provider, patient)

    assert not MedicalRecord.objects.exists()


def test_a_record_date_in_the_future_is_refused(provider, patient) -> None:
    with pytest.raises(ValidationError) as refused:
        _write(provider, patient, record_date=today() + dt.timedelta(days=1))

    assert refused.value.message_dict == {
        "record_date": ["The record date cannot be in the future."]
    }
    assert not MedicalRecord.objects.exists()


def test_a_record_needs_symptoms_diagnosis_or_treatment(provider, patient) -> None:
    with pytest.raises(
        ValidationError, match="at least the symptoms, the diagnosis or the treatment"
    ):
        _write(provider, patient, symptoms=" ", diagnosis="", treatment="\n", notes="Only a note")

    assert not MedicalRecord.objects.exists()


def test_a_record_links_the_patients_appointment_with_this_provider(
    provider, patient, visit
) -> None:
    record = _write(provider, patient, appointment=visit)

    assert record.appointment == visit
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.SCHEDULED  # linking alone completes nothing


def test_another_providers_or_patients_appointment_cannot_be_linked(
    provider, other_provider, patient, other_patient
) -> None:
    relationship_activate(provider=other_provider, patient=patient)
    theirs = appointment_create(patient=patient, provider=other_provider, date_time=at(today(), 10))
    relationship_activate(provider=provider, patient=other_patient)
    someone_elses = appointment_create(
        patient=other_patient, provider=provider, date_time=at(today(), 11)
    )

    for appointment in (theirs, someone_elses):
        with pytest.raises(ValidationError) as refused:
            _write(provider, patient, appointment=appointment)
        assert refused.value.message_dict == {
            "appointment": ["Choose one of this patient's appointments with you."]
        }
    assert not MedicalRecord.objects.exists()


def test_a_cancelled_appointment_cannot_be_documented(provider, patient, visit) -> None:
    appointment_cancel(appointment=visit, by=provider.user, reason="Provider ill")
    visit.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        _write(provider, patient, appointment=visit)

    assert "appointment" in refused.value.message_dict
    assert not MedicalRecord.objects.exists()


def test_writing_the_record_completes_the_appointment_in_one_step(provider, patient, visit) -> None:
    with set_actor(provider.user):
        record = _write(provider, patient, appointment=visit, complete_appointment=True)

    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.COMPLETED
    assert record.appointment == visit
    completion = LogEntry.objects.get_for_object(visit).filter(action=LogEntry.Action.UPDATE).get()
    assert completion.actor == provider.user
    assert completion.changes_dict["status"] == ["scheduled", "completed"]


def test_an_appointment_that_cannot_be_completed_leaves_no_record(provider, patient) -> None:
    # Tomorrow's appointment cannot be completed today, so the record is not written either.
    tomorrow = appointment_create(
        patient=patient, provider=provider, date_time=at(today() + dt.timedelta(days=1), 9)
    )

    with pytest.raises(ValidationError) as refused:
        _write(
            provider, patient, record_date=today(), appointment=tomorrow, complete_appointment=True
        )

    assert list(refused.value.message_dict) == ["complete_appointment"]
    assert not MedicalRecord.objects.exists()
    tomorrow.refresh_from_db()
    assert tomorrow.status == AppointmentStatus.SCHEDULED


def test_completing_needs_an_appointment(provider, patient) -> None:
    with pytest.raises(ValidationError) as refused:
        _write(provider, patient, complete_appointment=True)

    assert list(refused.value.message_dict) == ["complete_appointment"]
    assert not MedicalRecord.objects.exists()


# --- Amending -----------------------------------------------------------------------------


def test_the_author_amends_and_the_history_keeps_who_changed_what(
    provider, patient, record
) -> None:
    with set_actor(provider.user):
        _amend(record, provider, diagnosis="Allergic rhinitis, perennial", notes="Try nasal spray")

    record.refresh_from_db()
    assert record.diagnosis == "Allergic rhinitis, perennial"
    change = LogEntry.objects.get_for_object(record).filter(action=LogEntry.Action.UPDATE).get()
    assert change.actor == provider.user
    assert change.changes_dict["diagnosis"] == [
        "Seasonal allergic rhinitis",
        "Allergic rhinitis, perennial",
    ]
    assert change.changes_dict["notes"] == ["", "Try nasal spray"]
    assert "treatment" not in change.changes_dict


def test_saving_without_a_change_writes_nothing(provider, patient, record) -> None:
    before = LogEntry.objects.get_for_object(record).count()
    updated_at = record.updated_at

    _amend(record, provider)

    record.refresh_from_db()
    assert record.updated_at == updated_at
    assert LogEntry.objects.get_for_object(record).count() == before


def test_only_the_author_amends_a_record(other_provider, patient, record) -> None:
    relationship_activate(provider=other_provider, patient=patient)

    with pytest.raises(NotAllowed, match="Only the provider who wrote this record"):
        _amend(record, other_provider, diagnosis="Something else")

    record.refresh_from_db()
    assert record.diagnosis == "Seasonal allergic rhinitis"


def test_the_author_cannot_amend_once_the_patient_left_their_care(
    provider, patient, record
) -> None:
    relationship_deactivate(link=provider.patient_links.get(patient=patient))

    with pytest.raises(NotAllowed):
        _amend(record, provider, diagnosis="Something else")

    record.refresh_from_db()
    assert record.diagnosis == "Seasonal allergic rhinitis"


def test_an_amendment_with_a_future_date_changes_nothing(provider, patient, record) -> None:
    with pytest.raises(ValidationError):
        _amend(record, provider, record_date=today() + dt.timedelta(days=3), diagnosis="Changed")

    record.refresh_from_db()
    assert record.diagnosis == "Seasonal allergic rhinitis"
    assert record.record_date == today() - dt.timedelta(days=7)


def test_an_amendment_can_link_and_complete_the_visit(provider, patient, record, visit) -> None:
    _amend(record, provider, appointment=visit, complete_appointment=True)

    record.refresh_from_db()
    visit.refresh_from_db()
    assert record.appointment == visit
    assert visit.status == AppointmentStatus.COMPLETED
    # Ticking the box again on a later amendment is harmless.
    _amend(
        record, provider, appointment=visit, complete_appointment=True, notes="Follow-up in 2 weeks"
    )
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.COMPLETED
