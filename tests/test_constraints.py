"""The database itself refuses bad rows: constraints, protected deletes, keys and timestamps.

Every bad value here goes around model validation (QuerySet.update, bulk_create,
save() without full_clean) so only the database stands in its way.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Role, User
from assistant.models import AIInteraction
from assistant.services import interaction_log
from conftest import PASSWORD
from messaging.models import Message
from messaging.services import message_create, message_mark_read
from patients.models import PatientProfile
from prescriptions.models import Prescription
from prescriptions.services import prescription_create
from providers.models import ProviderPatient, ProviderProfile
from records.models import MedicalRecord
from records.services import medical_record_create
from scheduling.models import Appointment
from scheduling.services import appointment_create

SEED_MODELS: list[type[models.Model]] = [
    User,
    PatientProfile,
    ProviderProfile,
    ProviderPatient,
    Appointment,
    MedicalRecord,
    Prescription,
    Message,
    AIInteraction,
]
TIMESTAMPED_MODELS: list[type[models.Model]] = [
    User,
    PatientProfile,
    ProviderProfile,
    ProviderPatient,
    Appointment,
    MedicalRecord,
    Prescription,
]
LONG_AGO = dt.datetime(2001, 1, 1, 12, 0, tzinfo=dt.UTC)


def _tomorrow_at_ten() -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )


def _appointment(patient: PatientProfile, provider: ProviderProfile) -> Appointment:
    return appointment_create(
        patient=patient, provider=provider, date_time=_tomorrow_at_ten(), reason="Check-up"
    )


def _medical_record(patient: PatientProfile, provider: ProviderProfile) -> MedicalRecord:
    return medical_record_create(
        patient=patient,
        provider=provider,
        record_date=timezone.localdate(),
        diagnosis="Hypertension",
    )


def _prescription(patient: PatientProfile, provider: ProviderProfile) -> Prescription:
    today = timezone.localdate()
    return prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Lisinopril",
        dosage="10 mg",
        frequency="once daily",
        start_date=today,
        end_date=today + dt.timedelta(days=30),
        refills=2,
    )


def _interaction(user: User) -> AIInteraction:
    return interaction_log(
        user=user,
        input_text="Book me an appointment",
        response_text="Which day suits you?",
        detected_intent="book_appointment",
        confidence_score=0.9,
    )


def _assert_update_refused(obj: models.Model, **bad_values: Any) -> None:
    """The database refuses `bad_values` on `obj`'s row, and the row keeps what it held."""
    model = type(obj)
    before = model.objects.filter(pk=obj.pk).values(*bad_values).get()
    with transaction.atomic(), pytest.raises(IntegrityError):
        model.objects.filter(pk=obj.pk).update(**bad_values)
    assert model.objects.filter(pk=obj.pk).values(*bad_values).get() == before


# --- Check constraints -----------------------------------------------------------


@pytest.mark.parametrize(
    "bad_values",
    [
        {"refills": -1},
        {"end_date": dt.date(2000, 1, 1)},
        {"status": "paused"},
    ],
    ids=["negative-refills", "end-before-start", "unknown-status"],
)
def test_database_refuses_invalid_prescription(
    patient, provider, bad_values: dict[str, Any]
) -> None:
    _assert_update_refused(_prescription(patient, provider), **bad_values)


def test_database_refuses_prescription_created_without_validation(patient, provider) -> None:
    today = timezone.localdate()
    bad = Prescription(
        patient=patient,
        provider=provider,
        medication_name="Amoxicillin",
        dosage="500 mg",
        frequency="three times daily",
        start_date=today,
        end_date=today - dt.timedelta(days=1),
        refills=-1,
    )
    with transaction.atomic(), pytest.raises(IntegrityError):
        Prescription.objects.bulk_create([bad])
    assert not Prescription.objects.filter(medication_name="Amoxicillin").exists()


@pytest.mark.parametrize(
    "bad_values",
    [
        {"status": "postponed"},
        {"type": "walk-in"},
        {"duration_minutes": 0},
        {"duration_minutes": -30},
    ],
    ids=["unknown-status", "unknown-type", "zero-duration", "negative-duration"],
)
def test_database_refuses_invalid_appointment(
    patient, provider, bad_values: dict[str, Any]
) -> None:
    _assert_update_refused(_appointment(patient, provider), **bad_values)


def test_database_refuses_unknown_relationship_status(patient, provider) -> None:
    link = ProviderPatient.objects.get(provider=provider, patient=patient)
    _assert_update_refused(link, status="pending")


def test_database_refuses_second_relationship_for_the_same_pair(patient, provider) -> None:
    duplicate = ProviderPatient(
        provider=provider, patient=patient, relationship_start_date=timezone.localdate()
    )
    with transaction.atomic(), pytest.raises(IntegrityError):
        duplicate.save()
    assert ProviderPatient.objects.filter(provider=provider, patient=patient).count() == 1


