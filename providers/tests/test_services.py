"""Writes of the provider portal: the profile and break-the-glass access."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from conftest import WORKING_HOURS
from patients.models import EmergencyAccess, PatientProfile
from patients.services import EMERGENCY_ACCESS_DURATION, patient_create
from providers.models import ProviderProfile
from providers.services import (
    PatientAmbiguous,
    PatientNotFound,
    emergency_access_request,
    provider_update_profile,
)
from providers.working_hours import parse_working_hours

pytestmark = pytest.mark.django_db

REASON = "Unconscious in the emergency department, allergies unknown."


def _profile_changes(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "credentials": "MD, PhD",
        "specialization": "Internal Medicine",
        "department": "Hospital Medicine",
        "office_location": "  Building C, Room 3 ",
        "phone_number": " 555-0199 ",
        "working_hours": parse_working_hours(
            {
                "timezone": "America/Chicago",
                "slot_minutes": 20,
                "weekly": {"sat": [["08:00", "12:00"]]},
            }
        ),
    }
    values.update(changes)
    return values


# --- provider_update_profile -------------------------------------------------------


def test_update_profile_saves_practice_details_phone_and_hours(provider: ProviderProfile) -> None:
    provider_update_profile(profile=provider, **_profile_changes())

    provider.refresh_from_db()
    provider.user.refresh_from_db()
    assert provider.credentials == "MD, PhD"
    assert provider.specialization == "Internal Medicine"
    assert provider.department == "Hospital Medicine"
    assert provider.office_location == "Building C, Room 3"
    assert provider.user.phone_number == "555-0199"
    assert provider.working_hours == {
        "timezone": "America/Chicago",
        "slot_minutes": 20,
        "weekly": {"sat": [["08:00", "12:00"]]},
    }
    assert provider.license_number == "MD-1001"  # not the provider's to change


def test_update_profile_accepts_the_stored_json_form_and_normalises_it(
    provider: ProviderProfile,
) -> None:
    hours = {**WORKING_HOURS, "weekly": {"mon": [["13:00", "17:00"], ["09:00", "12:00"]]}}

    provider_update_profile(profile=provider, **_profile_changes(working_hours=hours))

    provider.refresh_from_db()
    assert provider.working_hours["weekly"] == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}


def test_invalid_hours_change_nothing(provider: ProviderProfile) -> None:
    bad = {**WORKING_HOURS, "weekly": {"mon": [["09:00", "12:00"], ["10:00", "11:00"]]}}

    with pytest.raises(ValidationError) as caught:
        provider_update_profile(profile=provider, **_profile_changes(working_hours=bad))

    assert caught.value.message_dict == {
        "working_hours": ["Monday: 09:00–12:00 overlaps 10:00–11:00."]
    }
    fresh = ProviderProfile.objects.select_related("user").get(pk=provider.pk)
    assert fresh.credentials == "MD"
    assert fresh.user.phone_number == ""
    assert fresh.working_hours == WORKING_HOURS


def test_an_invalid_phone_changes_nothing(provider: ProviderProfile) -> None:
    with pytest.raises(ValidationError) as caught:
        provider_update_profile(profile=provider, **_profile_changes(phone_number="5" * 40))

    assert list(caught.value.message_dict) == ["phone_number"]
    fresh = ProviderProfile.objects.select_related("user").get(pk=provider.pk)
    assert fresh.credentials == "MD"
    assert fresh.user.phone_number == ""


# --- emergency_access_request ------------------------------------------------------------


def test_break_the_glass_grants_an_hour_to_an_unrelated_provider(
    provider: ProviderProfile, other_patient: PatientProfile
) -> None:
    before = timezone.now()

    outcome = emergency_access_request(
        provider=provider,
        full_name="riley OTHER",
        date_of_birth=dt.date(1992, 2, 3),
        reason=f"  {REASON}  ",
        ip_address="203.0.113.9",
    )

    grant = outcome.grant
    assert outcome.patient == other_patient
    assert grant is not None
    assert grant.provider == provider
    assert grant.patient == other_patient
    assert grant.reason == REASON
    assert grant.ip_address == "203.0.113.9"
    assert grant.expires_at - grant.granted_at == EMERGENCY_ACCESS_DURATION == dt.timedelta(hours=1)
    assert grant.granted_at >= before


def test_break_the_glass_is_not_needed_for_ones_own_patient(
    provider: ProviderProfile, patient: PatientProfile
) -> None:
    outcome = emergency_access_request(
        provider=provider, full_name="Pat Jones", date_of_birth=dt.date(1980, 5, 17), reason=REASON
    )

    assert outcome.patient == patient
    assert outcome.grant is None
    assert not EmergencyAccess.objects.exists()


@pytest.mark.parametrize(
    ("full_name", "born"),
    [
        ("Riley Other", dt.date(1992, 2, 4)),  # right name, wrong date
        ("Riley Othe", dt.date(1992, 2, 3)),  # a prefix is not a match
        ("Riley", dt.date(1992, 2, 3)),
        ("   ", dt.date(1992, 2, 3)),
    ],
)
def test_break_the_glass_needs_an_exact_match(
    provider: ProviderProfile, other_patient: PatientProfile, full_name: str, born: dt.date
) -> None:
    with pytest.raises(PatientNotFound):
        emergency_access_request(
            provider=provider, full_name=full_name, date_of_birth=born, reason=REASON
        )

    assert not EmergencyAccess.objects.exists()


def test_extra_spaces_in_the_name_do_not_matter(
    provider: ProviderProfile, other_patient: PatientProfile
) -> None:
    outcome = emergency_access_request(
        provider=provider,
        full_name="  Riley   Other ",
        date_of_birth=dt.date(1992, 2, 3),
        reason=REASON,
    )

    assert outcome.patient == other_patient


def test_two_patients_with_the_same_name_and_birthday_need_more_detail(
    provider: ProviderProfile, other_patient: PatientProfile
) -> None:
    other_patient.insurance_number = "INS-1"
    other_patient.save(update_fields=["insurance_number"])
    twin = patient_create(
        email="riley.two@example.org",
        full_name="Riley Other",
        date_of_birth=dt.date(1992, 2, 3),
        insurance_number="INS-2",
    )

    with pytest.raises(PatientAmbiguous):
        emergency_access_request(
            provider=provider,
            full_name="Riley Other",
            date_of_birth=dt.date(1992, 2, 3),
            reason=REASON,
        )
    outcome = emergency_access_request(
        provider=provider,
        full_name="Riley Other",
        date_of_birth=dt.date(1992, 2, 3),
        insurance_number="ins-2",
        reason=REASON,
    )

    assert outcome.patient == twin
    assert EmergencyAccess.objects.get().patient == twin


def test_a_short_reason_grants_nothing(
    provider: ProviderProfile, other_patient: PatientProfile
) -> None:
    with pytest.raises(ValidationError) as caught:
        emergency_access_request(
            provider=provider,
            full_name="Riley Other",
            date_of_birth=dt.date(1992, 2, 3),
            reason="urgent",
        )

    assert list(caught.value.message_dict) == ["reason"]
    assert not EmergencyAccess.objects.exists()
