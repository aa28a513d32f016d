"""Understanding, measured on the labelled set (assistant/data/utterances.jsonl).

The labelled set is a hold-out: the classifier is trained on
assistant/data/train.jsonl only, and a test below proves the two files share
no utterance. Reference time of the set: Wednesday 12 March 2025, 10:00 in
New York (see assistant/data/README.md).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from assistant.nlu import check_emergency, understand
from assistant.nlu.emergency import EmergencyKind, detect_emergency
from assistant.nlu.intents import (
    DATA_DIR,
    PATIENT_INTENTS,
    PROVIDER_INTENTS,
    TRAINING_FILE,
    Intent,
    classify,
    load_examples,
)
from assistant.nlu.matching import best_matches, medication_aliases, person_aliases, unique_best
from assistant.nlu.normalise import normalise
from assistant.nlu.when import extract_when

REFERENCE = dt.datetime(2025, 3, 12, 10, 0, tzinfo=ZoneInfo("America/New_York"))
LABELLED = load_examples(DATA_DIR / "utterances.jsonl")


@pytest.fixture(scope="module")
def results():
    return [
        (example, understand(example["text"], example["role"], REFERENCE)) for example in LABELLED
    ]


# --- The labelled set itself -------------------------------------------------------


def test_labelled_set_is_large_and_covers_every_intent_in_both_styles() -> None:
    assert len(LABELLED) >= 300
    intents = Counter(e["intent"] for e in LABELLED)
    assert set(intents) == {i.value for i in Intent}
    assert all(count >= 5 for count in intents.values()), intents
    assert {e["style"] for e in LABELLED} == {"typed", "spoken"}
    assert Counter(e["style"] for e in LABELLED)["spoken"] >= 150
    assert sum(1 for e in LABELLED if "when" in e) >= 80


def test_labelled_set_is_never_trained_on() -> None:
    training = {normalise(e["text"]) for e in load_examples(TRAINING_FILE)}
    overlap = [e["text"] for e in LABELLED if normalise(e["text"]) in training]
    assert overlap == []
    assert not any(e["intent"] == Intent.EMERGENCY for e in load_examples(TRAINING_FILE))


# --- The figures the issue asks for --------------------------------------------------


def test_intent_accuracy_is_at_least_95_percent(results) -> None:
    wrong = [
        (e["text"], e["intent"], u.intent.value)
        for e, u in results
        if u.intent.value != e["intent"]
    ]
    accuracy = 1 - len(wrong) / len(results)
    assert accuracy >= 0.95, f"accuracy {accuracy:.3f}; wrong: {wrong}"


def test_every_emergency_is_recognised(results) -> None:
    missed = [
        e["text"] for e, u in results if e["intent"] == Intent.EMERGENCY and u.emergency is None
    ]
    assert missed == []


def test_false_emergency_alarms_are_at_most_2_percent(results) -> None:
    others = [(e, u) for e, u in results if e["intent"] != Intent.EMERGENCY]
    alarms = [e["text"] for e, u in others if u.emergency is not None]
    assert len(alarms) / len(others) <= 0.02, alarms


def test_dates_and_times_are_at_least_95_percent_right(results) -> None:
    checked = [(e, u) for e, u in results if "when" in e]
    wrong = []
    for example, understanding in checked:
        got = understanding.when.to_json()
        expected = example["when"]
        if (got["date"], got["time"], got["part_of_day"]) != (
            expected["date"],
            expected["time"],
            expected["part_of_day"],
        ):
            wrong.append((example["text"], expected, got))
    assert 1 - len(wrong) / len(checked) >= 0.95, wrong


def test_every_result_has_a_confidence_in_the_unit_range(results) -> None:
    assert all(0.0 <= u.confidence <= 1.0 for _e, u in results)


# --- Pieces ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "normal"),
    [
        ("next tuesday at three thirty p m", "next tuesday at 3 30 pm"),
        ("Next Tue at 3:30pm, Dr. Patel?", "next tuesday at 3:30 pm doctor patel"),
        ("the third of may at one thirty", "the 3rd of may at 1 30"),
        ("no one answered", "no one answered"),
        ("twenty five milligrams", "25 milligrams"),
    ],
)
def test_spoken_and_typed_text_share_one_normal_form(said: str, normal: str) -> None:
    assert normalise(said) == normal


@pytest.mark.parametrize(
    ("said", "date", "time", "part"),
    [
        ("next tuesday at three thirty p m", "2025-03-18", "15:30", None),
        ("tomorrow morning", "2025-03-13", None, "morning"),
        ("march fifth at ten a m", "2026-03-05", "10:00", None),
        ("in two weeks", "2025-03-26", None, None),
        ("move my three p m to four thirty", None, "16:30", None),
        ("may i get a refill", None, None, None),
    ],
)
def test_dates_and_times_in_spoken_style(said, date, time, part) -> None:
    when = extract_when(said, REFERENCE).to_json()
    assert (when["date"], when["time"], when["part_of_day"]) == (date, time, part)


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("i think i'm having a heart attack", EmergencyKind.CARDIAC),
        ("her face is drooping", EmergencyKind.STROKE),
        ("i can't breathe", EmergencyKind.BREATHING),
        ("it won't stop bleeding", EmergencyKind.BLEEDING),
        ("i have chest pain and i want to kill myself", EmergencyKind.SUICIDE),
    ],
)
def test_emergency_kinds(said, kind) -> None:
    found = detect_emergency(said)
    assert found is not None and found.kind == kind


def test_suicidal_thoughts_name_the_crisis_line_and_others_do_not() -> None:
    assert detect_emergency("i want to end my life").crisis_line
    assert not detect_emergency("i have chest pain").crisis_line


@pytest.mark.parametrize(
    "said",
    [
        "i don't have chest pain anymore",
        "no chest pain today",
        "patient denies chest pain",
        "my blood test results",
    ],
)
def test_negated_or_harmless_phrases_are_not_emergencies(said) -> None:
    assert detect_emergency(said) is None


def test_partial_transcripts_are_checked_too() -> None:
    # What Vosk shows mid-sentence, before the final words arrive.
    assert detect_emergency("book an appointment i have chest") is None
    assert detect_emergency("book an appointment i have chest pain") is not None


def test_a_provider_dictating_about_a_patient_is_not_an_emergency() -> None:
    note = "visit note patient reports chest pain on exertion"
    assert check_emergency(note, "provider") is None
    assert check_emergency(note, "patient") is not None
    assert check_emergency("reports chest pain on exertion", "provider", dictating=True) is None
    assert check_emergency("i'm having chest pain", "provider") is not None


def test_each_role_only_gets_its_own_intents() -> None:
    assert classify("when is my next appointment", "patient").intent == Intent.LIST_APPOINTMENTS
    assert classify("when is my next appointment", "provider").intent == Intent.NEXT_PATIENT
    patient_ranking = {i for i, _p in classify("open the chart", "patient").ranking}
    assert not patient_ranking & PROVIDER_INTENTS
    provider_ranking = {i for i, _p in classify("refill my pills", "provider").ranking}
    assert not provider_ranking & PATIENT_INTENTS


def test_names_and_medications_match_fuzzily() -> None:
    people = [("patel", person_aliases("Anika Patel")), ("other", person_aliases("Omar Other"))]
    assert unique_best(best_matches("message doctor patil please", people)) == "patel"
    assert unique_best(best_matches("send it to anika", people)) == "patel"
    assert best_matches("message my doctor", people) == []
    medications = [
        ("lis", medication_aliases("Lisinopril")),
        ("met", medication_aliases("Metformin")),
    ]
    assert unique_best(best_matches("refill my lisa no pril", medications)) == "lis"
    assert unique_best(best_matches("how often do i take met forming", medications)) == "met"


def test_a_long_request_is_weighed_by_its_asking_clause() -> None:
    from assistant.nlu.intents import features_text, request_clause

    story = features_text(
        "I'm seeing a dentist tomorrow for a tooth out and they asked me to bring a list "
        "of everything I'm prescribed, so could you tell me what's on it?"
    )
    # The asking clause, with enough before it to say what "it" is.
    assert request_clause(story).endswith("so could you tell me what's on it")
    assert "prescribed" in request_clause(story)
    # Without an opener the whole request stands; numbers do not make it long.
    told = features_text("tell doctor patel that my number is 1 2 3 4 5 6 7 8 9 0 1 2")
    assert request_clause(told) == told
    assert request_clause("book me in") == "book me in"
