"""Social Security numbers: encrypted at rest, validated, masked, unique, and rotatable."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from patients.crypto import DecryptionError, keyed_hash
from patients.models import DuplicateStatus, PatientProfile, PossibleDuplicate
from patients.services import DuplicateSSN, patient_create, patient_set_ssn, patient_ssn_check
from patients.ssn import mask_ssn, normalize_ssn

PLAINTEXT_SPELLINGS = ("123-45-6789", "123456789")


def _raw_column(column: str) -> dict[str, str]:
    """`column` of every patient profile as the database holds it, keyed by profile id."""
    table = connection.ops.quote_name(PatientProfile._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {connection.ops.quote_name(column)} FROM {table}")  # noqa: S608
        return {
            str(PatientProfile._meta.pk.to_python(pk)): value for pk, value in cursor.fetchall()
        }


def _decrypts_with(token: str, key: str) -> str | None:
    try:
        return Fernet(key.encode()).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def _new_patient(email: str, ssn: str) -> PatientProfile:
    return patient_create(
        email=email, full_name=email.split("@")[0], date_of_birth=dt.date(1985, 6, 1), ssn=ssn
    )


# --- At rest ------------------------------------------------------------------------


def test_patient_ssn_is_not_stored_in_plaintext(patient, other_patient) -> None:
    raw = _raw_column("ssn")
    stored = raw[str(patient.pk)]
    assert stored
    for value in raw.values():
        for spelling in (*PLAINTEXT_SPELLINGS, "234-56-7890", "234567890"):
            assert spelling not in value


def test_patient_ssn_is_stored_as_a_fernet_token_under_the_current_key(patient, settings) -> None:
    stored = _raw_column("ssn")[str(patient.pk)]
    assert _decrypts_with(stored, settings.FIELD_ENCRYPTION_KEY[0]) == "123-45-6789"


def test_patient_ssn_reads_back_decrypted(patient) -> None:
    assert PatientProfile.objects.get(pk=patient.pk).ssn == "123-45-6789"


def test_ssn_hash_column_holds_no_plaintext(patient) -> None:
    stored = _raw_column("ssn_hash")[str(patient.pk)]
    assert stored == keyed_hash("123-45-6789")
    assert len(stored) == 64
    for spelling in PLAINTEXT_SPELLINGS:
        assert spelling not in stored


def test_patient_created_with_any_spelling_stores_the_canonical_ssn(db) -> None:
    profile = _new_patient("spaced@example.org", "321 54 9876")
    assert PatientProfile.objects.get(pk=profile.pk).ssn == "321-54-9876"


# --- Validation and masking -----------------------------------------------------------


@pytest.mark.parametrize("raw", ["123 45 6789", "123456789", "123-45-6789", " 123.45.6789 "])
def test_normalize_ssn_accepts_common_spellings(raw: str) -> None:
    assert normalize_ssn(raw) == "123-45-6789"


@pytest.mark.parametrize(
    ("raw", "code", "message_part"),
    [
        ("000-12-3456", "ssn_invalid", "not a valid Social Security number"),
        ("666-12-3456", "ssn_invalid", "not a valid Social Security number"),
        ("900-12-3456", "ssn_invalid", "not a valid Social Security number"),
        ("987-65-4321", "ssn_invalid", "not a valid Social Security number"),
        ("123-00-6789", "ssn_invalid", "not a valid Social Security number"),
        ("123-45-0000", "ssn_invalid", "not a valid Social Security number"),
        ("12A-45-6789", "ssn_format", "9 digits"),
        ("abc-de-fghi", "ssn_format", "9 digits"),
        ("12345678", "ssn_format", "9 digits"),
        ("1234567890", "ssn_format", "9 digits"),
        ("", "ssn_format", "9 digits"),
    ],
)
def test_normalize_ssn_rejects_invalid_numbers_with_a_clear_message(
    raw: str, code: str, message_part: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_ssn(raw)
    assert excinfo.value.code == code
    assert message_part in " ".join(excinfo.value.messages)


def test_patient_create_refuses_an_invalid_ssn(db) -> None:
    with pytest.raises(ValidationError):
        _new_patient("invalid.ssn@example.org", "666-12-3456")
    assert not PatientProfile.objects.filter(user__email="invalid.ssn@example.org").exists()


def test_mask_ssn_shows_only_the_last_four_digits(patient) -> None:
    assert mask_ssn("123-45-6789") == "***-**-6789"
    assert mask_ssn("") == ""
    assert PatientProfile.objects.get(pk=patient.pk).ssn_masked == "***-**-6789"


# --- Uniqueness ----------------------------------------------------------------------


def test_ssn_hash_is_the_same_for_every_spelling_of_a_number(db) -> None:
    assert (
        len({keyed_hash(normalize_ssn(s)) for s in ("123 45 6789", "123456789", "123-45-6789")})
        == 1
    )
    assert keyed_hash("123-45-6789") != keyed_hash("123-45-6788")


@pytest.mark.parametrize("spelling", ["123-45-6789", "123 45 6789", "123456789"])
def test_patient_create_keeps_an_ssn_already_on_file_and_flags_the_pair(
    patient, spelling: str
) -> None:
    copycat = _new_patient("copycat@example.org", spelling)

    assert PatientProfile.objects.filter(ssn_hash=patient.ssn_hash).count() == 2
    flag = PossibleDuplicate.objects.get()
    assert (flag.patient, flag.existing, flag.status) == (copycat, patient, DuplicateStatus.OPEN)


def test_patient_set_ssn_keeps_another_patients_ssn_and_flags_the_pair(
    patient, other_patient
) -> None:
    patient_set_ssn(profile=other_patient, ssn="123 45 6789")

    stored = PatientProfile.objects.get(pk=other_patient.pk)
    assert stored.ssn == "123-45-6789"
    assert stored.ssn_hash == keyed_hash("123-45-6789")
    assert PossibleDuplicate.objects.filter(patient=other_patient, existing=patient).exists()


def test_the_admin_check_still_tells_staff_about_a_duplicate(patient, other_patient) -> None:
    with pytest.raises(DuplicateSSN):
        patient_ssn_check("123 45 6789", exclude_pk=other_patient.pk)


def test_patient_set_ssn_accepts_a_new_spelling_of_the_patients_own_ssn(patient) -> None:
    before = patient.ssn_hash
    patient_set_ssn(profile=patient, ssn="123456789")
    stored = PatientProfile.objects.get(pk=patient.pk)
    assert stored.ssn == "123-45-6789"
    assert stored.ssn_hash == before


def test_patient_set_ssn_can_clear_the_ssn(patient) -> None:
    patient_set_ssn(profile=patient, ssn="")
    stored = PatientProfile.objects.get(pk=patient.pk)
    assert stored.ssn == ""
    assert stored.ssn_hash == ""


def test_database_stores_a_second_profile_with_the_same_ssn_hash(patient, other_patient) -> None:
    # Not unique any more: a second profile typing the number keeps it, and staff
    # review the pair (PossibleDuplicate), so nobody learns whose number it is.
    PatientProfile.objects.filter(pk=other_patient.pk).update(ssn_hash=patient.ssn_hash)
    assert PatientProfile.objects.filter(ssn_hash=patient.ssn_hash).count() == 2


def test_database_allows_many_profiles_without_an_ssn(db) -> None:
    first = _new_patient("no.ssn.one@example.org", "")
    second = _new_patient("no.ssn.two@example.org", "")
    assert list(
        PatientProfile.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "ssn_hash", flat=True
        )
    ) == ["", ""]


# --- Keys ------------------------------------------------------------------------------


def test_reading_with_a_wrong_key_raises_instead_of_returning_ciphertext(patient, settings) -> None:
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError):
        PatientProfile.objects.get(pk=patient.pk)
    with pytest.raises(DecryptionError):
        list(PatientProfile.objects.values_list("ssn", flat=True))


def test_key_rotation_reencrypts_every_ssn_under_the_new_key(
    patient, other_patient, settings
) -> None:
    no_ssn = _new_patient("no.ssn@example.org", "")
    old_key = settings.FIELD_ENCRYPTION_KEY[0]
    new_key = Fernet.generate_key().decode()
    tokens_before = _raw_column("ssn")
    hashes_before = _raw_column("ssn_hash")

    settings.FIELD_ENCRYPTION_KEY = [new_key, old_key]
    out = StringIO()
    call_command("reencrypt_phi", batch_size=1, stdout=out)
    assert "Re-encrypted 3 patient profile(s)" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEY = [new_key]
    assert dict(PatientProfile.objects.values_list("pk", "ssn")) == {
        patient.pk: "123-45-6789",
        other_patient.pk: "234-56-7890",
        no_ssn.pk: "",
    }
    tokens_after = _raw_column("ssn")
    assert {
        pk: _decrypts_with(token, old_key) for pk, token in tokens_after.items()
    } == dict.fromkeys(tokens_before)
    assert {pk: tokens_after[pk] != token for pk, token in tokens_before.items()} == dict.fromkeys(
        tokens_before, True
    )
    assert _raw_column("ssn_hash") == hashes_before


def test_after_rotation_the_old_key_alone_no_longer_reads_the_rows(patient, settings) -> None:
    old_key = settings.FIELD_ENCRYPTION_KEY[0]
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), old_key]
    call_command("reencrypt_phi", stdout=StringIO())

    settings.FIELD_ENCRYPTION_KEY = [old_key]
    with pytest.raises(DecryptionError):
        PatientProfile.objects.get(pk=patient.pk)


def test_duplicate_detection_still_works_after_rotation(patient, settings) -> None:
    old_key = settings.FIELD_ENCRYPTION_KEY[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new_key, old_key]
    call_command("reencrypt_phi", stdout=StringIO())
    settings.FIELD_ENCRYPTION_KEY = [new_key]

    copy = _new_patient("after.rotation@example.org", "123456789")

    assert PossibleDuplicate.objects.filter(patient=copy, existing=patient).exists()
