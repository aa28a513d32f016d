"""Provider profiles and care relationships in the admin."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import user_create
from conftest import WORKING_HOURS, login_verified
from patients.services import patient_create
from providers.models import ProviderPatient, ProviderProfile, RelationshipStatus
from providers.services import provider_create, relationship_activate
from tests.admin_checks import query_count

pytestmark = pytest.mark.django_db

PROFILES = "admin:providers_providerprofile_changelist"
LINKS = "admin:providers_providerpatient_changelist"


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    # The admin site demands a verified second factor; this signs in with one.
    return login_verified(client, admin_user)


def _make_providers(count: int, *, start: int = 0) -> list[ProviderProfile]:
    return [
        provider_create(
            email=f"doctor{n}@example.org",
            full_name=f"Doctor Number{n:03d}",
            credentials="MD",
            department=f"Department {n % 4}",
            specialization=f"Specialty {n % 3}",
        )
        for n in range(start, start + count)
    ]


def _make_links(count: int, *, start: int = 0) -> list[ProviderPatient]:
    # A provider of its own for each patient, so neither side's queries are cached by accident.
    return [
        relationship_activate(
            provider=provider_create(
                email=f"carer{n}@example.org",
                full_name=f"Carer Number{n:03d}",
                department=f"Department {n % 4}",
            ),
            patient=patient_create(
                email=f"cared{n}@example.org",
                full_name=f"Cared Number{n:03d}",
                date_of_birth=dt.date(1980, 1, 1),
            ),
            start_date=dt.date(2024, 1, 1) + dt.timedelta(days=n),
        )
        for n in range(start, start + count)
    ]


# --- Provider profiles ---------------------------------------------------------


def test_profile_changelist_lists_providers(admin_session: Client, provider) -> None:
    response = admin_session.get(reverse(PROFILES))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Anika Patel" in page
    assert "dr.patel@example.org" in page
    assert "Family Medicine" in page


def test_profile_changelist_queries_do_not_grow_with_providers(admin_session: Client) -> None:
    url = reverse(PROFILES)
    _make_providers(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    few, _ = query_count(admin_session, url)
    _make_providers(27, start=3)
    many, page = query_count(admin_session, url)

    assert ProviderProfile.objects.count() == 30
    assert "Doctor Number029" in page
    assert many == few


def test_profile_change_page_shows_the_profile(admin_session: Client, provider) -> None:
    response = admin_session.get(
        reverse("admin:providers_providerprofile_change", args=[provider.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Anika Patel" in page
    assert "MD-1001" in page
    # The account is shown, not offered for re-pointing.
    assert 'name="user"' not in page


def test_profile_change_form_saves(admin_session: Client, provider) -> None:
    hours = {**WORKING_HOURS, "slot_minutes": 20}

    response = admin_session.post(
        reverse("admin:providers_providerprofile_change", args=[provider.pk]),
        {
            "credentials": "MD, PhD",
            "license_number": "MD-1001",
            "specialization": "Family Medicine",
            "department": "Primary Care",
            "office_location": "Building B, Room 7",
            "working_hours": json.dumps(hours),
        },
    )

    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.credentials == "MD, PhD"
    assert provider.office_location == "Building B, Room 7"
    assert provider.working_hours["slot_minutes"] == 20


def test_profile_search_by_name_email_and_specialization(
    admin_session: Client, provider, other_provider
) -> None:
    for term, expected, absent in [
        ("Anika", "dr.patel@example.org", "dr.other@example.org"),
        ("dr.other@", "dr.other@example.org", "dr.patel@example.org"),
        ("Dermatology", "dr.other@example.org", "dr.patel@example.org"),
        ("MD-1001", "dr.patel@example.org", "dr.other@example.org"),
    ]:
        response = admin_session.get(reverse(PROFILES), {"q": term})

        page = response.content.decode()
        assert response.context["cl"].result_count == 1, term
        assert expected in page
        assert absent not in page


def test_profile_add_refuses_a_patient_account(admin_session: Client) -> None:
    user = user_create(email="not.a.doctor@example.org", full_name="Not Doctor", role=Role.PATIENT)

    response = admin_session.post(
        reverse("admin:providers_providerprofile_add"), {"user": user.pk, "working_hours": "{}"}
    )

    assert response.status_code == 200
    assert "Choose an account with the provider role." in response.content.decode()
    assert not ProviderProfile.objects.filter(user=user).exists()


def test_profile_add_for_a_provider_account(admin_session: Client) -> None:
    user = user_create(email="new.doctor@example.org", full_name="New Doctor", role=Role.PROVIDER)

    response = admin_session.post(
        reverse("admin:providers_providerprofile_add"),
        {"user": user.pk, "credentials": "NP", "department": "Urgent Care", "working_hours": "{}"},
    )

    assert response.status_code == 302
    profile = ProviderProfile.objects.get(user=user)
    assert profile.credentials == "NP"
    assert profile.department == "Urgent Care"


def test_provider_profiles_cannot_be_deleted(admin_session: Client, provider) -> None:
    response = admin_session.post(
        reverse("admin:providers_providerprofile_delete", args=[provider.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert ProviderProfile.objects.filter(pk=provider.pk).exists()


# --- Care relationships --------------------------------------------------------


def test_relationship_changelist_names_both_sides(admin_session: Client, patient) -> None:
    response = admin_session.get(reverse(LINKS))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Anika Patel, MD" in page
    assert "Pat Jones" in page


def test_relationship_changelist_queries_do_not_grow_with_rows(admin_session: Client) -> None:
    url = reverse(LINKS)
    _make_links(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    few, _ = query_count(admin_session, url)
    _make_links(27, start=3)
    many, page = query_count(admin_session, url)

    assert ProviderPatient.objects.count() == 30
    assert "Cared Number029" in page
    assert "Carer Number029" in page
    assert many == few


def test_relationship_change_page_and_status_change(
    admin_session: Client, patient, provider
) -> None:
    link = ProviderPatient.objects.get(provider=provider, patient=patient)
    url = reverse("admin:providers_providerpatient_change", args=[link.pk])

    page = admin_session.get(url)
    response = admin_session.post(
        url,
        {
            "provider": provider.pk,
            "patient": patient.pk,
            "relationship_start_date": link.relationship_start_date.isoformat(),
            "status": RelationshipStatus.INACTIVE,
        },
    )

    assert page.status_code == 200
    assert "Pat Jones" in page.content.decode()
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.status == RelationshipStatus.INACTIVE


def test_relationship_search_by_either_name(admin_session: Client, patient, other_patient) -> None:
    by_patient = admin_session.get(reverse(LINKS), {"q": "Riley"})
    by_provider = admin_session.get(reverse(LINKS), {"q": "Anika"})

    assert by_patient.context["cl"].result_count == 1
    assert "Riley Other" in by_patient.content.decode()
    assert "Pat Jones" not in by_patient.content.decode()
    assert by_provider.context["cl"].result_count == 1
    assert "Pat Jones" in by_provider.content.decode()


def test_relationships_cannot_be_deleted(admin_session: Client, patient, provider) -> None:
    link = ProviderPatient.objects.get(provider=provider, patient=patient)

    response = admin_session.post(
        reverse("admin:providers_providerpatient_delete", args=[link.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert ProviderPatient.objects.filter(pk=link.pk).exists()
