"""Booking, rescheduling, cancelling, outcomes, time off, feeds and reminders (the services)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from patients.models import PatientProfile
from providers.models import ProviderPatient, ProviderProfile, RelationshipStatus
from providers.services import relationship_deactivate
from scheduling.exceptions import (
    CutoffPassed,
    InvalidTransition,
    NotAllowed,
    PatientDoubleBooked,
    SlotUnavailable,
)
from scheduling.models import Appointment, AppointmentStatus, AppointmentType, CalendarFeedToken
from scheduling.selectors import available_slots, feed_token_owner
from scheduling.services import (
    appointment_book,
    appointment_book_for_patient,
    appointment_cancel,
    appointment_create,
    appointment_reminders_send,
    appointment_reschedule,
    appointment_set_outcome,
    appointment_update_notes,
    calendar_feed_token_create,
    calendar_feed_token_revoke,
    time_off_create,
    time_off_delete,
)
from scheduling.tests.conftest import at, block, make_patients

pytestmark = pytest.mark.django_db

# Monday 4 March 2030, 08:00 in New York; the provider works Mon–Fri 09–12, 13–17.
MONDAY = dt.date(2030, 3, 4)
NOW = at(MONDAY, 8)
WEDNESDAY = MONDAY + dt.timedelta(days=2)


def book(
    patient: PatientProfile, provider: ProviderProfile, when: dt.datetime, **kwargs
) -> Appointment:
    return appointment_book(
        patient=patient,
        provider=provider,
        starts_at=when,
        booked_by=patient.user,
        now=NOW,
        **kwargs,
    )


# --- Booking by the patient ---------------------------------------------------------


def test_a_patient_books_an_offered_slot(
    patient: PatientProfile, provider: ProviderProfile, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(
            patient,
            provider,
            at(WEDNESDAY, 10),
            type=AppointmentType.FOLLOW_UP,
            reason="  Knee  pain ",
        )

    appointment.refresh_from_db()
    assert appointment.date_time == dt.datetime(2030, 3, 6, 15, 0, tzinfo=dt.UTC)  # stored in UTC
    assert appointment.duration_minutes == 30
    assert appointment.status == AppointmentStatus.SCHEDULED
    assert appointment.type == AppointmentType.FOLLOW_UP
    assert appointment.reason == "Knee pain"
    assert [m.to for m in mail.outbox] == [[patient.user.email]]
    assert "Wed 6 Mar 2030, 10:00 EST" in mail.outbox[0].body
    assert "America/New_York" in mail.outbox[0].body
    assert "Knee" not in mail.outbox[0].body  # no reason in an inbox


def test_the_email_waits_for_the_commit(
    patient, provider, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        book(patient, provider, at(WEDNESDAY, 10))

    assert mail.outbox == []
    assert len(callbacks) == 1


def test_booking_makes_or_reactivates_the_care_relationship(
    patient, provider, other_provider
) -> None:
    relationship_deactivate(link=provider.patient_links.get(patient=patient))

    book(patient, provider, at(WEDNESDAY, 10))
    book(patient, other_provider, at(WEDNESDAY, 11))

    statuses = dict(
        ProviderPatient.objects.filter(patient=patient).values_list("provider_id", "status")
    )
    assert statuses == {
        provider.pk: RelationshipStatus.ACTIVE,
        other_provider.pk: RelationshipStatus.ACTIVE,
    }


def test_a_taken_slot_cannot_be_booked_again(patient, other_patient, provider) -> None:
    book(patient, provider, at(WEDNESDAY, 10))

    with pytest.raises(SlotUnavailable) as caught:
        book(other_patient, provider, at(WEDNESDAY, 10))

    assert "just taken" in caught.value.message
    assert Appointment.objects.filter(provider=provider).count() == 1


def test_a_cancelled_appointment_frees_its_slot(patient, other_patient, provider) -> None:
    appointment = book(patient, provider, at(WEDNESDAY, 10))
    appointment_cancel(appointment=appointment, by=patient.user, now=NOW)

    again = book(other_patient, provider, at(WEDNESDAY, 10))

    assert again.status == AppointmentStatus.SCHEDULED


@pytest.mark.parametrize(
    "when",
    [
        at(WEDNESDAY, 12),  # lunch
        at(WEDNESDAY, 10, 15),  # between slots
        at(WEDNESDAY, 17),  # after hours
        at(MONDAY + dt.timedelta(days=5), 10),  # Saturday
        at(MONDAY, 9, 30),  # before now + two hours' lead
        at(MONDAY - dt.timedelta(days=7), 10),  # the past
        at(MONDAY + dt.timedelta(days=28), 10),  # beyond the 28-day horizon
    ],
)
def test_only_offered_slots_can_be_booked(patient, provider, when) -> None:
    with pytest.raises(SlotUnavailable):
        book(patient, provider, when)
    assert not Appointment.objects.exists()


def test_the_lead_time_and_horizon_come_from_settings(patient, provider, settings) -> None:
    settings.SCHEDULING_MIN_LEAD_MINUTES = 0
    settings.SCHEDULING_HORIZON_DAYS = 60

    book(patient, provider, at(MONDAY, 9))
    book(patient, provider, at(MONDAY + dt.timedelta(days=42), 9))

    assert Appointment.objects.count() == 2


def test_time_off_hides_its_slots_at_once(patient, provider) -> None:
    before = {s.starts_at for s in available_slots(provider, now=NOW)}
    time_off_create(
        provider=provider,
        starts_at=at(WEDNESDAY, 0),
        ends_at=at(WEDNESDAY, 23, 59),
        reason="Holiday",
        by=provider.user,
    )
    after = {s.starts_at for s in available_slots(provider, now=NOW)}

    assert before - after == {s for s in before if s.date() == WEDNESDAY}
    with pytest.raises(SlotUnavailable):
        book(patient, provider, at(WEDNESDAY, 10))


def test_removing_time_off_offers_its_slots_again(provider) -> None:
    blocked = block(provider, at(WEDNESDAY, 9), at(WEDNESDAY, 12))
    assert at(WEDNESDAY, 10) not in {s.starts_at for s in available_slots(provider, now=NOW)}

    time_off_delete(time_off=blocked, by=provider.user)

    assert at(WEDNESDAY, 10) in {s.starts_at for s in available_slots(provider, now=NOW)}


def test_time_off_belongs_to_its_provider(provider, other_provider) -> None:
    with pytest.raises(NotAllowed):
        time_off_create(
            provider=provider,
            starts_at=at(WEDNESDAY, 9),
            ends_at=at(WEDNESDAY, 10),
            by=other_provider.user,
        )
    with pytest.raises(ValidationError):
        time_off_create(
            provider=provider,
            starts_at=at(WEDNESDAY, 10),
            ends_at=at(WEDNESDAY, 9),
            by=provider.user,
        )


def test_a_patient_is_never_double_booked(patient, provider, other_provider) -> None:
    book(patient, provider, at(WEDNESDAY, 10))

    with pytest.raises(PatientDoubleBooked):
        book(patient, other_provider, at(WEDNESDAY, 10))
    # The patient's own appointments are also left out of the slots they are offered.
    offered = {s.starts_at for s in available_slots(other_provider, now=NOW, patient=patient)}
    assert at(WEDNESDAY, 10) not in offered
    assert at(WEDNESDAY, 10, 30) in offered


def test_patients_cannot_book_emergencies_or_for_others(patient, other_patient, provider) -> None:
    with pytest.raises(NotAllowed):
        book(patient, provider, at(WEDNESDAY, 10), type=AppointmentType.EMERGENCY)
    with pytest.raises(NotAllowed):
        appointment_book(
            patient=other_patient,
            provider=provider,
            starts_at=at(WEDNESDAY, 10),
            booked_by=patient.user,
            now=NOW,
        )
    assert not Appointment.objects.exists()


def test_a_reason_over_255_characters_is_refused(patient, provider) -> None:
    with pytest.raises(ValidationError) as caught:
        book(patient, provider, at(WEDNESDAY, 10), reason="x" * 256)
    assert "reason" in caught.value.message_dict


# --- Booking by the provider -----------------------------------------------------------


def test_a_provider_books_a_slot_for_their_patient_without_lead_time(patient, provider) -> None:
    appointment = appointment_book_for_patient(
        provider=provider,
        patient=patient,
        starts_at=at(MONDAY, 9),
        booked_by=provider.user,
        now=NOW,
        reason="Check",
    )
    assert appointment.date_time == at(MONDAY, 9)


def test_a_provider_books_only_for_patients_in_their_care(
    provider, other_patient, other_provider, patient
) -> None:
    with pytest.raises(NotAllowed):
        appointment_book_for_patient(
            provider=provider,
            patient=other_patient,
            starts_at=at(WEDNESDAY, 10),
            booked_by=provider.user,
            now=NOW,
        )
    with pytest.raises(NotAllowed):
        appointment_book_for_patient(
            provider=provider,
            patient=patient,
            starts_at=at(WEDNESDAY, 10),
            booked_by=other_provider.user,
            now=NOW,
        )


def test_an_emergency_is_squeezed_in_outside_the_slots(patient, provider) -> None:
    block(provider, at(WEDNESDAY, 0), at(WEDNESDAY + dt.timedelta(days=1), 0), "Conference")

    lunch = appointment_book_for_patient(
        provider=provider,
        patient=patient,
        starts_at=at(MONDAY, 12, 10),
        duration_minutes=20,
        type=AppointmentType.EMERGENCY,
        booked_by=provider.user,
        now=NOW,
    )
    in_time_off = appointment_book_for_patient(
        provider=provider,
        patient=patient,
        starts_at=at(WEDNESDAY, 19, 45),
        type=AppointmentType.EMERGENCY,
        booked_by=provider.user,
        now=NOW,
    )

    assert (lunch.date_time, lunch.duration_minutes) == (at(MONDAY, 12, 10), 20)
    assert in_time_off.duration_minutes == 30  # the provider's slot length


def test_an_emergency_may_not_overlap_booked_time(patient, other_patient, provider) -> None:
    book(other_patient, provider, at(WEDNESDAY, 10))

    with pytest.raises(SlotUnavailable):
        appointment_book_for_patient(
            provider=provider,
            patient=patient,
            starts_at=at(WEDNESDAY, 9, 50),
            duration_minutes=15,
            type=AppointmentType.EMERGENCY,
            booked_by=provider.user,
            now=NOW,
        )
    with pytest.raises(SlotUnavailable):
        appointment_book_for_patient(
            provider=provider,
            patient=patient,
            starts_at=NOW - dt.timedelta(hours=3),
            type=AppointmentType.EMERGENCY,
            booked_by=provider.user,
            now=NOW,
        )


# --- Rescheduling ---------------------------------------------------------------------


def test_rescheduling_moves_the_appointment_in_one_step(
    patient, provider, django_capture_on_commit_callbacks
) -> None:
    original = book(patient, provider, at(WEDNESDAY, 10), reason="Rash")

    with django_capture_on_commit_callbacks(execute=True):
        moved = appointment_reschedule(
            appointment=original, starts_at=at(WEDNESDAY, 14), by=patient.user, now=NOW
        )

    original.refresh_from_db()
    assert original.status == AppointmentStatus.CANCELLED
    assert original.cancellation_reason == "Rescheduled"
    assert (moved.date_time, moved.status, moved.reason) == (
        at(WEDNESDAY, 14),
        AppointmentStatus.SCHEDULED,
        "Rash",
    )
    assert moved.rescheduled_from == original
    offered = {s.starts_at for s in available_slots(provider, now=NOW)}
    assert at(WEDNESDAY, 10) in offered
    assert at(WEDNESDAY, 14) not in offered
    assert "has moved" in mail.outbox[-1].subject


def test_a_failed_reschedule_keeps_the_old_appointment(patient, other_patient, provider) -> None:
    original = book(patient, provider, at(WEDNESDAY, 10))
    book(other_patient, provider, at(WEDNESDAY, 14))

    with pytest.raises(SlotUnavailable):
        appointment_reschedule(
            appointment=original, starts_at=at(WEDNESDAY, 14), by=patient.user, now=NOW
        )

    original.refresh_from_db()
    assert original.status == AppointmentStatus.SCHEDULED
    assert original.cancellation_reason == ""
    assert Appointment.objects.filter(status=AppointmentStatus.SCHEDULED).count() == 2
    # The old slot was never released to anyone else.
    with pytest.raises(SlotUnavailable):
        book(other_patient, provider, at(WEDNESDAY, 10))


def test_rescheduling_into_an_overlapping_time_of_its_own_works(patient, provider) -> None:
    original = appointment_create(
        patient=patient, provider=provider, date_time=at(WEDNESDAY, 10), duration_minutes=60
    )

    moved = appointment_reschedule(
        appointment=original, starts_at=at(WEDNESDAY, 10, 30), by=provider.user, now=NOW
    )

    assert moved.date_time == at(WEDNESDAY, 10, 30)


def test_patients_cannot_reschedule_or_cancel_after_the_cutoff(patient, provider, settings) -> None:
    appointment = book(patient, provider, at(MONDAY + dt.timedelta(days=1), 9, 30))
    late = at(MONDAY, 10)  # 23.5 hours before

    with pytest.raises(CutoffPassed) as caught:
        appointment_cancel(appointment=appointment, by=patient.user, now=late)
    assert "24 hours" in caught.value.message
    with pytest.raises(CutoffPassed):
        appointment_reschedule(
            appointment=appointment, starts_at=at(WEDNESDAY, 10), by=patient.user, now=late
        )

    settings.SCHEDULING_CANCEL_CUTOFF_HOURS = 12
    appointment_cancel(appointment=appointment, by=patient.user, now=late)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_providers_may_cancel_after_the_cutoff_with_a_reason(
    patient, provider, django_capture_on_commit_callbacks
) -> None:
    appointment = book(patient, provider, at(MONDAY, 13))

    with pytest.raises(ValidationError):
        appointment_cancel(
            appointment=appointment, by=provider.user, reason="  ", now=at(MONDAY, 12)
        )
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(
            appointment=appointment, by=provider.user, reason="Doctor unwell", now=at(MONDAY, 12)
        )

    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == (
        AppointmentStatus.CANCELLED,
        "Doctor unwell",
    )
    assert "Doctor unwell" in mail.outbox[-1].body


def test_strangers_cannot_touch_an_appointment(
    patient, other_patient, provider, other_provider
) -> None:
    appointment = book(patient, provider, at(WEDNESDAY, 10))

    for user in (other_patient.user, other_provider.user):
        with pytest.raises(NotAllowed):
            appointment_cancel(appointment=appointment, by=user, reason="x", now=NOW)
        with pytest.raises(NotAllowed):
            appointment_reschedule(
                appointment=appointment, starts_at=at(WEDNESDAY, 11), by=user, now=NOW
            )
    with pytest.raises(NotAllowed):
        appointment_set_outcome(
            appointment=appointment,
            status=AppointmentStatus.COMPLETED,
            by=patient.user,
            now=at(WEDNESDAY, 11),
        )
    with pytest.raises(NotAllowed):
        appointment_update_notes(appointment=appointment, notes="mine", by=patient.user)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.notes) == (AppointmentStatus.SCHEDULED, "")


# --- Transitions ---------------------------------------------------------------------


@pytest.mark.parametrize("final", [AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW])
def test_outcomes_are_final(patient, provider, final) -> None:
    appointment = book(patient, provider, at(WEDNESDAY, 10))
    after = at(WEDNESDAY, 11)

    appointment_set_outcome(appointment=appointment, status=final, by=provider.user, now=after)

    for status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        with pytest.raises(InvalidTransition):
            appointment_set_outcome(
                appointment=appointment, status=status, by=provider.user, now=after
            )
    with pytest.raises(InvalidTransition):
        appointment_cancel(appointment=appointment, by=provider.user, reason="oops", now=after)
    with pytest.raises(InvalidTransition):
        appointment_reschedule(
            appointment=appointment, starts_at=at(WEDNESDAY, 14), by=provider.user, now=after
        )
    appointment.refresh_from_db()
    assert appointment.status == final


def test_a_cancelled_appointment_stays_cancelled(patient, provider) -> None:
    appointment = book(patient, provider, at(WEDNESDAY, 10))
    appointment_cancel(appointment=appointment, by=patient.user, now=NOW)

    with pytest.raises(InvalidTransition):
        appointment_set_outcome(
            appointment=appointment,
            status=AppointmentStatus.COMPLETED,
            by=provider.user,
            now=at(WEDNESDAY, 11),
        )
    with pytest.raises(InvalidTransition):
        appointment_cancel(appointment=appointment, by=patient.user, now=NOW)
    with pytest.raises(InvalidTransition):
        appointment_set_outcome(
            appointment=appointment, status=AppointmentStatus.SCHEDULED, by=provider.user, now=NOW
        )


def test_completed_from_its_day_and_no_show_once_started(patient, provider) -> None:
    appointment = book(patient, provider, at(WEDNESDAY, 15))

    with pytest.raises(NotAllowed):
        appointment_set_outcome(
            appointment=appointment,
            status=AppointmentStatus.COMPLETED,
            by=provider.user,
            now=at(WEDNESDAY - dt.timedelta(days=1), 16),
        )
    with pytest.raises(NotAllowed):
        appointment_set_outcome(
            appointment=appointment,
            status=AppointmentStatus.NO_SHOW,
            by=provider.user,
            now=at(WEDNESDAY, 14, 59),
        )

    appointment_set_outcome(
        appointment=appointment,
        status=AppointmentStatus.COMPLETED,
        by=provider.user,
        now=at(WEDNESDAY, 9),
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED


def test_notes_can_be_added_after_completion(patient, provider) -> None:
    appointment = book(patient, provider, at(WEDNESDAY, 10))
    appointment_set_outcome(
        appointment=appointment,
        status=AppointmentStatus.COMPLETED,
        by=provider.user,
        now=at(WEDNESDAY, 11),
    )

    appointment_update_notes(appointment=appointment, notes=" Advised rest. ", by=provider.user)

    appointment.refresh_from_db()
    assert appointment.notes == "Advised rest."


# --- Calendar feeds ---------------------------------------------------------------------


def test_a_new_feed_address_revokes_the_old_one(patient) -> None:
    first, first_secret = calendar_feed_token_create(user=patient.user)
    second, second_secret = calendar_feed_token_create(user=patient.user)

    assert feed_token_owner(first_secret) is None
    assert feed_token_owner(second_secret) == second
    assert first_secret not in {
        t.token_hash for t in CalendarFeedToken.objects.all()
    }  # only hashes kept

    assert calendar_feed_token_revoke(user=patient.user) == 1
    assert feed_token_owner(second_secret) is None


def test_providers_get_no_feed(provider) -> None:
    with pytest.raises(NotAllowed):
        calendar_feed_token_create(user=provider.user)


# --- Reminders ------------------------------------------------------------------------


def test_reminders_go_out_once_for_the_next_24_hours(
    provider, django_capture_on_commit_callbacks
) -> None:
    patients = make_patients(4, provider=provider)
    due = appointment_create(
        patient=patients[0], provider=provider, date_time=at(MONDAY + dt.timedelta(days=1), 7, 30)
    )
    appointment_create(
        patient=patients[1], provider=provider, date_time=at(MONDAY + dt.timedelta(days=1), 8, 30)
    )
    appointment_create(
        patient=patients[2], provider=provider, date_time=at(MONDAY, 7)
    )  # already started
    appointment_create(
        patient=patients[3],
        provider=provider,
        date_time=at(MONDAY, 10),
        status=AppointmentStatus.CANCELLED,
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = appointment_reminders_send(now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        second = appointment_reminders_send(now=NOW + dt.timedelta(minutes=15))

    assert (first, second) == (1, 0)
    assert [m.to for m in mail.outbox] == [[patients[0].user.email]]
    assert "Reminder" in mail.outbox[0].subject
    due.refresh_from_db()
    assert due.reminder_sent_at == NOW


def test_a_reminder_that_fails_to_send_is_retried(
    patient, provider, settings, django_capture_on_commit_callbacks
) -> None:
    appointment = appointment_create(patient=patient, provider=provider, date_time=at(MONDAY, 10))
    settings.EMAIL_BACKEND = "scheduling.tests.test_services.FailingBackend"

    with pytest.raises(ConnectionError), django_capture_on_commit_callbacks(execute=True):
        appointment_reminders_send(now=NOW)
    appointment.refresh_from_db()
    assert appointment.reminder_sent_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert appointment_reminders_send(now=NOW) == 1
    assert len(mail.outbox) == 1


class FailingBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise ConnectionError("mail server down")


def test_rescheduled_appointments_get_their_own_reminder(
    patient, provider, django_capture_on_commit_callbacks
) -> None:
    original = book(patient, provider, at(WEDNESDAY, 10))
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reminders_send(now=at(WEDNESDAY, 9))
    moved = appointment_reschedule(
        appointment=original,
        starts_at=at(WEDNESDAY, 14),
        by=provider.user,
        now=at(WEDNESDAY, 9, 30),
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert appointment_reminders_send(now=at(WEDNESDAY, 9, 45)) == 1
    assert moved.pk != original.pk
    assert len(mail.outbox) == 1
