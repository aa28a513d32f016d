"""Fixtures of the messaging tests."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from conftest import PASSWORD
from patients.models import PatientProfile
from patients.services import patient_create
from providers.models import ProviderProfile
from providers.services import relationship_activate

BADGE_MIDDLEWARE = "messaging.middleware.UnreadBadgeMiddleware"
_numbers = itertools.count()


@pytest.fixture(autouse=True)
def _badge_middleware(settings) -> None:
    # The lead adds it to MIDDLEWARE; until then the tests install it, so the
    # pinned query counts include the badge as every portal page will.
    if BADGE_MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, BADGE_MIDDLEWARE]


@pytest.fixture
def make_patient_of():
    """A new patient in the care of `provider`."""

    def make(provider: ProviderProfile, *, name: str | None = None) -> PatientProfile:
        n = next(_numbers)
        profile = patient_create(
            email=f"patient{n}@example.org",
            full_name=name or f"Patient Number{n:03d}",
            password=PASSWORD,
            date_of_birth=dt.date(1970, 1, 1),
            email_verified=True,
        )
        relationship_activate(provider=provider, patient=profile)
        return profile

    return make
