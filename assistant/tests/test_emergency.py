"""Emergency detection beyond the labelled files: the situations the product must never miss,
and the histories, questions and figures of speech that must not interrupt."""

from __future__ import annotations

import pytest

from assistant.nlu import check_emergency, understand
from assistant.nlu.emergency import (
    POISON_CONTROL,
    EmergencyKind,
    detect_emergency,
    emergency_advice,
)
from assistant.nlu.intents import Intent, classify


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("someone at home has collapsed and does not respond", EmergencyKind.UNCONSCIOUS),
        ("my grandad fell over and we cannot wake him", EmergencyKind.UNCONSCIOUS),
        ("I took more of my pills than I was prescribed", EmergencyKind.POISONING),
        ("my little boy swallowed some of my tablets", EmergencyKind.POISONING),
        ("my daughter drank some bleach", EmergencyKind.POISONING),
        ("I have a plan to end things and the tablets are in front of me", EmergencyKind.SUICIDE),
        (
            "my son banged his head and now he keeps vomiting and is drowsy",
            EmergencyKind.HEAD_INJURY,
        ),
        ("I scalded my arm with boiling water", EmergencyKind.BURN),
        ("my sugar is really low and I'm confused", EmergencyKind.LOW_BLOOD_SUGAR),
        ("sudden numbness on the left side of my face", EmergencyKind.STROKE),
        ("my throat is still closing after the epipen", EmergencyKind.ALLERGY),
        ("my wife is having a seizure", EmergencyKind.SEIZURE),
        ("my baby is choking on a grape", EmergencyKind.CHOKING),
        ("I'm 32 weeks pregnant and bleeding", EmergencyKind.PREGNANCY),
        ("he has crushing pain in his chest a minute ago", EmergencyKind.CARDIAC),
        # Said indirectly: the signs without the name of the emergency.
        ("my mother is not making any sense and her arm went weak", EmergencyKind.STROKE),
        ("there is no point going on, I have my dad's gun", EmergencyKind.SUICIDE),
        ("i cut my wrist", EmergencyKind.SUICIDE),
    ],
)
def test_emergencies_are_recognised_with_their_kind(said: str, kind: EmergencyKind) -> None:
    found = detect_emergency(said)
    assert found is not None and found.kind == kind, found


@pytest.mark.parametrize(
    "said",
    [
        "my father died of a heart attack, I want to book a check-up",
        "my mum had a stroke years ago, can I get my blood pressure checked",
        "what are the signs of a stroke",
        "how do you help someone who is choking",
        "can I see my records from after my heart attack",
        "what was I prescribed after my overdose last year",
        "I nearly had a heart attack when I saw the bill",
        "my nose is blocked and I can't breathe, can I get a refill of my spray",
        "please refill my EpiPen",
        "my arm went weak after the gym yesterday, can I book a physio",
        "no point booking for Friday, I'm away; what about Monday",
    ],
)
def test_history_questions_and_figures_of_speech_are_not_emergencies(said: str) -> None:
    assert detect_emergency(said) is None
    # ... and the conversation goes on with what was asked.
    assert understand(said, "patient", _now()).intent != Intent.EMERGENCY


def _now():
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime(2025, 3, 12, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def test_poisoning_advice_names_poison_control_and_911() -> None:
    found = detect_emergency("my toddler just ate a dishwasher pod")
    assert found is not None and found.poison_control
    advice = emergency_advice(found)
    assert POISON_CONTROL in advice and "911" in advice


def test_suicide_advice_names_988() -> None:
    found = detect_emergency("I have the pills lined up and I'm going to take them all tonight")
    assert found is not None and found.crisis_line
    assert "988" in emergency_advice(found)


def test_a_past_event_that_may_still_be_happening_is_asked_about() -> None:
    found = detect_emergency("my husband had chest pain last night and it's still there")
    assert found is not None and not found.certain
    advice = emergency_advice(found)
    assert "911" in advice and "Is this happening now?" in advice


def test_understanding_keeps_the_intent_of_an_emergency_utterance() -> None:
    understanding = understand(
        "book an appointment, I have chest pain right now", "patient", _now()
    )
    assert understanding.intent == Intent.EMERGENCY
    assert understanding.prediction is not None


def test_partial_transcripts_find_new_kinds_too() -> None:
    assert check_emergency("my son", "patient") is None
    assert check_emergency("my son swallowed some bleach", "patient") is not None


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("not cancel, but move it", Intent.RESCHEDULE),
        ("don't cancel it, move it to friday", Intent.RESCHEDULE),
        ("dont cancel move it", Intent.RESCHEDULE),
        ("reschedule, actually no, cancel it", Intent.CANCEL),
        ("I don't need a refill, just tell me what I'm taking", Intent.LIST_PRESCRIPTIONS),
    ],
)
def test_negation_and_correction_pick_what_is_wanted(said: str, intent: Intent) -> None:
    assert classify(said, "patient").intent == intent


def test_clarification_offers_the_top_two_and_something_else() -> None:
    prediction = classify("appointment", "patient")
    assert len(prediction.top2) == 2
    choices = prediction.clarification_choices
    assert choices[-1] == Intent.OUT_OF_SCOPE and len(choices) == 3
    assert prediction.top2[0][0] in choices


def test_a_change_of_data_needs_more_confidence_than_a_question() -> None:
    from assistant.nlu.intents import DATA_CHANGING_THRESHOLD, Prediction

    ranking = ((Intent.CANCEL, 0.65), (Intent.LIST_APPOINTMENTS, 0.2), (Intent.BOOK, 0.15))
    assert Prediction(Intent.CANCEL, 0.65, ranking).needs_clarification
    listing = ((Intent.LIST_APPOINTMENTS, 0.65), (Intent.CANCEL, 0.2), (Intent.BOOK, 0.15))
    assert not Prediction(Intent.LIST_APPOINTMENTS, 0.65, listing).needs_clarification
    close = ((Intent.CANCEL, 0.5), (Intent.RESCHEDULE, 0.45))
    assert Prediction(Intent.CANCEL, 0.5, close).needs_clarification
    assert DATA_CHANGING_THRESHOLD > 0.5
