"""What people call things: "my next appointment", "the one with Dr Chen", "yes" to the one
read out, a medicine they do not have, a provider who is not theirs; the provider's side:
patients who share a name, and the day's visits; and what every exchange came to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from assistant.models import AIInteraction
from assistant.tests.helpers import NEW_YORK, Conversation, at, next_weekday
from conftest import PASSWORD
from messaging.models import Message
from patients.services import patient_create
from prescriptions.models import RefillRequest
from providers.services import provider_create, relationship_activate
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def chen(patient, provider):
    from conftest import WORKING_HOURS

    chen = provider_create(
        email="dr.chen@example.org",
        full_name="Wei Chen",
        password=PASSWORD,
        credentials="MD",
        specialization="Cardiology",
        department="Cardiology",
        office_location="Building B",
        license_number="MD-2002",
        working_hours=WORKING_HOURS,
    )
    relationship_activate(provider=chen, patient=patient)
    return chen


@pytest.fixture
def three_appointments(patient, provider, chen):
    """Patel next Tuesday 10:00, Chen next Wednesday 11:00, Patel next Friday 09:00 (in that order
    only when the week allows; the test reads the order from the data)."""
    made = [
        appointment_create(
            patient=patient,
            provider=provider,
            date_time=at(next_weekday("tuesday", after=_base()), 10),
        ),
        appointment_create(
            patient=patient,
            provider=chen,
            date_time=at(next_weekday("wednesday", after=_base()), 11),
        ),
        appointment_create(
            patient=patient,
            provider=provider,
            date_time=at(next_weekday("friday", after=_base()), 9),
        ),
    ]
    return sorted(made, key=lambda a: a.date_time)


def _base() -> dt.date:
    # A week ahead: every appointment is well past the 24-hour cut-off.
    return timezone.now().astimezone(NEW_YORK).date() + dt.timedelta(days=3)


def test_cancel_my_next_appointment_picks_the_earliest_and_yes_cancels_it(
    patient, three_appointments
) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("cancel my next appointment")
    first = three_appointments[0]
    assert reply.awaiting == "confirm", reply.text
    assert f"{first.date_time.astimezone(NEW_YORK):%H:%M}" in reply.text
    reply = chat.say("yes")
    first.refresh_from_db()
    assert first.status == AppointmentStatus.CANCELLED
    assert Appointment.objects.filter(status=AppointmentStatus.SCHEDULED).count() == 2
    assert AIInteraction.objects.order_by("-interaction_timestamp").first().outcome == "cancelled"


def test_the_one_with_dr_chen_and_the_second_one(patient, chen, three_appointments) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("cancel the one with dr chen")
    assert reply.awaiting == "confirm" and "Chen" in reply.text
    chat.say("no")
    reply = chat.say("cancel an appointment")
    assert reply.awaiting == "slot"
    reply = chat.say("the second one")
    assert reply.awaiting == "confirm"
    second = three_appointments[1]
    assert f"{second.date_time.astimezone(NEW_YORK):%H:%M}" in reply.text


def test_yes_to_the_single_appointment_read_out_is_that_one(patient, provider) -> None:
    only = appointment_create(
        patient=patient,
        provider=provider,
        date_time=at(next_weekday("thursday", after=_base()), 14),
    )
    chat = Conversation(patient.user)
    chat.state = {
        "intent": "cancel_appointment",
        "awaiting": "slot",
        "slot": "appointment",
        "slots": {"appointment_options": [str(only.pk)]},
        "candidates": [],
    }
    reply = chat.say("yes")
    assert reply.awaiting == "confirm" and "14:00" in reply.text
    chat.say("yes")
    only.refresh_from_db()
    assert only.status == AppointmentStatus.CANCELLED


def test_next_appointment_with_a_named_provider_lists_only_theirs(
    patient, chen, three_appointments
) -> None:
    reply = Conversation(patient.user).say("when is my next appointment with dr chen")
    assert reply.intent == "list_appointments"
    assert "Chen" in reply.text and "Patel" not in reply.text
    reply = Conversation(patient.user).say("when is my next appointment")
    first = three_appointments[0]
    assert f"{first.date_time.astimezone(NEW_YORK):%H:%M}" in reply.text
    assert reply.text.count(" with ") == 1


def test_an_unknown_provider_gets_the_closest_of_the_patients_own(patient, chen) -> None:
    reply = Conversation(patient.user).say("book an appointment with dr chan next week")
    # "chan" is close to Chen: the assistant may take it; "dr smith" is nobody's.
    reply = Conversation(patient.user).say("book an appointment with dr smith next week")
    assert "None of your providers is called Smith" in reply.text
    assert reply.awaiting == "slot" and reply.suggestions
    assert not Appointment.objects.exists()
    reply = Conversation(patient.user).say("send a message to dr patterson")
    assert "None of your providers is called Patterson" in reply.text
    assert reply.suggestions[0] == "Anika Patel"


def test_a_medicine_the_patient_does_not_have_is_said_so_and_offered_a_message(
    patient, provider
) -> None:
    from prescriptions.services import prescription_create

    today = dt.date.today()
    lisinopril = prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Lisinopril",
        dosage="10 mg",
        frequency="once daily",
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60),
        refills=2,
    )
    # A refill of it is already pending: the old answer named it for any medicine asked.
    from prescriptions.services import refill_request_create

    refill_request_create(prescription=lisinopril, requested_by=patient.user)
    chat = Conversation(patient.user)
    reply = chat.say("i need a refill of metformin")
    assert reply.text.startswith("You have no prescription for metformin")
    assert "your active prescriptions are Lisinopril 10 mg" in reply.text
    assert "Shall I message your provider?" in reply.text
    assert "already asked" not in reply.text
    assert RefillRequest.objects.count() == 1
    reply = chat.say("yes")
    # The message is shown in full before anything is sent.
    assert reply.awaiting == "confirm" and "metformin" in reply.preview
    assert not Message.objects.exists()
    chat.say("yes")
    assert Message.objects.get().content == reply.preview


def test_every_action_path_records_its_outcome(patient, provider) -> None:
    chat = Conversation(patient.user)
    tuesday = next_weekday("tuesday", after=_base())
    chat.say(f"book with dr patel on {tuesday:%B} {tuesday.day} at 10")
    chat.say("yes")
    chat.say("what are your hours")
    chat.say("i want to reschedule my appointment")
    chat.say("never mind")
    outcomes = list(
        AIInteraction.objects.order_by("interaction_timestamp").values_list("outcome", flat=True)
    )
    assert outcomes == ["clarification", "booked", "answered", "clarification", "none"]
    reply = Conversation(patient.user).say("I think I'm having a heart attack")
    assert reply.emergency
    assert (
        AIInteraction.objects.order_by("-interaction_timestamp").first().outcome
        == "emergency_advised"
    )


def test_conversations_are_told_apart_in_the_log(patient, provider) -> None:
    first, second = Conversation(patient.user), Conversation(patient.user)
    first.say("what are your hours")
    first.say("what prescriptions do i have")
    second.say("what are your hours")
    ids = set(AIInteraction.objects.values_list("conversation_id", flat=True))
    assert len(ids) == 2 and None not in ids


# --- Provider side ------------------------------------------------------------------------


def _owen(provider, email: str, full_name: str, born: dt.date):
    profile = patient_create(
        email=email, full_name=full_name, password=PASSWORD, date_of_birth=born, email_verified=True
    )
    relationship_activate(provider=provider, patient=profile)
    return profile


def test_an_exact_full_name_opens_the_chart_among_several_owens(provider) -> None:
    halvorsen = _owen(provider, "o1@example.org", "Owen Halvorsen", dt.date(1980, 3, 3))
    _owen(provider, "o2@example.org", "Owen Hale", dt.date(1975, 1, 1))
    _owen(provider, "o3@example.org", "Owen Halvorson", dt.date(1990, 6, 6))
    reply = Conversation(provider.user).say("open the chart of Owen Halvorsen")
    assert reply.navigate == f"/provider/patients/{halvorsen.pk}/"


def test_people_of_one_name_are_told_apart_by_birth_date_and_never_looped(provider) -> None:
    older = _owen(provider, "o1@example.org", "Owen Halvorsen", dt.date(1950, 3, 3))
    younger = _owen(provider, "o2@example.org", "Owen Halvorsen", dt.date(1990, 6, 6))
    chat = Conversation(provider.user)
    reply = chat.say("open the chart of Owen Halvorsen")
    assert reply.awaiting == "slot"
    assert reply.suggestions == [
        "Owen Halvorsen (born 3 Mar 1950)",
        "Owen Halvorsen (born 6 Jun 1990)",
    ]
    reply = chat.say(reply.suggestions[1])  # the button sends its own label
    assert reply.navigate == f"/provider/patients/{younger.pk}/"

    chat = Conversation(provider.user)
    chat.say("open the chart of Owen Halvorsen")
    reply = chat.say("owen")
    assert reply.awaiting is None and reply.navigate is None
    assert any(link.url == "/provider/patients/" for link in reply.links)
    assert older.pk  # both exist; neither was opened on an unclear answer


def test_schedule_today_counts_done_left_and_next(provider, patient, other_patient) -> None:
    from assistant.services import utterance_respond

    relationship_activate(provider=provider, patient=other_patient)
    # Noon on a fixed day: two visits before (one completed, one still marked scheduled),
    # two after, one cancelled, one no-show.
    day = next_weekday("wednesday", after=_base())
    noon = at(day, 12)
    make = appointment_create
    make(patient=patient, provider=provider, date_time=at(day, 9), status="completed")
    make(patient=other_patient, provider=provider, date_time=at(day, 10))
    make(patient=patient, provider=provider, date_time=at(day, 11), status="no-show")
    make(patient=other_patient, provider=provider, date_time=at(day, 13), reason="rash")
    make(patient=patient, provider=provider, date_time=at(day, 14))
    make(patient=patient, provider=provider, date_time=at(day, 15), status="cancelled")
    reply, _state = utterance_respond(user=provider.user, text="what's my schedule today", now=noon)
    assert "You have 5 visits today: 2 done, 2 left, 1 no-show." in reply.text
    assert "Next: 13:00 Riley Other (rash). Then: 14:00 Pat Jones." in reply.text
    assert "10:00" not in reply.text


def test_an_unknown_provider_in_a_cancellation_is_said_and_nothing_is_guessed(
    patient, three_appointments
) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("cancel my next appointment with dr smith")
    assert reply.text.startswith("You have no appointment with Smith.")
    assert reply.awaiting == "slot" and len(reply.suggestions) == 3
    assert Appointment.objects.filter(status=AppointmentStatus.SCHEDULED).count() == 3