def test_database_refuses_unknown_user_role(patient) -> None:
    _assert_update_refused(patient.user, role="admin")


def test_database_refuses_mixed_case_email(patient) -> None:
    _assert_update_refused(patient.user, email="Pat.Jones@Example.org")


def test_database_refuses_saving_a_user_with_a_mixed_case_email(db) -> None:
    user = User(email="New.Person@Example.org", full_name="New Person", role=Role.PATIENT)
    user.set_password(PASSWORD)
    with transaction.atomic(), pytest.raises(IntegrityError):
        user.save()
    assert not User.objects.filter(email__iexact="new.person@example.org").exists()


@pytest.mark.parametrize(
    "bad_values",
    [
        {"read": True, "read_at": None},
        {"read": False, "read_at": LONG_AGO},
    ],
    ids=["read-without-read-at", "read-at-while-unread"],
)
def test_database_refuses_message_read_state_without_matching_read_at(
    patient, provider, bad_values: dict[str, Any]
) -> None:
    message = message_create(sender=patient.user, receiver=provider.user, content="Hello")
    if bad_values["read"] is False:
        message = message_mark_read(message=message)
    _assert_update_refused(message, **bad_values)


def test_database_refuses_message_to_self(patient) -> None:
    with transaction.atomic(), pytest.raises(IntegrityError):
        Message.objects.bulk_create(
            [Message(sender=patient.user, receiver=patient.user, content="Note to self")]
        )
    assert not Message.objects.filter(sender=patient.user).exists()


def test_database_refuses_redirecting_a_message_to_its_sender(patient, provider) -> None:
    message = message_create(sender=patient.user, receiver=provider.user, content="Hello")
    _assert_update_refused(message, receiver=patient.user)


@pytest.mark.parametrize("confidence", [1.5, -0.1])
def test_database_refuses_confidence_outside_zero_to_one(patient, confidence: float) -> None:
    _assert_update_refused(_interaction(patient.user), confidence_score=confidence)


@pytest.mark.parametrize("confidence", [0.0, 1.0])
def test_database_accepts_confidence_at_the_bounds(patient, confidence: float) -> None:
    interaction = _interaction(patient.user)
    AIInteraction.objects.filter(pk=interaction.pk).update(confidence_score=confidence)
    interaction.refresh_from_db()
    assert interaction.confidence_score == confidence


# --- Clinical data survives deletes ----------------------------------------------


@pytest.fixture
def clinical_rows(patient, provider) -> dict[type[models.Model], uuid.UUID]:
    appointment = _appointment(patient, provider)
    record = medical_record_create(
        patient=patient,
        provider=provider,
        record_date=timezone.localdate(),
        diagnosis="Seasonal allergies",
        appointment=appointment,
    )
    prescription = _prescription(patient, provider)
    message = message_create(sender=patient.user, receiver=provider.user, content="Thank you")
    return {
        Appointment: appointment.pk,
        MedicalRecord: record.pk,
        Prescription: prescription.pk,
        Message: message.pk,
        ProviderPatient: ProviderPatient.objects.get(patient=patient).pk,
    }


def _surviving(rows: dict[type[models.Model], uuid.UUID]) -> dict[str, bool]:
    return {model.__name__: model.objects.filter(pk=pk).exists() for model, pk in rows.items()}


@pytest.mark.parametrize(
    "target",
    [lambda p: p.user, lambda p: p],
    ids=["user", "profile"],
)
def test_deleting_patient_with_clinical_rows_is_refused(
    patient, clinical_rows, target: Callable[[PatientProfile], models.Model]
) -> None:
    with pytest.raises(ProtectedError):
        target(patient).delete()
    assert PatientProfile.objects.filter(pk=patient.pk).exists()
    assert User.objects.filter(pk=patient.user.pk).exists()
    assert _surviving(clinical_rows) == {model.__name__: True for model in clinical_rows}


def test_deleting_provider_with_clinical_rows_is_refused(provider, clinical_rows) -> None:
    with pytest.raises(ProtectedError):
        provider.user.delete()
    assert ProviderProfile.objects.filter(pk=provider.pk).exists()
    assert _surviving(clinical_rows) == {model.__name__: True for model in clinical_rows}


def test_deleting_a_patients_user_is_refused_while_the_profile_exists(db) -> None:
    from patients.services import patient_create

    profile = patient_create(
        email="short.stay@example.org", full_name="Short Stay", date_of_birth=dt.date(1990, 1, 1)
    )
    with pytest.raises(ProtectedError):
        profile.user.delete()
    assert PatientProfile.objects.filter(pk=profile.pk).exists()


# --- Email is case-insensitive -----------------------------------------------------


def test_second_account_with_differently_cased_email_is_refused(patient) -> None:
    with transaction.atomic(), pytest.raises(IntegrityError):
        User.objects.create_user(
            email="Pat.Jones@Example.org",
            password=PASSWORD,
            full_name="Pat Again",
            role=Role.PATIENT,
        )
    assert User.objects.filter(email__iexact="pat.jones@example.org").count() == 1


