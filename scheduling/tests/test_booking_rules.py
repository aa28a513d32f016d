"""Booking shows its rules up front: slots that start soon, a review step, a grace period, moved appointments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.exceptions import CutoffPassed
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule
from scheduling.slots import slot_key
from scheduling.tests.conftest import at

pytestmark = pytest.mark.django_db


def _book_url(provider) -> str:
    return reverse("scheduling:patient-book-provider", kwargs={"provider_id": provider.pk})


@pytest.fixture
def everything_is_soon(settings):
    # A cut-off longer than the booking horizon: every offered slot starts "soon".
    settings.SCHEDULING_CANCEL_CUTOFF_HOURS = 24 * 40
    settings.SCHEDULING_MIN_LEAD_MINUTES = 0


def _marked_soon(page: str, starts_at: dt.datetime) -> bool:
    """Whether the slot's label carries the "soon" mark."""
    radio = page.index(f'value="{slot_key(starts_at)}"')
    return "data-soon" in page[radio : page.index("</label>", radio)]


def test_slots_inside_the_cutoff_are_marked_and_the_rule_is_said(patient_client, provider, soon_day, settings) -> None:
    page = patient_client.get(_book_url(provider), {"week": soon_day.isoformat()}).content.decode()
    assert not _marked_soon(page, at(soon_day, 10))  # three days ahead is outside the usual 24 hours
    settings.SCHEDULING_CANCEL_CUTOFF_HOURS = 24 * 40
    page = patient_client.get(_book_url(provider), {"week": soon_day.isoformat()}).content.decode()
    assert _marked_soon(page, at(soon_day, 10))
    assert "you can change or cancel them online only for 15 minutes after booking" in page


def test_the_review_step_shows_everything_and_books_nothing(patient_client, patient, provider, soon_day) -> None:
    data = {"slot": slot_key(at(soon_day, 10)), "type": "follow-up", "reason": "Knee pain", "step": "review"}
    response = patient_client.post(_book_url(provider), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Review your appointment" in page
    for expected in (provider.display_name, "Knee pain", "Follow-up", provider.office_location, "until"):
        assert expected in page
    assert not Appointment.objects.filter(patient=patient).exists()
    # Going back keeps what was chosen.
    back = patient_client.post(_book_url(provider), {**data, "step": "edit"}).content.decode()
    assert 'value="Knee pain"' in back
    assert f'value="{data["slot"]}" checked' in back
    assert not Appointment.objects.filter(patient=patient).exists()
    # Confirming books it.
    done = patient_client.post(_book_url(provider), {**data, "step": "confirm"})
    assert done.status_code == 302
    assert Appointment.objects.get(patient=patient).reason == "Knee pain"


def test_review_of_a_slot_that_starts_soon_states_the_grace_period(patient_client, provider, soon_day, everything_is_soon) -> None:
    data = {"slot": slot_key(at(soon_day, 10)), "type": "regular", "reason": "", "step": "review"}
    page = patient_client.post(_book_url(provider), data).content.decode()
    assert "for 15 minutes after booking" in page


def test_a_mistaken_booking_can_be_cancelled_in_its_first_minutes(patient, provider, soon_day, everything_is_soon) -> None:
    booked = appointment_book(patient=patient, provider=provider, starts_at=at(soon_day, 10), booked_by=patient.user)
    appointment_cancel(appointment=booked, by=patient.user, now=booked.created_at + dt.timedelta(minutes=14))
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED


def test_after_the_grace_period_the_cutoff_applies_again(patient, provider, soon_day, everything_is_soon) -> None:
    booked = appointment_book(patient=patient, provider=provider, starts_at=at(soon_day, 10), booked_by=patient.user)
    with pytest.raises(CutoffPassed):
        appointment_cancel(appointment=booked, by=patient.user, now=booked.created_at + dt.timedelta(minutes=16))
    with pytest.raises(CutoffPassed):
        appointment_reschedule(
            appointment=booked, starts_at=at(soon_day, 11), by=patient.user, now=booked.created_at + dt.timedelta(minutes=16)
        )
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.SCHEDULED


def test_the_detail_page_offers_changes_during_the_grace_period_and_says_until_when(
    patient_client, patient, provider, soon_day, everything_is_soon
) -> None:
    booked = appointment_book(patient=patient, provider=provider, starts_at=at(soon_day, 10), booked_by=patient.user)
    page = patient_client.get(reverse("scheduling:patient-appointment-detail", args=[booked.pk])).content.decode()
    assert "Reschedule" in page and "Cancel appointment" in page
    assert 'id="grace-note"' in page
    listing = patient_client.get(reverse("scheduling:patient-appointments")).content.decode()
    assert reverse("scheduling:patient-appointment-cancel", args=[booked.pk]) in listing
    Appointment.objects.filter(pk=booked.pk).update(created_at=timezone.now() - dt.timedelta(minutes=30))
    page = patient_client.get(reverse("scheduling:patient-appointment-detail", args=[booked.pk])).content.decode()
    assert "Cancel appointment" not in page
    assert "please call the practice" in page


def test_a_moved_appointment_links_to_the_new_one_and_offers_no_calendar_file(patient_client, patient, provider, soon_day) -> None:
    old = appointment_book(patient=patient, provider=provider, starts_at=at(soon_day, 10), booked_by=patient.user)
    new = appointment_reschedule(appointment=old, starts_at=at(soon_day, 14), by=patient.user)
    page = patient_client.get(reverse("scheduling:patient-appointment-detail", args=[old.pk])).content.decode()
    assert 'id="moved-to"' in page
    assert reverse("scheduling:patient-appointment-detail", args=[new.pk]) in page
    assert reverse("scheduling:patient-appointment-ics", args=[old.pk]) not in page
    current = patient_client.get(reverse("scheduling:patient-appointment-detail", args=[new.pk])).content.decode()
    assert reverse("scheduling:patient-appointment-ics", args=[new.pk]) in current
