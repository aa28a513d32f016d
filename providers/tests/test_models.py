"""ProviderProfile.clean() refuses malformed working hours, whoever writes them."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conftest import WORKING_HOURS, login_verified
from providers.models import ProviderProfile
from providers.services import provider_create

pytestmark = pytest.mark.django_db


def test_provider_create_refuses_overlapping_hours() -> None:
    hours = {**WORKING_HOURS, "weekly": {"mon": [["09:00", "12:00"], ["11:00", "14:00"]]}}

    with pytest.raises(ValidationError) as caught:
        provider_create(email="new.doc@example.org", full_name="New Doc", working_hours=hours)

    assert caught.value.message_dict == {
        "working_hours": ["Monday: 09:00–12:00 overlaps 11:00–14:00."]
    }
    assert not User.objects.filter(email="new.doc@example.org").exists()


def test_clean_normalises_the_stored_hours(provider: ProviderProfile) -> None:
    provider.working_hours = {
        "slot_minutes": 15,
        "timezone": "America/Chicago",
        "weekly": {"fri": [["13:00", "15:00"], ["08:00", "09:00"]], "sat": []},
    }

    provider.full_clean()

    assert provider.working_hours == {
        "timezone": "America/Chicago",
        "slot_minutes": 15,
        "weekly": {"fri": [["08:00", "09:00"], ["13:00", "15:00"]]},
    }


def test_empty_hours_mean_not_set_and_are_valid(provider: ProviderProfile) -> None:
    provider.working_hours = {}

    provider.full_clean()

    assert provider.working_hours == {}


def test_every_problem_lands_on_the_working_hours_field(provider: ProviderProfile) -> None:
    provider.working_hours = {"timezone": "Atlantis/Central", "slot_minutes": 30, "weekly": {}}

    with pytest.raises(ValidationError) as caught:
        provider.full_clean()

    assert list(caught.value.message_dict) == ["working_hours"]
    assert "“Atlantis/Central” is not a known time zone" in caught.value.messages[0]


def test_admin_shows_the_working_hours_error_and_saves_nothing(
    client: Client, admin_user: User, provider: ProviderProfile
) -> None:
    login_verified(client, admin_user)
    hours = {**WORKING_HOURS, "slot_minutes": 25}

    response = client.post(
        reverse("admin:providers_providerprofile_change", args=[provider.pk]),
        {
            "credentials": "MD",
            "license_number": "MD-1001",
            "working_hours": json.dumps(hours),
        },
    )

    assert response.status_code == 200
    assert (
        "The slot length must be one of 10, 15, 20, 30, 45, 60 minutes."
        in response.content.decode()
    )
    provider.refresh_from_db()
    assert provider.working_hours == WORKING_HOURS
