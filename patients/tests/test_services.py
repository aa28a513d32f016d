"""patient_update_profile: the patient's own details, all or nothing, audited, SSN write-only."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.utils import timezone

from patients.crypto import keyed_hash
from patients.models import DuplicateSource, DuplicateStatus, PatientProfile, PossibleDuplicate
from patients.services import patient_update_profile

pytestmark = pytest.mark.django_db

PERSONA_SSN = "123-45-6789"
OTHER_SSN = "234-56-7890"


def _reload(profile: PatientProfile) -> PatientProfile:
    return PatientProfile.objects.select_related("user").get(pk=profile.pk)


def _updates(obj: object) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).filter(action=LogEntry.Action.UPDATE))


def test_updates_account_and_profile_fields(patient) -> None:
    updated = patient_update_profile(
        profile=patient,
        full_name="  Patricia Jones ",
        phone_number="555-0199",
        date_of_birth=dt.date(1980, 5, 18),
        address="34 Oak Avenue",
        emergency_contact="Alex Jones",
        emergency_contact_phone="555-0177",
        insurance_number="INS-1",
    )

    stored = _reload(patient)
    assert updated.user.full_name == stored.user.full_name == "Patricia Jones"  # stripped
    assert stored.user.phone_number == "555-0199"
    assert stored.date_of_birth == dt.date(1980, 5, 18)
    assert stored.address == "34 Oak Avenue"
    assert stored.emergency_contact == "Alex Jones"
    assert stored.emergency_contact_phone == "555-0177"
    assert stored.insurance_number == "INS-1"
    assert stored.ssn == PERSONA_SSN


def test_fields_left_out_keep_their_values(patient) -> None:
    patient_update_profile(profile=patient, address="34 Oak Avenue")

    stored = _reload(patient)
    assert stored.address == "34 Oak Avenue"
    assert stored.user.full_name == "Pat Jones"
    assert stored.user.phone_number == "555-0100"
    assert stored.insurance_number == "INS-778899"
    assert stored.date_of_birth == dt.date(1980, 5, 17)


def test_only_changed_fields_are_written_and_audited(patient) -> None:
    with set_actor(patient.user):
        patient_update_profile(
            profile=patient,
            full_name="Pat Jones",  # unchanged
            address="34 Oak Avenue",
            insurance_number="INS-778899",  # unchanged
        )

    (entry,) = _updates(patient)
    assert entry.actor == patient.user
    assert entry.changes_dict == {"address": ["12 Elm Street, Springfield", "34 Oak Avenue"]}
    assert _updates(patient.user) == []  # nothing on the account changed


def test_nothing_changed_writes_nothing(patient) -> None:
    before = _reload(patient).updated_at

    patient_update_profile(
        profile=patient, full_name="Pat Jones", address="12 Elm Street, Springfield"
    )

    assert _reload(patient).updated_at == before
    assert _updates(patient) == []
    assert _updates(patient.user) == []


def test_new_ssn_is_stored_canonical_and_never_audited(patient) -> None:
    patient_update_profile(profile=patient, ssn="321.54.9870")

    stored = _reload(patient)
    assert stored.ssn == "321-54-9870"
    assert stored.ssn_hash == keyed_hash("321-54-9870")
    for entry in LogEntry.objects.get_for_object(stored):
        dumped = json.dumps([entry.changes, entry.serialized_data])
        assert "321-54-9870" not in dumped
        assert stored.ssn_hash not in dumped


def test_blank_ssn_keeps_the_one_on_file(patient) -> None:
    patient_update_profile(profile=patient, ssn="", address="34 Oak Avenue")

    stored = _reload(patient)
    assert stored.ssn == PERSONA_SSN
    assert stored.ssn_hash == keyed_hash(PERSONA_SSN)


def test_same_ssn_again_is_not_a_duplicate(patient) -> None:
    patient_update_profile(profile=patient, ssn="123 45 6789")

    assert _reload(patient).ssn == PERSONA_SSN


def test_another_patients_ssn_is_kept_and_the_pair_flagged_for_staff(
    patient, other_patient
) -> None:
    # Refusing it would tell the typist whose number it is; staff sort it out instead.
    patient_update_profile(
        profile=patient, full_name="Changed Name", address="34 Oak Avenue", ssn=OTHER_SSN
    )

    stored = _reload(patient)
    assert stored.user.full_name == "Changed Name"
    assert stored.address == "34 Oak Avenue"
    assert stored.ssn == OTHER_SSN
    assert _reload(other_patient).ssn == OTHER_SSN
    flag = PossibleDuplicate.objects.get()
    assert (flag.patient, flag.existing) == (stored, other_patient)
    assert (flag.source, flag.status) == (DuplicateSource.PROFILE, DuplicateStatus.OPEN)


def test_typing_the_same_duplicate_again_keeps_one_open_review(patient, other_patient) -> None:
    patient_update_profile(profile=patient, ssn=OTHER_SSN)
    patient_update_profile(profile=patient, ssn=PERSONA_SSN)
    patient_update_profile(profile=patient, ssn=OTHER_SSN)

    assert PossibleDuplicate.objects.filter(status=DuplicateStatus.OPEN).count() == 1


def test_invalid_ssn_changes_nothing(patient) -> None:
    with pytest.raises(ValidationError):
        patient_update_profile(profile=patient, address="34 Oak Avenue", ssn="666-12-3456")

    stored = _reload(patient)
    assert stored.address == "12 Elm Street, Springfield"
    assert stored.ssn == PERSONA_SSN


def test_date_of_birth_in_the_future_is_refused(patient) -> None:
    with pytest.raises(ValidationError) as refused:
        patient_update_profile(
            profile=patient, date_of_birth=timezone.localdate() + dt.timedelta(days=1)
        )

    assert "date_of_birth" in refused.value.message_dict
    assert _reload(patient).date_of_birth == dt.date(1980, 5, 17)


def test_blank_full_name_is_refused(patient) -> None:
    with pytest.raises(ValidationError) as refused:
        patient_update_profile(profile=patient, full_name="   ", address="34 Oak Avenue")

    assert "full_name" in refused.value.message_dict
    stored = _reload(patient)
    assert stored.user.full_name == "Pat Jones"
    assert stored.address == "12 Elm Street, Springfield"
