"""The held-out evaluation (assistant/nlu/evaluate.py) and the split it rests on.

The labelled utterances live in assistant/nlu/data/<style>/<author>.tsv; the
files named in data/evaluation.txt are held out. These tests prove the split
is by whole author files (no file on both sides, no sentence of the held-out
files close to one trained on) and that the targets hold on the held-out files.
"""

from __future__ import annotations

from collections import Counter

import pytest
from rapidfuzz import fuzz, process

from assistant.nlu.dataset import (
    DATA_ROOT,
    STYLES,
    all_files,
    evaluation_examples,
    evaluation_names,
    read_tsv,
    split_files,
    training_examples,
)
from assistant.nlu.evaluate import evaluate, render
from assistant.nlu.intents import PATIENT_INTENTS, PROVIDER_INTENTS, Intent
from assistant.nlu.normalise import normalise

# Two sentences this alike (rapidfuzz ratio of their normal forms) are one sentence.
NEAR_DUPLICATE = 90


def test_the_labelled_files_are_many_and_in_every_style() -> None:
    examples = [e for path in all_files() for e in read_tsv(path)]
    assert len(examples) >= 1000
    styles = Counter(e.style for e in examples)
    assert set(styles) == set(STYLES)
    assert sum(1 for e in examples if e.is_emergency) >= 150
    assert styles["nearmiss"] >= 150
    assert not any(e.is_emergency for e in examples if e.style == "nearmiss")
    intents = {i for e in examples for i in e.accepted}
    assert intents >= {i.value for i in PATIENT_INTENTS | PROVIDER_INTENTS}
    assert {"greeting", "out_of_scope", "emergency"} <= intents


def test_every_label_is_a_known_intent_role_and_kind() -> None:
    from assistant.nlu.emergency import EmergencyKind

    for example in (*training_examples(), *evaluation_examples()):
        assert example.role in {"patient", "provider", "any"}, example
        assert example.accepted <= {i.value for i in Intent}, example
        assert example.text.strip(), example
        if example.is_emergency:
            assert EmergencyKind(example.kind), example


def test_held_out_files_are_whole_author_files_never_trained_on() -> None:
    training, held_out = split_files()
    named = evaluation_names()
    on_disk = {p.relative_to(DATA_ROOT).as_posix() for p in all_files()}
    assert named <= on_disk, named - on_disk
    assert {p.relative_to(DATA_ROOT).as_posix() for p in held_out} == named
    assert not set(training) & set(held_out)
    # Every style is measured on authors it was not trained on, and trained on others.
    assert {p.parent.name for p in held_out} == set(STYLES)
    assert {p.parent.name for p in training} == set(STYLES)
    trained_sources = {e.source for e in training_examples()}
    assert not trained_sources & named


def test_no_held_out_sentence_is_a_near_duplicate_of_a_trained_one() -> None:
    trained = [normalise(e.text) for e in training_examples()]
    close = []
    for example in evaluation_examples():
        said = normalise(example.text)
        match = process.extractOne(said, trained, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE)
        if match is not None:
            close.append((example.source, example.text, match[0]))
    assert close == []


@pytest.fixture(scope="module")
def report():
    return evaluate()


def test_held_out_intent_accuracy_is_at_least_97_percent_overall(report) -> None:
    print(render(report))
    assert report.accuracy >= 0.97, render(report) + "\n" + "\n".join(report.errors)


@pytest.mark.parametrize("style", STYLES)
def test_held_out_intent_accuracy_is_at_least_93_percent_in_every_style(report, style) -> None:
    score = report.styles[style]
    assert score.total >= 19
    errors = [e for e in report.errors if f"[{style}/" in e]
    assert score.accuracy >= 0.93, f"{style}: {score.accuracy:.3f}\n" + "\n".join(errors)


def test_every_held_out_emergency_is_recalled(report) -> None:
    assert report.emergencies >= 50
    missed = [e for e in report.errors if e.startswith("MISSED")]
    assert report.recall == 1.0, missed


def test_held_out_false_alarms_are_at_most_2_percent(report) -> None:
    alarms = [e for e in report.errors if e.startswith("FALSE ALARM")]
    assert report.false_alarm_rate <= 0.02, alarms


def test_confidence_is_calibrated_on_the_held_out_files(report) -> None:
    # Confident answers are right about as often as they claim; the whole table is within 8 points.
    rows = {
        round(low, 1): (count, mean, accuracy)
        for low, _h, count, mean, accuracy in report.reliability()
    }
    count, mean, accuracy = rows[0.8]
    assert count >= 300 and accuracy >= 0.97
    assert report.calibration_error <= 0.08, render(report)


def test_the_evaluation_command_prints_the_table(capsys) -> None:
    from assistant.nlu.evaluate import main

    assert main([]) == 0
    printed = capsys.readouterr().out
    for style in STYLES:
        assert style in printed
    assert "emergency recall" in printed and "false alarms" in printed
    assert "reliability" in printed
