"""Reads of the provider portal: the dashboard's day, the patient search, the provider's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from messaging.services import message_create
from patients.models import PatientProfile
from patients.services import patient_create
from providers.models import ProviderProfile
from providers.selectors import (
    patients_of_provider_matching,
    provider_dashboard,
    provider_timezone,
    recent_patients_of_provider,
)
from providers.services import relationship_activate, relationship_deactivate
from providers.tests.factories import make_patients, make_unread_messages
from scheduling.services import appointment_create

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def test_the_dashboard_day_is_the_providers_local_day(
    provider: ProviderProfile, patient: PatientProfile
) -> None:
    # 01:30 UTC on June 3 is still June 2 in New York.
    now = dt.datetime(2025, 6, 3, 1, 30, tzinfo=dt.UTC)
    early = appointment_create(
        patient=patient,
        provider=provider,
        date_time=dt.datetime(2025, 6, 2, 0, 30, tzinfo=NEW_YORK),
    )
    late = appointment_create(
        patient=patient,
        provider=provider,
        date_time=dt.datetime(2025, 6, 2, 23, 30, tzinfo=NEW_YORK),
    )
    appointment_create(  # June 3 in New York, though June 3 in UTC too
        patient=patient,
        provider=provider,
        date_time=dt.datetime(2025, 6, 3, 0, 30, tzinfo=NEW_YORK),
    )
    appointment_create(  # June 1 in New York, though June 2 in UTC
        patient=patient,
        provider=provider,
        date_time=dt.datetime(2025, 6, 1, 22, 0, tzinfo=NEW_YORK),
    )

    board = provider_dashboard(provider, now=now)

    assert board.today == dt.date(2025, 6, 2)
    assert [a["pk"] for a in board.appointments] == [early.pk, late.pk]
    assert board.chartable_patient_ids == {patient.pk}


def test_a_former_patients_appointment_is_listed_but_not_chartable(
    provider: ProviderProfile, patient: PatientProfile
) -> None:
    now = dt.datetime(2025, 6, 2, 15, 0, tzinfo=dt.UTC)
    appointment_create(
        patient=patient,
        provider=provider,
        date_time=dt.datetime(2025, 6, 2, 14, 0, tzinfo=NEW_YORK),
    )
    relationship_deactivate(link=provider.patient_links.get(patient=patient))

    board = provider_dashboard(provider, now=now)

    assert [a["patient_id"] for a in board.appointments] == [patient.pk]
    assert [a["patient_name"] for a in board.appointments] == [patient.full_name]
    assert [a["chartable"] for a in board.appointments] == [False]
    assert board.chartable_patient_ids == frozenset()
    assert board.patient_count == 0


def test_provider_timezone_falls_back_to_the_site_zone(provider: ProviderProfile) -> None:
    assert provider_timezone(provider) == NEW_YORK
    provider.working_hours = {}
    assert provider_timezone(provider) == ZoneInfo("UTC")
    provider.working_hours = {"timezone": "Not/AZone"}
    assert provider_timezone(provider) == ZoneInfo("UTC")


def test_patient_search_matches_every_word_in_any_case(provider: ProviderProfile) -> None:
    make_patients(provider, 3)
    patient_create(
        email="x@example.org", full_name="Patient Number001", date_of_birth=dt.date(1990, 1, 1)
    )

    names = [p.full_name for p in patients_of_provider_matching(provider, "number00 PATIENT")]
    one = [p.full_name for p in patients_of_provider_matching(provider, "  number001 ")]

    assert names == ["Patient Number000", "Patient Number001", "Patient Number002"]
    assert one == ["Patient Number001"]  # the namesake outside the provider's care is not found


def test_recent_patients_are_the_newest_relationships(
    provider: ProviderProfile, other_provider: ProviderProfile
) -> None:
    patients = make_patients(provider, 7)
    stranger = patient_create(
        email="s@example.org", full_name="Stranger", date_of_birth=dt.date(1990, 1, 1)
    )
    relationship_activate(provider=other_provider, patient=stranger, start_date=dt.date(2030, 1, 1))

    recent = recent_patients_of_provider(provider, limit=3)

    assert recent == [patients[6], patients[5], patients[4]]


def test_the_dashboard_lists_the_newest_patients_and_latest_unread_with_their_counts(
    provider: ProviderProfile, other_provider: ProviderProfile
) -> None:
    patients = make_patients(provider, 7)
    stranger = patient_create(
        email="s@example.org", full_name="Stranger", date_of_birth=dt.date(1990, 1, 1)
    )
    relationship_activate(provider=other_provider, patient=stranger, start_date=dt.date(2030, 1, 1))
    sent = make_unread_messages(provider, patients)
    message_create(sender=stranger.user, receiver=other_provider.user, content="Not for you")

    board = provider_dashboard(provider, recent_limit=3)

    newest = recent_patients_of_provider(provider, limit=3)
    assert board.recent_patients == [{"pk": p.pk, "full_name": p.full_name} for p in newest]
    assert board.patient_count == 7
    assert board.unread_count == 7
    latest = sorted(sent, key=lambda m: m.sent_at, reverse=True)[:5]
    assert [m["content"] for m in board.unread_messages] == [m.content for m in latest]
    assert [m["sent_at"] for m in board.unread_messages] == [m.sent_at for m in latest]
    assert board.unread_messages[0]["sender_name"] == latest[0].sender.full_name
