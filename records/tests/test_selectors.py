"""Reads of records: who may see which record, which visits a record may document, and its history."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.context import set_actor

from providers.services import relationship_activate, relationship_deactivate
from records.selectors import linkable_appointments, medical_record_for_user, medical_record_history
from records.services import medical_record_update
from records.tests.fixtures import at, today
from scheduling.services import appointment_cancel, appointment_create

pytestmark = pytest.mark.django_db


def test_a_record_is_read_by_its_patient_and_the_providers_with_access(
    record, patient, provider, other_patient, other_provider
) -> None:
    assert medical_record_for_user(patient.user, record.pk) == record
    assert medical_record_for_user(provider.user, record.pk) == record
    assert medical_record_for_user(other_patient.user, record.pk) is None
    assert medical_record_for_user(other_provider.user, record.pk) is None


def test_emergency_access_reads_and_a_former_provider_does_not(
    record, patient, provider, other_provider, emergency_grant
) -> None:
    relationship_deactivate(link=provider.patient_links.get(patient=patient))

    assert medical_record_for_user(other_provider.user, record.pk) == record
    assert medical_record_for_user(provider.user, record.pk) is None


def test_a_record_documents_the_providers_own_visits_up_to_today(
    provider, other_provider, patient, other_patient, visit
) -> None:
    yesterday = appointment_create(
        patient=patient, provider=provider, date_time=at(today() - dt.timedelta(days=1), 10)
    )
    tomorrow = appointment_create(
        patient=patient, provider=provider, date_time=at(today() + dt.timedelta(days=1), 10)
    )
    cancelled = appointment_create(
        patient=patient, provider=provider, date_time=at(today() - dt.timedelta(days=2), 10)
    )
    appointment_cancel(appointment=cancelled, by=provider.user, reason="Provider ill")
    relationship_activate(provider=other_provider, patient=patient)
    colleagues = appointment_create(
        patient=patient, provider=other_provider, date_time=at(today(), 11)
    )
    relationship_activate(provider=provider, patient=other_patient)
    someone_elses = appointment_create(
        patient=other_patient, provider=provider, date_time=at(today(), 12)
    )

    choices = list(linkable_appointments(provider, patient))

    assert choices == [visit, yesterday]
    for excluded in (tomorrow, cancelled, colleagues, someone_elses):
        assert excluded not in choices
    # A record already linked keeps its appointment among the choices, however old.
    assert tomorrow in linkable_appointments(provider, patient, include=tomorrow.pk)
    assert someone_elses not in linkable_appointments(provider, patient, include=someone_elses.pk)


def test_the_history_says_who_changed_what_and_when_newest_first(record, provider) -> None:
    with set_actor(provider.user):
        medical_record_update(
            record=record,
            by=provider.user,
            record_date=record.record_date,
            symptoms=record.symptoms,
            diagnosis="Perennial allergic rhinitis",
            treatment="Fluticasone nasal spray",
            notes=record.notes,
        )

    amended, written = medical_record_history(record)

    assert (amended.action, amended.actor, amended.actor_name) == (
        "changed",
        provider.user,
        "Anika Patel",
    )
    assert [(c.field, c.label, c.old, c.new) for c in amended.changes] == [
        ("diagnosis", "Diagnosis", "Seasonal allergic rhinitis", "Perennial allergic rhinitis"),
        ("treatment", "Treatment", "Cetirizine 10 mg daily", "Fluticasone nasal spray"),
    ]
    assert amended.timestamp >= written.timestamp
    # The record was made without a signed-in user (demo data): the system wrote it.
    assert (written.action, written.actor, written.actor_name, written.changes) == (
        "created",
        None,
        "System",
        [],
    )


def test_linking_an_appointment_shows_in_words_not_ids(record, provider, visit) -> None:
    medical_record_update(
        record=record,
        by=provider.user,
        record_date=record.record_date,
        symptoms=record.symptoms,
        diagnosis=record.diagnosis,
        treatment=record.treatment,
        notes=record.notes,
        appointment=visit,
    )

    (change,) = medical_record_history(record)[0].changes

    assert (change.label, change.old, change.new) == (
        "Appointment",
        "—",
        "linked to an appointment",
    )
    assert str(visit.pk) not in change.new
