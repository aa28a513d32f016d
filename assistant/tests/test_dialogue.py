"""Conversations through utterance_respond: the same services and access rules as the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from assistant.models import AIInteraction
from assistant.services import UtteranceInvalid, utterance_respond
from assistant.tests.helpers import Conversation
from messaging.models import Message
from records.models import MedicalRecord
from scheduling.models import Appointment
from scheduling.services import appointment_create

pytestmark = pytest.mark.django_db


def _future(days: int, hour: int = 15) -> dt.datetime:
    day = timezone.now() + dt.timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def test_every_turn_writes_one_interaction_row(patient) -> None:
    chat = Conversation(patient.user)
    chat.say("hello")
    chat.say("what are your hours")
    rows = list(AIInteraction.objects.filter(user=patient.user).order_by("interaction_timestamp"))
    assert [r.input_text for r in rows] == ["hello", "what are your hours"]
    assert rows[0].detected_intent == "greeting"
    assert rows[1].detected_intent == "office_info"
    assert all(0 <= r.confidence_score <= 1 for r in rows)
    assert "Building A, Room 101" in rows[1].response_text


def test_empty_or_overlong_text_is_refused_and_not_logged(patient, settings) -> None:
    settings.ASSISTANT_MAX_TEXT_LENGTH = 20
    with pytest.raises(UtteranceInvalid):
        utterance_respond(user=patient.user, text="   ")
    with pytest.raises(UtteranceInvalid):
        utterance_respond(user=patient.user, text="x" * 21)
    assert not AIInteraction.objects.exists()


def test_emergency_answers_911_books_nothing_and_offers_a_transfer(patient) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("book an appointment tomorrow at 3 i have chest pain right now")
    assert reply.emergency and reply.intent == "emergency" and reply.confidence == 1.0
    assert "911" in reply.text and "988" not in reply.text
    assert "tell your care team" in reply.text
    assert not Appointment.objects.exists()
    row = AIInteraction.objects.get()
    assert (row.detected_intent, row.resulted_in_appointment) == ("emergency", False)

    reply = chat.say("yes")
    assert reply.resulted_in_provider_transfer
    message = Message.objects.get()
    assert message.sender == patient.user
    assert "chest pain right now" in message.content
    assert AIInteraction.objects.filter(resulted_in_provider_transfer=True).count() == 1


def test_suicidal_thoughts_name_988(patient) -> None:
    reply = Conversation(patient.user).say("i don't want to live anymore")
    assert reply.emergency and reply.crisis_line
    assert "988" in reply.text and "911" in reply.text


def test_emergency_is_checked_even_in_the_middle_of_another_question(patient) -> None:
    chat = Conversation(patient.user)
    assert chat.say("message my doctor").awaiting == "slot"
    reply = chat.say("actually i can't breathe")
    assert reply.emergency
    assert not Message.objects.exists()


def test_message_to_the_provider_asks_for_the_text_and_sends_only_after_yes(
    patient, provider
) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("i want to send a message to my doctor")
    assert reply.intent == "contact_provider" and reply.awaiting == "slot"
    assert "say" in reply.text
    reply = chat.say("my rash is worse since yesterday")
    assert reply.awaiting == "confirm" and "Anika Patel" in reply.text
    assert not Message.objects.exists()
    reply = chat.say("yes please")
    assert reply.resulted_in_provider_transfer
    message = Message.objects.get()
    assert (message.sender, message.receiver) == (patient.user, provider.user)
    assert message.content.startswith("my rash is worse since yesterday")


def test_no_cancels_the_message(patient) -> None:
    chat = Conversation(patient.user)
    chat.say("tell doctor patel that i'll be ten minutes late")
    reply = chat.say("no")
    assert "not sent" in reply.text
    assert not Message.objects.exists()
    assert chat.state["awaiting"] is None


def test_out_of_scope_offers_a_person(patient) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("what's the weather like in paris")
    assert reply.intent == "out_of_scope"
    assert "care team" in reply.text and reply.awaiting == "confirm"
    reply = chat.say("yes")
    assert reply.resulted_in_provider_transfer
    assert "weather" in Message.objects.get().content


def test_provider_out_of_scope_is_told_what_it_can_do(provider) -> None:
    reply = Conversation(provider.user).say("order more gloves")
    assert reply.intent == "out_of_scope" and "schedule" in reply.text
    assert not Message.objects.exists()


def test_low_confidence_asks_a_clarifying_question(patient) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("my appointment")
    assert reply.awaiting == "clarify"
    assert reply.text.startswith("Did you want to") and " or to " in reply.text
    assert reply.confidence < 0.6
    first_choice = reply.suggestions[0]
    reply = chat.say("the first one")
    assert reply.awaiting != "clarify"
    assert reply.intent != "out_of_scope"
    assert first_choice.lower().split()[0] in reply.text.lower() or reply.links
    assert AIInteraction.objects.count() == 2


def test_patient_hears_only_their_own_appointments(
    patient, provider, other_patient, other_provider
) -> None:
    appointment_create(patient=patient, provider=provider, date_time=_future(3), reason="checkup")
    appointment_create(patient=other_patient, provider=other_provider, date_time=_future(4))
    reply = Conversation(patient.user).say("when is my next appointment")
    assert reply.intent == "list_appointments"
    # "my next appointment" is the first one only.
    assert "Your next appointment is on" in reply.text and "Anika Patel" in reply.text
    assert "Omar Other" not in reply.text


def test_prescriptions_are_listed_and_a_named_one_described(patient, prescriptions) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("what medications am i on")
    assert "Lisinopril" in reply.text and "Metformin" in reply.text
    reply = chat.say("how often should i take my metformin")
    assert "Metformin 500 mg, twice daily" in reply.text and "Lisinopril" not in reply.text


def test_a_spoken_time_is_proposed_and_nothing_booked_before_yes(patient) -> None:
    reply = Conversation(patient.user).say(
        "book me with doctor patel next tuesday at three thirty p m"
    )
    assert reply.intent == "book_appointment" and reply.awaiting == "confirm"
    assert "at 15:30" in reply.text and "Shall I book it?" in reply.text
    assert not Appointment.objects.exists()


def test_provider_schedule_today_and_next_patient(provider, patient) -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/New_York")
    now = timezone.now().astimezone(tz)
    later = (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if later.date() != now.date():
        later = now + dt.timedelta(minutes=1)
    appointment_create(patient=patient, provider=provider, date_time=later, reason="follow-up")
    chat = Conversation(provider.user)
    reply = chat.say("what's on my schedule today")
    assert reply.intent == "schedule_today"
    assert "Pat Jones (follow-up)" in reply.text
    reply = chat.say("who is my next patient")
    assert reply.intent == "next_patient"
    assert "Pat Jones" in reply.text
    assert any("/provider/patients/" in link.url for link in reply.links)


def test_provider_opens_only_their_own_patients_charts(provider, patient, other_patient) -> None:
    chat = Conversation(provider.user)
    reply = chat.say("open pat jones's chart")
    assert reply.navigate == f"/provider/patients/{patient.pk}/"
    reply = Conversation(provider.user).say("open the chart for riley other")
    assert reply.navigate is None
    assert "Riley" not in reply.text


def test_dictated_note_is_a_draft_until_confirmed(provider, patient) -> None:
    chat = Conversation(provider.user)
    reply = chat.say("dictate a note for pat jones")
    assert reply.intent == "dictate_note" and reply.awaiting == "slot"
    reply = chat.say("patient reports chest pain on exertion for two weeks plan stress test")
    assert not reply.emergency, "a provider dictating about a patient is not an emergency"
    assert reply.awaiting == "confirm" and "Draft note for Pat Jones" in reply.text
    assert not MedicalRecord.objects.exists()
    reply = chat.say("yes")
    record = MedicalRecord.objects.get()
    assert (record.patient, record.provider) == (patient, provider)
    assert record.symptoms == "patient reports chest pain on exertion for two weeks"
    assert record.treatment == "stress test"
    assert "Treatment: stress test" in chat.replies[1].text


def test_never_mind_leaves_a_question_unanswered(provider) -> None:
    chat = Conversation(provider.user)
    chat.say("start a visit note")
    reply = chat.say("never mind")
    assert chat.state["awaiting"] is None and "What else" in reply.text
