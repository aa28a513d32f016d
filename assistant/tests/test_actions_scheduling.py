"""Booking, cancelling and moving appointments through the assistant: real slots, real services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from assistant.actions.patient import spoken_day
from assistant.models import AIInteraction
from assistant.services import utterance_respond
from assistant.tests.helpers import NEW_YORK, Conversation, at, next_weekday, today_local
from providers.models import ProviderPatient, RelationshipStatus
from providers.services import provider_create, relationship_activate
from scheduling.models import Appointment, AppointmentStatus
from scheduling.selectors import available_slots
from scheduling.services import appointment_cancel, appointment_create, time_off_create
from scheduling.slots import parse_slot_key

pytestmark = pytest.mark.django_db


def clinic_day(min_days: int = 3) -> dt.date:
    """The first Monday-Friday at least `min_days` ahead (well past the 24-hour cut-off)."""
    day = today_local() + dt.timedelta(days=min_days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def said_date(day: dt.date) -> str:
    """ "March 20": a date the assistant reads the same whatever today is."""
    return f"{day:%B} {day.day}"


def hhmm(values) -> list[str]:
    return [v.astimezone(NEW_YORK).strftime("%H:%M") for v in values]


def rows() -> list[tuple[str, bool]]:
    return [
        (r.detected_intent, r.resulted_in_appointment)
        for r in AIInteraction.objects.order_by("interaction_timestamp")
    ]


# --- Booking ------------------------------------------------------------------------------


def test_booking_proposes_the_real_free_slots_and_books_only_after_yes(
    patient, provider, other_patient
) -> None:
    tuesday = next_weekday("tuesday")
    appointment_create(patient=other_patient, provider=provider, date_time=at(tuesday, 13))
    chat = Conversation(patient.user)

    reply = chat.say("I need to see Dr. Patel next Tuesday afternoon")

    free = available_slots(provider, patient=patient, start=at(tuesday, 12), end=at(tuesday, 17))
    assert hhmm(s.starts_at for s in free)[:5] == ["13:30", "14:00", "14:30", "15:00", "15:30"]
    assert reply.intent == "book_appointment" and reply.awaiting == "confirm"
    assert "13:30, 14:00, 14:30, 15:00 and 15:30" in reply.text
    assert "13:00" not in reply.text, "a taken slot is never offered"
    assert "Anika Patel" in reply.text
    assert not Appointment.objects.filter(patient=patient).exists()

    reply = chat.say("yes")

    booked = Appointment.objects.get(patient=patient)
    assert (booked.provider, booked.date_time, booked.status) == (
        provider,
        at(tuesday, 13, 30),
        AppointmentStatus.SCHEDULED,
    )
    assert reply.resulted_in_appointment and reply.text.startswith("Booked")
    assert any(f"/appointments/{booked.pk}/" == link.url for link in reply.links)
    assert rows() == [("book_appointment", False), ("book_appointment", True)]
    assert chat.state["awaiting"] is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("the second one", "13:30"),
        ("two thirty", "14:30"),
        ("2:30 pm", "14:30"),
        ("the last one", "15:00"),
        ("yes, book the 14:00 please", "14:00"),
    ],
)
def test_the_person_picks_one_of_the_offered_times(patient, provider, answer, expected) -> None:
    tuesday = next_weekday("tuesday")
    chat = Conversation(patient.user)
    reply = chat.say("book me with doctor patel next tuesday afternoon")
    assert "13:00, 13:30, 14:00, 14:30 and 15:00" in reply.text

    reply = chat.say(answer)

    booked = Appointment.objects.get(patient=patient)
    assert hhmm([booked.date_time]) == [expected]
    assert booked.date_time.astimezone(NEW_YORK).date() == tuesday
    assert reply.resulted_in_appointment
    assert AIInteraction.objects.filter(resulted_in_appointment=True).count() == 1


def test_the_assistant_asks_which_day_and_no_books_nothing(patient, provider) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("I'd like to book an appointment")
    assert reply.awaiting == "slot" and "Which day" in reply.text
    assert chat.state["slot"] == "when"

    reply = chat.say(f"{said_date(clinic_day())} in the morning")
    assert reply.awaiting == "confirm" and "09:00, 09:30, 10:00, 10:30 and 11:00" in reply.text

    reply = chat.say("no")
    assert "not booked" in reply.text
    assert not Appointment.objects.exists()
    assert chat.state["awaiting"] is None
    assert rows()[-1] == ("book_appointment", False)


def test_a_different_day_gets_a_new_proposal(patient, provider) -> None:
    chat = Conversation(patient.user)
    chat.say("book an appointment with dr patel next tuesday afternoon")
    wednesday = next_weekday("wednesday")

    reply = chat.say("what about wednesday morning")

    assert reply.awaiting == "confirm" and not Appointment.objects.exists()
    assert f"on {spoken_day(wednesday)} at 09:00, 09:30" in reply.text
    chat.say("yes")
    assert Appointment.objects.get().date_time == at(wednesday, 9)


@pytest.mark.parametrize("answer", ["cancel", "never mind", "no thanks"])
def test_cancel_while_times_are_offered_drops_the_booking_and_nothing_else(
    patient, provider, answer
) -> None:
    kept = appointment_create(patient=patient, provider=provider, date_time=at(clinic_day(10), 10))
    chat = Conversation(patient.user)
    chat.say("book dr patel next tuesday afternoon")
    reply = chat.say(answer)
    assert reply.intent == "book_appointment" and "not booked" in reply.text
    assert list(Appointment.objects.all()) == [kept]
    kept.refresh_from_db()
    assert kept.status == AppointmentStatus.SCHEDULED


def test_no_with_another_day_gets_a_new_proposal(patient, provider) -> None:
    chat = Conversation(patient.user)
    chat.say("book dr patel next tuesday afternoon")
    reply = chat.say("no, next wednesday morning instead")
    assert reply.awaiting == "confirm" and "09:00" in reply.text
    assert f"on {spoken_day(next_weekday('wednesday'))} at 09:00" in reply.text


def test_a_taken_time_gets_the_nearest_free_ones(patient, provider, other_patient) -> None:
    day = clinic_day()
    appointment_create(patient=other_patient, provider=provider, date_time=at(day, 14))
    reply = Conversation(patient.user).say(f"book dr patel on {said_date(day)} at 2 pm")
    assert "no free time" in reply.text
    assert "13:00, 13:30 and 14:30" in reply.text
    assert reply.awaiting == "confirm"


def test_a_day_off_gets_the_next_free_times(patient, provider) -> None:
    day = clinic_day()
    time_off_create(
        provider=provider,
        starts_at=at(day, 0),
        ends_at=at(day + dt.timedelta(days=1), 0),
        by=provider.user,
    )
    chat = Conversation(patient.user)
    reply = chat.say(f"book an appointment on {said_date(day)}")
    assert "no free time" in reply.text and "nearest free times" in reply.text
    offered = [parse_slot_key(key).astimezone(NEW_YORK) for key in chat.state["slots"]["options"]]
    assert offered and all(moment.date() > day for moment in offered)


def test_a_slot_taken_before_yes_is_refused_clearly_and_others_offered(
    patient, provider, other_patient
) -> None:
    tuesday = next_weekday("tuesday")
    chat = Conversation(patient.user)
    chat.say("book dr patel next tuesday afternoon")
    # Someone else books 13:00 on the page while the assistant waits for the answer.
    appointment_create(patient=other_patient, provider=provider, date_time=at(tuesday, 13))

    reply = chat.say("yes")

    assert "13:00 is no longer free" in reply.text
    assert reply.awaiting == "confirm" and "13:30" in reply.text
    assert not reply.resulted_in_appointment
    assert not Appointment.objects.filter(patient=patient).exists()
    reply = chat.say("yes")
    assert Appointment.objects.get(patient=patient).date_time == at(tuesday, 13, 30)
    assert rows() == [
        ("book_appointment", False),
        ("book_appointment", False),
        ("book_appointment", True),
    ]


def test_a_patient_already_booked_then_is_told_so(patient, provider, other_provider) -> None:
    tuesday = next_weekday("tuesday")
    chat = Conversation(patient.user)
    chat.say("book dr patel next tuesday afternoon")
    appointment_create(patient=patient, provider=other_provider, date_time=at(tuesday, 13))

    reply = chat.say("the first one")

    assert "You already have an appointment at that time" in reply.text
    assert Appointment.objects.filter(patient=patient).count() == 1
    assert reply.awaiting == "confirm"


def test_booking_with_a_provider_the_patient_has_no_relation_with_mirrors_the_page(
    patient, other_provider
) -> None:
    # The booking page lists every provider of the practice; booking starts the relationship.
    assert not ProviderPatient.objects.filter(provider=other_provider, patient=patient).exists()
    chat = Conversation(patient.user)
    reply = chat.say("book an appointment with doctor omar other next tuesday morning")
    assert "Omar Other" in reply.text and reply.awaiting == "confirm"
    chat.say("yes")
    booked = Appointment.objects.get(patient=patient)
    assert booked.provider == other_provider
    assert (
        ProviderPatient.objects.get(provider=other_provider, patient=patient).status
        == RelationshipStatus.ACTIVE
    )


def test_a_provider_not_taking_online_bookings_is_refused(patient) -> None:
    no_hours = provider_create(email="dr.nohours@example.org", full_name="Nina Nohours")
    relationship_activate(provider=no_hours, patient=patient)
    reply = Conversation(patient.user).say("book an appointment with doctor nohours next tuesday")
    assert "does not take bookings online" in reply.text
    assert reply.awaiting is None and not Appointment.objects.exists()


def test_patient_with_several_providers_is_asked_which(patient, provider, other_provider) -> None:
    relationship_activate(provider=other_provider, patient=patient)
    chat = Conversation(patient.user)
    reply = chat.say("book an appointment next tuesday morning")
    assert reply.awaiting == "slot" and "Anika Patel" in reply.text and "Omar Other" in reply.text
    reply = chat.say("doctor other")
    assert reply.awaiting == "confirm" and reply.text.startswith("Omar Other")
    chat.say("yes")
    assert Appointment.objects.get().provider == other_provider


def test_a_forged_state_cannot_book_with_a_provider_the_page_would_not_offer(patient) -> None:
    hidden = provider_create(email="dr.hidden@example.org", full_name="Hugo Hidden")
    state = {
        "intent": "book_appointment",
        "awaiting": "confirm",
        "slots": {"provider_id": str(hidden.pk), "options": ["2030-01-08T15:00:00Z"]},
    }
    reply, _state = utterance_respond(user=patient.user, text="yes", state=state)
    assert "no longer takes bookings online" in reply.text
    assert not Appointment.objects.exists()


def test_an_emergency_while_confirming_books_nothing(patient, provider) -> None:
    chat = Conversation(patient.user)
    chat.say("book dr patel next tuesday afternoon")
    reply = chat.say("yes but i have crushing chest pain right now")
    assert reply.emergency and "911" in reply.text
    assert not Appointment.objects.exists()


# --- Cancelling ---------------------------------------------------------------------------


def test_cancel_confirms_first_then_cancels_through_the_service(patient, provider) -> None:
    appointment = appointment_create(
        patient=patient, provider=provider, date_time=at(clinic_day(), 10)
    )
    chat = Conversation(patient.user)

    reply = chat.say("cancel my appointment")

    assert reply.intent == "cancel_appointment" and reply.awaiting == "confirm"
    assert "10:00 with Anika Patel" in reply.text
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED

    reply = chat.say("yes")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason == "Cancelled through the assistant."
    assert reply.text.startswith("Cancelled") and not reply.resulted_in_appointment


def test_no_keeps_the_appointment(patient, provider) -> None:
    appointment = appointment_create(
        patient=patient, provider=provider, date_time=at(clinic_day(), 10)
    )
    chat = Conversation(patient.user)
    chat.say("please cancel my appointment")
    reply = chat.say("no")
    assert "stays as it is" in reply.text
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED


def test_several_appointments_are_listed_and_one_picked(patient, provider) -> None:
    first = appointment_create(patient=patient, provider=provider, date_time=at(clinic_day(3), 10))
    second = appointment_create(
        patient=patient, provider=provider, date_time=at(clinic_day(10), 11)
    )
    chat = Conversation(patient.user)
    reply = chat.say("cancel my appointment")
    assert reply.awaiting == "slot" and "1: " in reply.text and "2: " in reply.text
    reply = chat.say("the second one")
    assert reply.awaiting == "confirm" and "11:00" in reply.text
    chat.say("yes")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (
        AppointmentStatus.SCHEDULED,
        AppointmentStatus.CANCELLED,
    )


def test_the_day_said_picks_the_appointment(patient, provider) -> None:
    keep = appointment_create(patient=patient, provider=provider, date_time=at(clinic_day(3), 10))
    drop_day = clinic_day(10)
    drop = appointment_create(patient=patient, provider=provider, date_time=at(drop_day, 11))
    chat = Conversation(patient.user)
    reply = chat.say(f"cancel my appointment on {said_date(drop_day)}")
    assert reply.awaiting == "confirm" and "11:00" in reply.text
    chat.say("yes")
    keep.refresh_from_db()
    drop.refresh_from_db()
    assert (keep.status, drop.status) == (AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED)


def test_cancel_after_the_cutoff_is_refused_before_asking(patient, provider) -> None:
    soon = (timezone.now() + dt.timedelta(hours=5)).replace(second=0, microsecond=0)
    appointment = appointment_create(patient=patient, provider=provider, date_time=soon)
    reply = Conversation(patient.user).say("cancel my appointment")
    assert "less than 24 hours" in reply.text and "call the practice" in reply.text
    assert reply.awaiting is None
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED


def test_the_services_cutoff_refusal_becomes_a_reply(patient, provider, settings) -> None:
    appointment = appointment_create(
        patient=patient, provider=provider, date_time=at(clinic_day(), 10)
    )
    # Booked a while ago: past the minutes after booking when any change is allowed.
    Appointment.objects.filter(pk=appointment.pk).update(
        created_at=timezone.now() - dt.timedelta(days=1)
    )
    chat = Conversation(patient.user)
    assert chat.say("cancel my appointment").awaiting == "confirm"
    # The cut-off moves (or time passes) between the question and the yes.
    settings.SCHEDULING_CANCEL_CUTOFF_HOURS = 24 * 30
    reply = chat.say("yes")
    assert "Please call the practice" in reply.text
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED


def test_an_appointment_cancelled_meanwhile_is_refused_clearly(patient, provider) -> None:
    appointment = appointment_create(
        patient=patient, provider=provider, date_time=at(clinic_day(), 10)
    )
    chat = Conversation(patient.user)
    chat.say("cancel my appointment")
    appointment_cancel(appointment=appointment, by=provider.user, reason="Clinic closed")
    reply = chat.say("yes")
    assert "can no longer be changed" in reply.text


def test_nothing_to_cancel(patient) -> None:
    reply = Conversation(patient.user).say("cancel my appointment")
    assert "no upcoming appointments" in reply.text and reply.awaiting is None


def test_someone_elses_appointment_cannot_be_cancelled(
    patient, other_patient, other_provider
) -> None:
    theirs = appointment_create(
        patient=other_patient, provider=other_provider, date_time=at(clinic_day(), 10)
    )
    reply = Conversation(patient.user).say("cancel my appointment with doctor other")
    assert "no upcoming appointments" in reply.text and "Omar" not in reply.text
    # Even a forged conversation state naming it finds nothing.
    state = {
        "intent": "cancel_appointment",
        "awaiting": "confirm",
        "slots": {"appointment_id": str(theirs.pk)},
    }
    reply, _state = utterance_respond(user=patient.user, text="yes", state=state)
    assert "couldn't find that appointment" in reply.text
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.SCHEDULED


# --- Moving -------------------------------------------------------------------------------


def test_reschedule_moves_atomically_after_yes(patient, provider) -> None:
    old_day = clinic_day(3)
    new_day = clinic_day(10)
    appointment = appointment_create(
        patient=patient, provider=provider, date_time=at(old_day, 11), reason="checkup"
    )
    chat = Conversation(patient.user)

    reply = chat.say(f"move my appointment on {said_date(old_day)} to {said_date(new_day)} at 10")

    assert reply.intent == "reschedule_appointment" and reply.awaiting == "confirm"
    assert "Shall I move it there?" in reply.text and "10:00" in reply.text
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED

    reply = chat.say("yes")

    appointment.refresh_from_db()
    moved = Appointment.objects.get(rescheduled_from=appointment)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason == "Rescheduled"
    assert (moved.date_time, moved.status, moved.reason) == (
        at(new_day, 10),
        AppointmentStatus.SCHEDULED,
        "checkup",
    )
    assert reply.resulted_in_appointment and reply.text.startswith("Moved")


def test_reschedule_asks_for_the_new_day_and_offers_its_free_times(patient, provider) -> None:
    appointment = appointment_create(
        patient=patient, provider=provider, date_time=at(clinic_day(3), 11)
    )
    new_day = clinic_day(10)
    chat = Conversation(patient.user)
    reply = chat.say("i need to reschedule my appointment")
    assert reply.awaiting == "slot" and "When would you like to move" in reply.text
    reply = chat.say(f"{said_date(new_day)} in the morning")
    assert reply.awaiting == "confirm" and "09:00, 09:30, 10:00, 10:30 and 11:00" in reply.text
    chat.say("the second one")
    assert Appointment.objects.get(rescheduled_from=appointment).date_time == at(new_day, 9, 30)


@pytest.mark.parametrize("answer", ["next week", "tomorrow", "the earliest free time"])
def test_a_bare_date_answers_the_move_question_instead_of_starting_a_booking(
    patient, provider, answer
) -> None:
    appointment_create(patient=patient, provider=provider, date_time=at(clinic_day(3), 11))
    chat = Conversation(patient.user)
    assert chat.say("i need to reschedule my appointment").awaiting == "slot"

    reply = chat.say(answer)

    assert reply.intent == "reschedule_appointment" and reply.awaiting == "confirm"
    assert "Shall I move it" in reply.text
    # The dialogue knew what the answer was for: not a low-confidence guess to review.
    assert AIInteraction.objects.order_by("-interaction_timestamp").first().confidence_score == 1.0


def test_reschedule_after_the_cutoff_is_refused(patient, provider) -> None:
    soon = (timezone.now() + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    appointment = appointment_create(patient=patient, provider=provider, date_time=soon)
    reply = Conversation(patient.user).say(f"move my appointment to {said_date(clinic_day(10))}")
    assert "can no longer be moved online" in reply.text and reply.awaiting is None
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED
    assert Appointment.objects.count() == 1


def test_reschedule_to_a_time_taken_meanwhile_keeps_the_old_appointment(
    patient, provider, other_patient
) -> None:
    appointment = appointment_create(
        patient=patient, provider=provider, date_time=at(clinic_day(3), 11)
    )
    new_day = clinic_day(10)
    chat = Conversation(patient.user)
    chat.say(f"move my appointment to {said_date(new_day)} at 10")
    appointment_create(patient=other_patient, provider=provider, date_time=at(new_day, 10))

    reply = chat.say("yes")

    assert "10:00 is no longer free" in reply.text and reply.awaiting == "confirm"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED
    assert not Appointment.objects.filter(rescheduled_from=appointment).exists()


def test_someone_elses_appointment_cannot_be_moved(patient, other_patient, other_provider) -> None:
    theirs = appointment_create(
        patient=other_patient, provider=other_provider, date_time=at(clinic_day(), 10)
    )
    state = {
        "intent": "reschedule_appointment",
        "awaiting": "confirm",
        "slots": {"appointment_id": str(theirs.pk), "options": ["2030-01-08T15:00:00Z"]},
    }
    reply, _state = utterance_respond(user=patient.user, text="yes", state=state)
    assert "couldn't find that appointment" in reply.text
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.SCHEDULED
    assert Appointment.objects.count() == 1
