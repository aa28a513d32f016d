"""Understanding one utterance: emergency first, then intent, then slots.

Emergencies: assistant/nlu/emergency.py (rules and a model). Intents:
assistant/nlu/intents.py (a calibrated classifier that reads the corrected
request, correction.py). The labelled files and the held-out evaluation:
assistant/nlu/dataset.py and `python -m assistant.nlu.evaluate`.

`understand()` is pure (no database): the dialogue adds what needs the user's
own data (which provider, which medication, which patient) through matching.py.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from assistant.nlu.emergency import Emergency, detect_emergency
from assistant.nlu.intents import Intent, Prediction, classify
from assistant.nlu.normalise import normalise
from assistant.nlu.when import When, extract_when

# A provider dictating a note describes the patient ("patient reports chest
# pain"): that is documentation, not an emergency of the person speaking.
_DICTATION = re.compile(
    r"^(?:(?:please |ok |okay )?(?:dictate|dictation|start (?:a )?(?:visit |clinical )?note|new (?:visit )?note|visit note|note for|take a note|add (?:a )?note|record (?:a )?(?:visit )?note|document)\b)"
)


@dataclass(frozen=True)
class Understanding:
    text: str
    normalised: str
    intent: Intent
    confidence: float
    prediction: Prediction | None
    emergency: Emergency | None
    when: When


def is_dictation(text: str) -> bool:
    return bool(_DICTATION.match(normalise(text)))


def check_emergency(text: str, role: str, *, dictating: bool = False) -> Emergency | None:
    """The emergency in `text`, unless a provider is dictating about a patient."""
    if role == "provider" and (dictating or is_dictation(text)):
        return None
    return detect_emergency(text)


def understand(
    text: str,
    role: str,
    now: dt.datetime,
    *,
    dictating: bool = False,
    check_emergencies: bool = True,
) -> Understanding:
    """Emergency first, whatever the classifier would say; then intent and date/time.

    The intent is classified even for an emergency, so that once the user says
    it is not happening now the conversation can go on with what they asked
    (`check_emergencies=False` reads the same words again without the check).
    """
    normalised = normalise(text)
    when = extract_when(text, now)
    emergency = check_emergency(text, role, dictating=dictating) if check_emergencies else None
    prediction = classify(text, role)
    if emergency is not None:
        return Understanding(
            text=text,
            normalised=normalised,
            intent=Intent.EMERGENCY,
            confidence=1.0,
            prediction=prediction,
            emergency=emergency,
            when=when,
        )
    return Understanding(
        text=text,
        normalised=normalised,
        intent=prediction.intent,
        confidence=prediction.confidence,
        prediction=prediction,
        emergency=None,
        when=when,
    )
