"""Reads of prescriptions and refill requests: what counts as current, and who sees which request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from prescriptions.models import Prescription, PrescriptionStatus
from prescriptions.selectors import (
    active_prescriptions_for_patient,
    pending_refill_count_for_provider,
    pending_refills_for_provider,
    prescription_for_user,
    prescription_list_page,
    prescriptions_of_patient,
    refill_for_user,
)
from prescriptions.services import refill_request_create
from providers.services import relationship_activate, relationship_deactivate
from records.tests.fixtures import make_prescriptions, today

pytestmark = pytest.mark.django_db


def test_a_prescription_past_its_end_date_is_no_longer_active_on_the_dashboard(
    patient, provider
) -> None:
    current = make_prescriptions(patient, provider, 2)
    ended = make_prescriptions(patient, provider, 1, start=2, ended=True)[0]
    ends_today = make_prescriptions(patient, provider, 1, start=3)[0]
    Prescription.objects.filter(pk=ends_today.pk).update(end_date=today())

    active = active_prescriptions_for_patient(patient)

    assert [p.medication_name for p in active] == [
        "Medication 000",
        "Medication 001",
        "Medication 003",
    ]
    assert ended.status == PrescriptionStatus.ACTIVE  # stored so until expire_prescriptions runs
    assert active_prescriptions_for_patient(patient, limit=1) == current[:1]


def test_current_prescriptions_come_first_and_past_ones_after(
    patient, provider, prescription
) -> None:
    ended = make_prescriptions(patient, provider, 1, ended=True)[0]
    cancelled = make_prescriptions(patient, provider, 1, start=1)[0]
    Prescription.objects.filter(pk=cancelled.pk).update(status=PrescriptionStatus.CANCELLED)
    refill_request_create(prescription=prescription, requested_by=patient.user)

    lists = prescriptions_of_patient(patient)

    assert lists.current == [prescription]
    assert set(lists.past) == {ended, cancelled}
    assert lists.current[0].refill_pending is True
    assert not any(p.refill_pending for p in lists.past)


def test_a_prescription_is_read_by_its_patient_and_the_providers_with_access(
    prescription, patient, provider, other_patient, other_provider
) -> None:
    assert prescription_for_user(patient.user, prescription.pk) == prescription
    assert prescription_for_user(provider.user, prescription.pk) == prescription
    assert prescription_for_user(other_patient.user, prescription.pk) is None
    assert prescription_for_user(other_provider.user, prescription.pk) is None


def test_the_refill_queue_holds_the_pending_requests_of_the_providers_patients(
    refill, patient, provider, other_provider, other_patient
) -> None:
    theirs = make_prescriptions(other_patient, other_provider, 1)[0]
    refill_request_create(prescription=theirs, requested_by=other_patient.user)

    assert pending_refills_for_provider(provider) == [refill]
    assert pending_refill_count_for_provider(provider) == 1
    # A colleague who takes Pat into care sees her request too (covering); one who left does not.
    relationship_activate(provider=other_provider, patient=patient)
    assert refill in pending_refills_for_provider(other_provider)
    relationship_deactivate(link=provider.patient_links.get(patient=patient))
    assert pending_refills_for_provider(provider) == []
    assert pending_refill_count_for_provider(provider) == 0


def test_the_refill_queue_is_oldest_first_and_can_be_cut_short(patient, provider) -> None:
    refills = [
        refill_request_create(prescription=p, requested_by=patient.user)
        for p in make_prescriptions(patient, provider, 3)
    ]

    assert pending_refills_for_provider(provider) == refills
    assert pending_refills_for_provider(provider, limit=2) == refills[:2]


def test_a_refill_request_is_read_by_its_patient_and_the_providers_with_access(
    refill, patient, provider, other_patient, other_provider, request
) -> None:
    assert refill_for_user(patient.user, refill.pk) == refill
    assert refill_for_user(provider.user, refill.pk) == refill
    assert refill_for_user(other_patient.user, refill.pk) is None
    assert refill_for_user(other_provider.user, refill.pk) is None
    request.getfixturevalue("emergency_grant")
    assert refill_for_user(other_provider.user, refill.pk) == refill


def test_an_ended_course_is_past_on_every_page(patient, provider, prescription) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(
        start_date=today() - dt.timedelta(days=30), end_date=today() - dt.timedelta(days=1)
    )

    lists = prescriptions_of_patient(patient)

    assert lists.current == []
    assert lists.past[0].shown_status == PrescriptionStatus.COMPLETED


def test_past_prescriptions_are_a_page_at_a_time_and_current_ones_all(
    patient, provider, prescription
) -> None:
    make_prescriptions(patient, provider, 25, ended=True)

    first = prescriptions_of_patient(patient, page_size=10)
    third = prescriptions_of_patient(patient, past_page="3", page_size=10)
    every = prescriptions_of_patient(patient, every_past=True)

    assert first.current == [prescription] == third.current
    assert len(first.past) == 10 and first.past_page.paginator.count == 25
    assert len(third.past) == 5
    assert not {p.pk for p in first.past} & {p.pk for p in third.past}
    assert len(every.past) == 25
    # A missing or bad page number is the first page, never the whole history.
    assert len(prescriptions_of_patient(patient, past_page=None, page_size=10).past) == 10
    assert len(prescriptions_of_patient(patient, past_page="x", page_size=10).past) == 10


@pytest.mark.parametrize("number", [None, "x", "1", "2", "3", "9", "0", "-1"])
def test_the_patients_list_in_one_query_shows_what_the_paged_lists_show(
    patient, provider, other_patient, prescription, number, django_assert_max_num_queries
) -> None:
    make_prescriptions(patient, provider, 23, start=1, ended=True)
    # Ended yesterday (UTC): the database may not rule it out, the prescriber's day decides.
    (just_ended,) = make_prescriptions(patient, provider, 1, start=40)
    Prescription.objects.filter(pk=just_ended.pk).update(
        end_date=timezone.now().date() - dt.timedelta(days=1)
    )
    cancelled = make_prescriptions(patient, provider, 1, start=41)[0]
    Prescription.objects.filter(pk=cancelled.pk).update(status=PrescriptionStatus.CANCELLED)
    make_prescriptions(other_patient, provider, 3, start=50)
    refill_request_create(prescription=prescription, requested_by=patient.user)

    expected = prescriptions_of_patient(patient, past_page=number, page_size=10)
    with django_assert_max_num_queries(1 if number in (None, "x", "1", "2", "3") else 3):
        lists = prescription_list_page(patient, past_page=number, page_size=10)

    assert [row["pk"] for row in lists.current] == [p.pk for p in expected.current]
    assert [row["pk"] for row in lists.past] == [p.pk for p in expected.past]
    assert [row["shown_status"] for row in lists.past] == [p.shown_status for p in expected.past]
    pending = [row["refill_pending"] for row in lists.current]
    assert pending == [p.refill_pending for p in expected.current] and True in pending
    assert lists.past_page.number == expected.past_page.number
    assert lists.past_page.paginator.count == expected.past_page.paginator.count >= 24
