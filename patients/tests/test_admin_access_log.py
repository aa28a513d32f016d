"""Admin lists of the PHI access log and emergency accesses: what staff see when reviewing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from conftest import login_verified
from patients.models import EmergencyAccess, PHIAccess, PHIResource
from patients.services import (
    emergency_access_grant,
    emergency_access_mark_reviewed,
    phi_access_record,
)

pytestmark = pytest.mark.django_db

PHI_LOG = "admin:patients_phiaccess_changelist"
EMERGENCIES = "admin:patients_emergencyaccess_changelist"
LONG_REASON = (
    "Brought in unconscious after a road accident; no chart at this site and the "
    "family could not be reached, so allergies and medication are unknown."
)


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    return login_verified(client, admin_user)


@pytest.fixture
def grants(patient, other_patient, provider, other_provider, admin_user) -> list[EmergencyAccess]:
    pending = emergency_access_grant(provider=other_provider, patient=patient, reason=LONG_REASON)
    done = emergency_access_grant(
        provider=provider, patient=other_patient, reason="Reviewed already: " + LONG_REASON
    )
    emergency_access_mark_reviewed(access=done, reviewer=admin_user)
    return [pending, done]


def test_emergency_list_shows_a_shortened_reason_and_whether_reviewed(
    admin_session: Client, grants
) -> None:
    response = admin_session.get(reverse(EMERGENCIES))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Brought in unconscious after a road accident; no chart at t…" in page
    assert LONG_REASON not in page  # the whole reason is on the row's own page
    assert 'alt="True"' in page
    assert 'alt="False"' in page


@pytest.mark.parametrize(("isempty", "expected"), [("1", "Omar Other"), ("0", "Anika Patel")])
def test_emergency_list_filters_reviewed_and_unreviewed(
    admin_session: Client, grants, isempty: str, expected: str
) -> None:
    response = admin_session.get(reverse(EMERGENCIES), {"reviewed_at__isempty": isempty})

    assert response.context["cl"].result_count == 1
    assert expected in response.content.decode()


def test_phi_log_filters_by_when(admin_session: Client, patient, provider) -> None:
    old = phi_access_record(accessor=provider.user, patient=patient, resource=PHIResource.CHART)
    PHIAccess.objects.filter(pk=old.pk).update(accessed_at=timezone.now() - dt.timedelta(days=60))
    phi_access_record(accessor=provider.user, patient=patient, resource=PHIResource.PRESCRIPTION)
    since = (timezone.now() - dt.timedelta(days=7)).isoformat()

    response = admin_session.get(reverse(PHI_LOG), {"accessed_at__gte": since})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert [row.resource for row in response.context["cl"].result_list] == ["prescription"]