def test_second_account_created_around_the_manager_is_refused(patient) -> None:
    # Even a raw row that skips the manager's lower-casing cannot make a second spelling.
    with transaction.atomic(), pytest.raises(IntegrityError):
        User.objects.bulk_create(
            [User(email="Pat.Jones@Example.org", full_name="Pat Again", role=Role.PATIENT)]
        )
    assert User.objects.filter(email__iexact="pat.jones@example.org").count() == 1


def test_emails_are_stored_lower_case(db) -> None:
    user = User.objects.create_user(
        email="  Casey.Mixed@Example.ORG ", password=PASSWORD, full_name="Casey", role=Role.PATIENT
    )
    assert (
        User.objects.filter(pk=user.pk).values_list("email", flat=True).get()
        == "casey.mixed@example.org"
    )


@pytest.mark.parametrize(
    "spelling", ["pat.jones@example.org", "Pat.Jones@Example.org", "PAT.JONES@EXAMPLE.ORG"]
)
def test_sign_in_finds_the_user_with_any_email_case(patient, spelling: str) -> None:
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, email=spelling, password=PASSWORD) == patient.user
    assert User.objects.get_by_natural_key(spelling) == patient.user


def test_sign_in_with_any_email_case_still_needs_the_password(patient) -> None:
    request = RequestFactory().post("/accounts/login/")
    assert (
        authenticate(request, email="PAT.JONES@EXAMPLE.ORG", password="wrong-password-123") is None
    )


# --- Keys and timestamps -------------------------------------------------------------


@pytest.fixture
def one_of_each(patient, provider) -> dict[type[models.Model], models.Model]:
    return {
        User: patient.user,
        PatientProfile: patient,
        ProviderProfile: provider,
        ProviderPatient: ProviderPatient.objects.get(patient=patient, provider=provider),
        Appointment: _appointment(patient, provider),
        MedicalRecord: _medical_record(patient, provider),
        Prescription: _prescription(patient, provider),
        Message: message_create(sender=patient.user, receiver=provider.user, content="Hi"),
        AIInteraction: _interaction(patient.user),
    }


@pytest.mark.parametrize("model", SEED_MODELS, ids=lambda m: m.__name__)
def test_primary_key_is_a_random_uuid(
    one_of_each: dict[type[models.Model], models.Model], model: type[models.Model]
) -> None:
    assert isinstance(model._meta.pk, models.UUIDField)
    stored = model.objects.filter(pk=one_of_each[model].pk).values_list("pk", flat=True).get()
    assert isinstance(stored, uuid.UUID)
    assert stored.version == 4


def test_primary_keys_differ_between_rows(patient, other_patient) -> None:
    assert patient.pk != other_patient.pk
    assert patient.user.pk != other_patient.user.pk


@pytest.mark.parametrize("model", TIMESTAMPED_MODELS, ids=lambda m: m.__name__)
def test_created_at_is_set_on_create_and_updated_at_moves_on_save(
    one_of_each: dict[type[models.Model], models.Model], model: type[models.Model]
) -> None:
    obj = one_of_each[model]
    stored = model.objects.filter(pk=obj.pk).values("created_at", "updated_at").get()
    now = timezone.now()
    assert now - dt.timedelta(minutes=5) < stored["created_at"] <= now
    assert stored["updated_at"] >= stored["created_at"]

    model.objects.filter(pk=obj.pk).update(created_at=LONG_AGO, updated_at=LONG_AGO)
    obj.refresh_from_db()
    obj.save()

    stored = model.objects.filter(pk=obj.pk).values("created_at", "updated_at").get()
    assert stored["created_at"] == LONG_AGO
    assert stored["updated_at"] > now - dt.timedelta(minutes=5)


def test_service_updates_with_update_fields_move_updated_at(patient, provider) -> None:
    from providers.services import relationship_deactivate

    link = ProviderPatient.objects.get(patient=patient, provider=provider)
    ProviderPatient.objects.filter(pk=link.pk).update(updated_at=LONG_AGO)
    link.refresh_from_db()
    relationship_deactivate(link=link)
    assert (
        ProviderPatient.objects.filter(pk=link.pk).values_list("updated_at", flat=True).get()
        > LONG_AGO
    )


def test_message_and_interaction_timestamps_default_to_now(patient, provider) -> None:
    before = timezone.now()
    message = Message.objects.create(sender=patient.user, receiver=provider.user, content="Hi")
    interaction = AIInteraction.objects.create(
        user=patient.user,
        input_text="hello",
        response_text="hi",
        detected_intent="greeting",
        confidence_score=0.5,
    )
    after = timezone.now()
    assert before <= Message.objects.values_list("sent_at", flat=True).get(pk=message.pk) <= after
    stamp = AIInteraction.objects.values_list("interaction_timestamp", flat=True).get(
        pk=interaction.pk
    )
    assert before <= stamp <= after
