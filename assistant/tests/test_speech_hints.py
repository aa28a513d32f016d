"""The recognizer knows the user's words: their provider and medicine names (and the command
words) are given to a model with a dynamic graph as a run-time vocabulary, so a name the
model's language model cannot spell is heard. Real Vosk (the Korean model), real espeak-ng."""

from __future__ import annotations

import datetime as dt

import pytest
from channels.db import database_sync_to_async

from assistant import speech
from assistant.tests.conftest import pcm_of
from assistant.tests.test_consumers import _connected, _stream, _until

# Korean for "metformin" and a Korean personal name: espeak-ng says them with -v ko, and the
# small Korean model's free recognizer writes something else for each.
METFORMIN = "메트포르민"
KIM_MINJUN = "김민준"


def _plain(pcm: bytes) -> str:
    return speech.transcribe_pcm(pcm)


def _hinted(pcm: bytes, vocabulary: list[str]) -> str:
    return speech.transcribe_pcm(pcm, vocabulary=vocabulary)


def test_the_korean_model_takes_a_runtime_vocabulary(voice) -> None:
    assert speech.supports_vocabulary()


def test_a_static_graph_model_gets_no_hints(tmp_path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "HCLG.fst").write_bytes(b"")
    assert not speech.supports_vocabulary(tmp_path)


@pytest.mark.parametrize("word", [METFORMIN, KIM_MINJUN])
def test_a_hinted_word_is_heard_where_the_plain_recognizer_misses_it(voice, speak, word) -> None:
    pcm = pcm_of(speak(word))
    plain = _plain(pcm)
    assert word not in plain.split(), f"the plain model already hears {word!r}: {plain!r}"
    hinted = _hinted(pcm, [word, "아니요"])
    assert word in hinted.split(), hinted
    # The free transcript is kept; the hint is added to it, not swapped in. (Two runs of
    # the free recognizer over the same audio may differ by a syllable, so compare words.)
    free = hinted.split()[:-1] if hinted.split()[-1] == word else hinted.split()
    shared = set(free) & set(plain.split())
    assert free and len(shared) * 2 >= len(plain.split()), (plain, hinted)


def test_hint_words_are_distinct_lower_case_with_the_commands() -> None:
    words = speech.hint_words(["Anika Patel", "Lisinopril", "anika"])
    assert words[:3] == ["anika", "patel", "lisinopril"]
    assert "cancel" in words and "refill" in words and "[unk]" not in words


def test_merging_adds_only_missing_hinted_words() -> None:
    assert speech.merge_hints("refill my metaphor men", ["refill", "metformin"]) == (
        "refill my metaphor men metformin"
    )
    assert speech.merge_hints("", ["metformin"]) == "metformin"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_socket_hints_the_patients_own_medicine(patient, provider, voice, speak) -> None:
    from prescriptions.services import prescription_create

    today = dt.date.today()
    await database_sync_to_async(prescription_create)(
        patient=patient,
        provider=provider,
        medication_name=METFORMIN,
        dosage="500 mg",
        frequency="twice daily",
        start_date=today,
        end_date=today + dt.timedelta(days=30),
        refills=1,
    )
    communicator, _ready = await _connected(patient.user)
    final, _seen = await _stream(communicator, pcm_of(speak(METFORMIN)))
    assert METFORMIN in final["text"].split()
    await _until(communicator, "reply")
    await communicator.disconnect()
