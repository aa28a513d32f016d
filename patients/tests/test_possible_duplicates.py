"""A second profile with an SSN already on file: flagged, listed for staff, resolved, audited."""

from __future__ import annotations

import json

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conftest import login_verified
from patients.models import DuplicateStatus, PHIAccess, PossibleDuplicate
from patients.services import patient_update_profile

pytestmark = pytest.mark.django_db

PERSONA_SSN = "123-45-6789"  # the patient persona's
CHANGELIST = "admin:patients_possibleduplicate_changelist"


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    return login_verified(client, admin_user)


@pytest.fixture
def pair(patient, other_patient) -> PossibleDuplicate:
    patient_update_profile(profile=other_patient, ssn=PERSONA_SSN)
    return PossibleDuplicate.objects.get()


def _no_ssn_digits(text: str) -> None:
    assert PERSONA_SSN not in text
    assert PERSONA_SSN.replace("-", "") not in text
    assert "123-45" not in text and "45-6789" not in text


def test_staff_list_shows_both_profiles_with_masked_ssns(
    admin_session: Client, pair, patient, other_patient
) -> None:
    response = admin_session.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert patient.full_name in page and other_patient.full_name in page
    assert page.count("***-**-6789") == 2
    assert "To review" in page
    _no_ssn_digits(page)


def test_staff_see_the_two_records_side_by_side_and_the_view_is_logged(
    admin_session: Client, admin_user, pair, patient, other_patient
) -> None:
    response = admin_session.get(reverse("admin:patients_possibleduplicate_change", args=[pair.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="possible-duplicate"' in page
    for profile in (patient, other_patient):
        assert profile.user.email in page
        assert profile.date_of_birth.isoformat() in page
        assert reverse("admin:patients_patientprofile_change", args=[profile.pk]) in page
    assert page.count("***-**-6789") == 2
    _no_ssn_digits(page)
    assert set(
        PHIAccess.objects.filter(accessor=admin_user).values_list("patient_id", flat=True)
    ) == {
        patient.pk,
        other_patient.pk,
    }


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("mark_not_duplicate", DuplicateStatus.NOT_DUPLICATE),
        ("mark_resolved", DuplicateStatus.RESOLVED),
    ],
)
def test_staff_close_a_pair_and_the_audit_trail_says_who(
    admin_session: Client, admin_user, pair, action: str, status: str
) -> None:
    response = admin_session.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [str(pair.pk)]}, follow=True
    )

    assert response.status_code == 200
    assert "Closed 1 pair." in response.content.decode()
    pair.refresh_from_db()
    assert (pair.status, pair.resolved_by) == (status, admin_user)
    assert pair.resolved_at is not None
    entry = LogEntry.objects.get_for_object(pair).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == admin_user
    assert entry.changes_dict["status"] == ["open", status]


def test_a_closed_pair_is_not_reopened_by_a_second_action(
    admin_session: Client, admin_user, pair
) -> None:
    url = reverse(CHANGELIST)
    admin_session.post(url, {"action": "mark_not_duplicate", "_selected_action": [str(pair.pk)]})
    admin_session.post(url, {"action": "mark_resolved", "_selected_action": [str(pair.pk)]})

    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.NOT_DUPLICATE


def test_staff_cannot_add_or_delete_pairs(admin_session: Client, pair) -> None:
    assert admin_session.get(reverse("admin:patients_possibleduplicate_add")).status_code == 403
    assert (
        admin_session.post(
            reverse("admin:patients_possibleduplicate_delete", args=[pair.pk])
        ).status_code
        == 403
    )
    assert PossibleDuplicate.objects.filter(pk=pair.pk).exists()


def test_the_patient_page_flags_the_pair_and_the_audit_trail_names_the_patient(
    patient_client: Client, patient, other_patient
) -> None:
    from patients.tests.test_views import _profile_data

    patient_client.post(reverse("patients:profile"), _profile_data(ssn="234 56 7890"))

    pair = PossibleDuplicate.objects.get()
    assert (pair.patient, pair.existing) == (patient, other_patient)
    created = LogEntry.objects.get_for_object(pair).get(action=LogEntry.Action.CREATE)
    assert created.actor == patient.user
    # Nothing in the audit trail gives the number away, neither the pair's nor the profile's.
    profile_type = ContentType.objects.get_for_model(patient)
    for entry in LogEntry.objects.filter(content_type__in=[profile_type, created.content_type]):
        dumped = json.dumps([entry.changes, entry.serialized_data, entry.additional_data])
        assert "234-56" not in dumped and "234567890" not in dumped and "7890" not in dumped


def test_the_admin_index_links_to_the_open_pairs(admin_session: Client, pair) -> None:
    index = admin_session.get(reverse("admin:index")).content.decode()
    link = reverse(CHANGELIST) + "?status__exact=open"

    assert f'href="{link}"' in index
    listed = admin_session.get(link)
    assert listed.context["cl"].result_count == 1
