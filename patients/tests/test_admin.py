"""The patient profile admin: the SSN is write-only, shown masked and never searchable."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from auditlog import get_logentry_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import user_create
from conftest import login_verified
from patients.crypto import keyed_hash
from patients.models import EmergencyAccess, PatientProfile, PHIAccess
from patients.services import emergency_access_grant, patient_create, phi_access_record
from providers.models import ProviderProfile
from providers.services import provider_create

pytestmark = pytest.mark.django_db

PERSONA_SSN = "123-45-6789"
CHANGELIST = "admin:patients_patientprofile_changelist"

# Page furniture that is random and may contain any four digits by chance.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    # The admin site demands a verified second factor; this signs in with one.
    return login_verified(client, admin_user)


def _change_url(profile: PatientProfile) -> str:
    return reverse("admin:patients_patientprofile_change", args=[profile.pk])


def _raw_ssn_column(profile: PatientProfile) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ssn FROM {PatientProfile._meta.db_table} WHERE id = %s",  # noqa: S608
            [PatientProfile._meta.pk.get_db_prep_value(profile.pk, connection)],
        )
        return cursor.fetchone()[0]


def _without_random_ids(page: str) -> str:
    return _CSRF.sub("", _UUID.sub("", page))


def assert_ssn_not_shown(page: str, profile: PatientProfile) -> None:
    """The persona's SSN appears nowhere in the page except as ***-**-6789."""
    assert profile.ssn_hash not in page
    assert _raw_ssn_column(profile) not in page
    visible = _without_random_ids(page)
    assert PERSONA_SSN not in visible
    assert PERSONA_SSN.replace("-", "") not in visible
    assert "123-45" not in visible
    assert "6789" not in visible.replace("***-**-6789", "")


def _form_data(profile: PatientProfile, **changes: Any) -> dict[str, Any]:
    data = {
        "date_of_birth": profile.date_of_birth.isoformat(),
        "insurance_number": profile.insurance_number,
        "address": profile.address,
        "emergency_contact": profile.emergency_contact,
        "emergency_contact_phone": profile.emergency_contact_phone,
        "ssn": "",
    }
    data.update(changes)
    return data


def _make_patients(count: int, *, start: int = 0) -> list[PatientProfile]:
    return [
        patient_create(
            email=f"patient{n}@example.org",
            full_name=f"Patient Number{n:03d}",
            date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=n),
            # Area 200 + n: valid and distinct for every n used here.
            ssn=f"{200 + n:03d}-11-2222",
        )
        for n in range(start, start + count)
    ]


def test_changelist_lists_patients_with_masked_ssn(admin_session: Client, patient) -> None:
    response = admin_session.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Pat Jones" in page
    assert "pat.jones@example.org" in page
    assert "***-**-6789" in page
    assert_ssn_not_shown(page, patient)


