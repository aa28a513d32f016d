"""What the conversation does with what the understanding found: poisoning and
uncertain emergencies, clarifications that offer a way out, corrections."""

from __future__ import annotations

import pytest

from assistant.models import AIInteraction
from assistant.tests.helpers import Conversation, at
from assistant.tests.test_actions_scheduling import clinic_day
from scheduling.models import Appointment
from scheduling.services import appointment_create

pytestmark = pytest.mark.django_db


def test_an_overdose_names_911_and_poison_control_and_books_nothing(patient) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("book me in tomorrow, my toddler just swallowed some of my pills")
    assert reply.emergency and "911" in reply.text and "1-800-222-1222" in reply.text
    assert not Appointment.objects.exists()
    assert AIInteraction.objects.get().detected_intent == "emergency"


def test_an_uncertain_emergency_shows_911_and_asks_then_goes_on_when_it_is_not_now(patient) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("my husband had chest pain last night and it's still there")
    assert reply.emergency and "911" in reply.text and "Is this happening now?" in reply.text
    reply = chat.say("no")
    assert not reply.emergency
    assert "911" not in reply.text


def test_saying_yes_to_happening_now_gives_the_full_emergency_answer(patient) -> None:
    chat = Conversation(patient.user)
    chat.say("my husband had chest pain last night and it's still there")
    reply = chat.say("yes")
    assert reply.emergency and "911" in reply.text and "Is this happening now?" not in reply.text
    assert "tell your care team" in reply.text


def test_a_historical_mention_does_not_interrupt_booking(patient) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("my father died of a heart attack so I'd like to book a check-up")
    assert not reply.emergency and reply.intent == "book_appointment"


def test_a_clarifying_question_offers_something_else(patient) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("appointment")
    assert reply.awaiting == "clarify", reply.text
    assert "something else" in reply.text
    assert reply.suggestions[-1] == "Ask something else"
    reply = chat.say("Ask something else")
    assert reply.intent == "out_of_scope"


def test_not_cancel_but_move_it_proposes_a_move(patient, provider) -> None:
    appointment_create(patient=patient, provider=provider, date_time=at(clinic_day(), 10))
    chat = Conversation(patient.user)
    reply = chat.say("not cancel, but move it")
    assert reply.intent == "reschedule_appointment", reply.text
    assert Appointment.objects.get().status == "scheduled"


def test_answering_a_clarification_with_the_whole_request_keeps_what_it_says(
    patient, provider
) -> None:
    chat = Conversation(patient.user)
    # Forced into a clarification, whatever the classifier makes of the first words.
    chat.state = {
        "awaiting": "clarify",
        "candidates": ["office_info", "contact_provider", "out_of_scope"],
        "slots": {"text": "hours or a message"},
    }
    reply = chat.say("tell doctor patel that my knee is much better since the new brace")
    # The message is ready to send with the words said, not asked for again.
    assert reply.preview is not None and "knee is much better" in reply.preview


def test_a_booking_restated_in_full_after_a_clarification_uses_its_own_day(
    patient, provider
) -> None:
    chat = Conversation(patient.user)
    chat.state = {
        "awaiting": "clarify",
        "candidates": ["book_appointment", "contact_provider", "out_of_scope"],
        "slots": {"text": "can I come in friday at 3 or should I message"},
    }
    reply = chat.say("I'd like to book with doctor patel next monday morning please")
    assert reply.intent == "book_appointment"
    assert "Monday" in reply.text and "Friday" not in reply.text