def test_changelist_queries_do_not_grow_with_patients(admin_session: Client) -> None:
    url = reverse(CHANGELIST)
    _make_patients(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    with CaptureQueriesContext(connection) as few:
        admin_session.get(url)
    _make_patients(27, start=3)
    with CaptureQueriesContext(connection) as many:
        response = admin_session.get(url)

    assert PatientProfile.objects.count() == 30
    assert "Patient Number029" in response.content.decode()
    assert len(many) == len(few)


def test_change_page_shows_ssn_masked_and_an_empty_input(admin_session: Client, patient) -> None:
    response = admin_session.get(_change_url(patient))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Pat Jones" in page
    assert "On file: ***-**-6789. Leave blank to keep it." in page
    ssn_input = re.search(r"<input[^>]*name=\"ssn\"[^>]*>", page)
    assert ssn_input is not None
    assert "value=" not in ssn_input.group(0)
    assert_ssn_not_shown(page, patient)


def test_search_finds_patients_by_name_email_and_insurance(
    admin_session: Client, patient, other_patient
) -> None:
    for term in ("Pat Jones", "pat.jones@", "INS-778899"):
        response = admin_session.get(reverse(CHANGELIST), {"q": term})

        assert response.context["cl"].result_count == 1, term
        assert "pat.jones@example.org" in response.content.decode()
        assert "riley.other@example.org" not in response.content.decode()


@pytest.mark.parametrize("term", [PERSONA_SSN, "123456789", "6789", "***-**-6789"])
def test_search_by_ssn_finds_nothing(admin_session: Client, patient, term: str) -> None:
    response = admin_session.get(reverse(CHANGELIST), {"q": term})

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    assert "pat.jones@example.org" not in page


def test_search_by_ssn_hash_finds_nothing(admin_session: Client, patient) -> None:
    response = admin_session.get(reverse(CHANGELIST), {"q": patient.ssn_hash})

    assert response.context["cl"].result_count == 0
    assert "pat.jones@example.org" not in response.content.decode()


def test_new_ssn_is_stored_through_the_service(admin_session: Client, patient) -> None:
    response = admin_session.post(_change_url(patient), _form_data(patient, ssn="321 54 9870"))

    assert response.status_code == 302
    stored = PatientProfile.objects.get(pk=patient.pk)
    assert stored.ssn == "321-54-9870"  # canonical form
    assert stored.ssn_hash == keyed_hash("321-54-9870")


def test_blank_ssn_keeps_the_one_on_file(admin_session: Client, patient) -> None:
    response = admin_session.post(
        _change_url(patient), _form_data(patient, address="34 Oak Avenue, Springfield")
    )

    assert response.status_code == 302
    stored = PatientProfile.objects.get(pk=patient.pk)
    assert stored.address == "34 Oak Avenue, Springfield"
    assert stored.ssn == PERSONA_SSN
    assert stored.ssn_hash == keyed_hash(PERSONA_SSN)


@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ("12-345", "Enter a Social Security number as 9 digits"),
        ("666-12-3456", "This is not a valid Social Security number."),
    ],
)
def test_invalid_ssn_is_a_field_error_and_changes_nothing(
    admin_session: Client, patient, entered: str, message: str
) -> None:
    before = _raw_ssn_column(patient)

    response = admin_session.post(
        _change_url(patient), _form_data(patient, ssn=entered, address="Somewhere else")
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    # The rejected entry is not echoed back into the page either.
    assert entered not in _without_random_ids(page)
    stored = PatientProfile.objects.get(pk=patient.pk)
    assert stored.ssn == PERSONA_SSN
    assert stored.address == "12 Elm Street, Springfield"
    assert _raw_ssn_column(patient) == before


def test_duplicate_ssn_is_a_field_error_and_changes_nothing(
    admin_session: Client, patient, other_patient
) -> None:
    response = admin_session.post(_change_url(patient), _form_data(patient, ssn=other_patient.ssn))

    assert response.status_code == 200
    assert "already on file for another patient" in response.content.decode()
    assert PatientProfile.objects.get(pk=patient.pk).ssn == PERSONA_SSN


def test_history_never_shows_the_ssn(admin_session: Client, patient) -> None:
    admin_session.post(_change_url(patient), _form_data(patient, ssn="321-54-9870"))
    admin_session.post(_change_url(patient), _form_data(patient, ssn=PERSONA_SSN))

    response = admin_session.get(
        reverse("admin:patients_patientprofile_history", args=[patient.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Changed New SSN." in page
    assert "321-54-9870" not in page
    patient.refresh_from_db()
    assert_ssn_not_shown(page, patient)


def test_audit_log_pages_never_show_the_ssn(admin_session: Client, patient) -> None:
    admin_session.post(_change_url(patient), _form_data(patient, ssn="321-54-9870"))
    admin_session.post(_change_url(patient), _form_data(patient, ssn=PERSONA_SSN))
    log_entry = get_logentry_model()
    entries = log_entry.objects.get_for_object(patient)

    changelist = admin_session.get(reverse("admin:auditlog_logentry_changelist"))
    details = [
        admin_session.get(reverse("admin:auditlog_logentry_change", args=[entry.pk]))
        for entry in entries
    ]

    assert changelist.status_code == 200
    assert entries.count() >= 1
    patient.refresh_from_db()
    for page in [changelist, *details]:
        assert page.status_code == 200
        assert "321-54-9870" not in page.content.decode()
        assert_ssn_not_shown(page.content.decode(), patient)


def test_add_profile_for_an_existing_patient_account(admin_session: Client) -> None:
    user = user_create(email="new.patient@example.org", full_name="New Patient", role=Role.PATIENT)
    add_url = reverse("admin:patients_patientprofile_add")

    page = admin_session.get(add_url)
    response = admin_session.post(
        add_url,
        {
            "user": user.pk,
            "date_of_birth": "1985-07-04",
            "insurance_number": "INS-1",
            "address": "",
            "emergency_contact": "",
            "emergency_contact_phone": "",
            "ssn": "345-67-8901",
        },
    )

    assert page.status_code == 200
    assert "No SSN on file." in page.content.decode()
    assert response.status_code == 302
    profile = PatientProfile.objects.get(user=user)
    assert profile.date_of_birth == dt.date(1985, 7, 4)
    assert profile.ssn == "345-67-8901"
    assert profile.ssn_hash == keyed_hash("345-67-8901")


def test_add_profile_refuses_a_provider_account(admin_session: Client, provider) -> None:
    response = admin_session.post(
        reverse("admin:patients_patientprofile_add"),
        {"user": provider.user.pk, "date_of_birth": "1985-07-04", "ssn": ""},
    )

    assert response.status_code == 200
    assert "Choose an account with the patient role." in response.content.decode()
    assert not PatientProfile.objects.filter(user=provider.user).exists()


def test_patient_profiles_cannot_be_deleted(admin_session: Client, patient) -> None:
    response = admin_session.post(
        reverse("admin:patients_patientprofile_delete", args=[patient.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert PatientProfile.objects.filter(pk=patient.pk).exists()


# --- PHI access log --------------------------------------------------------------

PHI_LOG = "admin:patients_phiaccess_changelist"
EMERGENCIES = "admin:patients_emergencyaccess_changelist"
EMERGENCY_REASON = "Unconscious in the emergency department, allergies unknown."


def _make_phi_accesses(count: int, *, start: int = 0) -> list[PHIAccess | None]:
    # Each row by its own reader about its own patient, so a missing
    # select_related costs queries per row and shows up in the count.
    return [
        phi_access_record(
            accessor=user_create(
                email=f"reader{n}@example.org",
                full_name=f"Reader Person{n:03d}",
                role=Role.PROVIDER,
            ),
            patient=patient_create(
                email=f"read{n}@example.org",
                full_name=f"Read Patient{n:03d}",
                date_of_birth=dt.date(1980, 1, 1),
            ),
            resource="medical_record",
        )
        for n in range(start, start + count)
    ]


def _make_emergency_accesses(count: int, *, start: int = 0) -> list[EmergencyAccess]:
    return [
        emergency_access_grant(
            provider=provider_create(email=f"er{n}@example.org", full_name=f"Er Doctor{n:03d}"),
            patient=patient_create(
                email=f"arrived{n}@example.org",
                full_name=f"Arrived Patient{n:03d}",
                date_of_birth=dt.date(1980, 1, 1),
            ),
            reason=EMERGENCY_REASON,
        )
        for n in range(start, start + count)
    ]


@pytest.fixture
def phi_access(patient: PatientProfile, provider: ProviderProfile) -> PHIAccess:
    entry = phi_access_record(
        accessor=provider.user, patient=patient, resource="medical_record", ip_address="10.0.0.7"
    )
    assert entry is not None
    return entry


@pytest.fixture
def emergency_access(patient: PatientProfile, other_provider: ProviderProfile) -> EmergencyAccess:
    return emergency_access_grant(provider=other_provider, patient=patient, reason=EMERGENCY_REASON)


def test_phi_log_changelist_lists_who_opened_what(admin_session: Client, phi_access) -> None:
    response = admin_session.get(reverse(PHI_LOG))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Anika Patel" in page
    assert "Pat Jones" in page
    assert "10.0.0.7" in page
    assert_ssn_not_shown(page, phi_access.patient)


def test_phi_log_changelist_queries_do_not_grow_with_rows(admin_session: Client) -> None:
    url = reverse(PHI_LOG)
    _make_phi_accesses(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    with CaptureQueriesContext(connection) as few:
        admin_session.get(url)
    _make_phi_accesses(27, start=3)
    with CaptureQueriesContext(connection) as many:
        response = admin_session.get(url)

    assert PHIAccess.objects.count() == 30
    assert "Reader Person029" in response.content.decode()
    assert len(many) == len(few)


def test_phi_log_change_page_is_read_only(admin_session: Client, phi_access: PHIAccess) -> None:
    url = reverse("admin:patients_phiaccess_change", args=[phi_access.pk])

    page = admin_session.get(url)
    post = admin_session.post(url, {"resource": "nothing"})

    assert page.status_code == 200
    assert "medical_record" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert post.status_code == 403
    phi_access.refresh_from_db()
    assert phi_access.resource == "medical_record"


def test_phi_log_search_by_reader(
    admin_session: Client, phi_access: PHIAccess, other_patient, other_provider
) -> None:
    phi_access_record(accessor=other_provider.user, patient=other_patient, resource="prescription")

    response = admin_session.get(reverse(PHI_LOG), {"q": "Omar"})

    assert response.context["cl"].result_count == 1
    assert "Riley Other" in response.content.decode()
    assert "Pat Jones" not in response.content.decode()


def test_phi_log_cannot_be_added_to_or_deleted(
    admin_session: Client, phi_access: PHIAccess
) -> None:
    add = admin_session.get(reverse("admin:patients_phiaccess_add"))
    delete = admin_session.post(
        reverse("admin:patients_phiaccess_delete", args=[phi_access.pk]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert delete.status_code == 403
    assert PHIAccess.objects.filter(pk=phi_access.pk).exists()


# --- Emergency access --------------------------------------------------------------


def test_emergency_changelist_lists_grants(
    admin_session: Client, emergency_access: EmergencyAccess
) -> None:
    response = admin_session.get(reverse(EMERGENCIES))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Omar Other, DO" in page
    assert "Pat Jones" in page


def test_emergency_changelist_queries_do_not_grow_with_rows(admin_session: Client) -> None:
    url = reverse(EMERGENCIES)
    _make_emergency_accesses(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    with CaptureQueriesContext(connection) as few:
        admin_session.get(url)
    _make_emergency_accesses(27, start=3)
    with CaptureQueriesContext(connection) as many:
        response = admin_session.get(url)

    assert EmergencyAccess.objects.count() == 30
    assert "Er Doctor029" in response.content.decode()
    assert len(many) == len(few)


def test_emergency_change_page_shows_the_reason(
    admin_session: Client, emergency_access: EmergencyAccess
) -> None:
    response = admin_session.get(
        reverse("admin:patients_emergencyaccess_change", args=[emergency_access.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert EMERGENCY_REASON in page
    assert 'name="_save"' not in page


def test_emergency_search_by_reason(admin_session: Client, emergency_access, provider) -> None:
    found = admin_session.get(reverse(EMERGENCIES), {"q": "allergies unknown"})
    missed = admin_session.get(reverse(EMERGENCIES), {"q": "Anika"})

    assert found.context["cl"].result_count == 1
    assert "Omar Other, DO" in found.content.decode()
    assert missed.context["cl"].result_count == 0


def test_emergency_access_marked_reviewed_by_the_admin(
    admin_session: Client, admin_user: User, emergency_access: EmergencyAccess
) -> None:
    response = admin_session.post(
        reverse(EMERGENCIES),
        {"action": "mark_reviewed", "_selected_action": [emergency_access.pk]},
        follow=True,
    )

    assert "Marked 1 emergency access as reviewed." in response.content.decode()
    emergency_access.refresh_from_db()
    assert emergency_access.reviewed_at is not None
    assert emergency_access.reviewed_by == admin_user


def test_emergency_access_cannot_be_added_changed_or_deleted(
    admin_session: Client, emergency_access: EmergencyAccess
) -> None:
    add = admin_session.get(reverse("admin:patients_emergencyaccess_add"))
    change = admin_session.post(
        reverse("admin:patients_emergencyaccess_change", args=[emergency_access.pk]),
        {"reason": "Rewritten after the fact, to look better."},
    )
    delete = admin_session.post(
        reverse("admin:patients_emergencyaccess_delete", args=[emergency_access.pk]),
        {"post": "yes"},
    )

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    emergency_access.refresh_from_db()
    assert emergency_access.reason == EMERGENCY_REASON
