"""What the user wants: a small text classifier trained at first use.

TF-IDF over words (1-2 grams) and characters (2-5 grams, which survive Vosk's
misheard word endings) feeding a linear model with logistic loss (trained by
stochastic gradient descent: as accurate as lbfgs on this data in a tenth of
the time). It is trained once per process from assistant/data/train.jsonl (a
second or two, on first use); the labelled set
in assistant/data/utterances.jsonl is never trained on: it is the hold-out the
accuracy test measures.

One model knows both portals' intents; each role only ever gets its own (and
the shared ones), with the probabilities renormalised over those.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from assistant.nlu.normalise import normalise

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TRAINING_FILE = DATA_DIR / "train.jsonl"


class Intent(StrEnum):
    BOOK = "book_appointment"
    CANCEL = "cancel_appointment"
    RESCHEDULE = "reschedule_appointment"
    LIST_APPOINTMENTS = "list_appointments"
    REFILL = "request_refill"
    LIST_PRESCRIPTIONS = "list_prescriptions"
    VIEW_RECORDS = "view_records"
    CONTACT_PROVIDER = "contact_provider"
    OFFICE_INFO = "office_info"
    SCHEDULE_TODAY = "schedule_today"
    NEXT_PATIENT = "next_patient"
    OPEN_CHART = "open_chart"
    PENDING_REFILLS = "pending_refills"
    DICTATE_NOTE = "dictate_note"
    GREETING = "greeting"
    OUT_OF_SCOPE = "out_of_scope"
    # Never predicted by the classifier: set by the emergency rules.
    EMERGENCY = "emergency"


PATIENT_INTENTS = frozenset(
    {
        Intent.BOOK,
        Intent.CANCEL,
        Intent.RESCHEDULE,
        Intent.LIST_APPOINTMENTS,
        Intent.REFILL,
        Intent.LIST_PRESCRIPTIONS,
        Intent.VIEW_RECORDS,
        Intent.CONTACT_PROVIDER,
        Intent.OFFICE_INFO,
    }
)
PROVIDER_INTENTS = frozenset(
    {
        Intent.SCHEDULE_TODAY,
        Intent.NEXT_PATIENT,
        Intent.OPEN_CHART,
        Intent.PENDING_REFILLS,
        Intent.DICTATE_NOTE,
    }
)
SHARED_INTENTS = frozenset({Intent.GREETING, Intent.OUT_OF_SCOPE})

# How an intent is named in a clarifying question ("Did you want to ... or ...?").
INTENT_PHRASES = {
    Intent.BOOK: _("book an appointment"),
    Intent.CANCEL: _("cancel an appointment"),
    Intent.RESCHEDULE: _("move an appointment"),
    Intent.LIST_APPOINTMENTS: _("hear your upcoming appointments"),
    Intent.REFILL: _("request a refill"),
    Intent.LIST_PRESCRIPTIONS: _("hear your prescriptions"),
    Intent.VIEW_RECORDS: _("see your records"),
    Intent.CONTACT_PROVIDER: _("send a message to your care team"),
    Intent.OFFICE_INFO: _("know your provider's hours and office"),
    Intent.SCHEDULE_TODAY: _("hear your schedule"),
    Intent.NEXT_PATIENT: _("hear who your next patient is"),
    Intent.OPEN_CHART: _("open a patient's chart"),
    Intent.PENDING_REFILLS: _("see pending refill requests"),
    Intent.DICTATE_NOTE: _("dictate a visit note"),
    Intent.GREETING: _("hear what I can do"),
    Intent.OUT_OF_SCOPE: _("ask something else"),
    Intent.EMERGENCY: _("get emergency help"),
}


# How an intent is named on the analytics page.
INTENT_LABELS = {
    Intent.BOOK: _("Book an appointment"),
    Intent.CANCEL: _("Cancel an appointment"),
    Intent.RESCHEDULE: _("Move an appointment"),
    Intent.LIST_APPOINTMENTS: _("Upcoming appointments"),
    Intent.REFILL: _("Request a refill"),
    Intent.LIST_PRESCRIPTIONS: _("Prescriptions"),
    Intent.VIEW_RECORDS: _("Records"),
    Intent.CONTACT_PROVIDER: _("Message the care team"),
    Intent.OFFICE_INFO: _("Office hours and location"),
    Intent.SCHEDULE_TODAY: _("Provider: schedule"),
    Intent.NEXT_PATIENT: _("Provider: next patient"),
    Intent.OPEN_CHART: _("Provider: open a chart"),
    Intent.PENDING_REFILLS: _("Provider: pending refills"),
    Intent.DICTATE_NOTE: _("Provider: dictate a note"),
    Intent.GREETING: _("Greeting or help"),
    Intent.OUT_OF_SCOPE: _("Out of scope"),
    Intent.EMERGENCY: _("Emergency"),
}


def intents_for_role(role: str) -> frozenset[Intent]:
    own = PROVIDER_INTENTS if role == "provider" else PATIENT_INTENTS
    return own | SHARED_INTENTS


@dataclass(frozen=True)
class Prediction:
    intent: Intent
    confidence: float
    # Every candidate of the role, best first: (intent, probability).
    ranking: tuple[tuple[Intent, float], ...]

    @property
    def margin(self) -> float:
        """How far the best intent is ahead of the second (0 when they tie)."""
        if len(self.ranking) < 2:
            return self.confidence
        return self.ranking[0][1] - self.ranking[1][1]


def load_examples(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


_DIGITS = re.compile(r"\d")


def features_text(text: str) -> str:
    """What the classifier reads: the normal form with every digit as 0 (3 30 pm ~ 10 15 am)."""
    return _DIGITS.sub("0", normalise(text))


def build_pipeline():
    """An untrained classifier (kept here so the tests can cross-validate the same thing)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import FeatureUnion, make_pipeline

    return make_pipeline(
        FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1
                    ),
                ),
            ]
        ),
        # Fixed epochs and seed: the same model on every start.
        SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=50, tol=None, random_state=0),
    )


class IntentClassifier:
    def __init__(self, examples: list[dict]) -> None:
        texts = [features_text(e["text"]) for e in examples]
        labels = [e["intent"] for e in examples]
        self._pipeline = build_pipeline()
        self._pipeline.fit(texts, labels)
        self._classes = [Intent(c) for c in self._pipeline.classes_]

    def predict(self, text: str, role: str) -> Prediction:
        allowed = intents_for_role(role)
        probabilities = self._pipeline.predict_proba([features_text(text)])[0]
        scored = [
            (intent, float(p))
            for intent, p in zip(self._classes, probabilities, strict=True)
            if intent in allowed
        ]
        total = sum(p for _, p in scored) or 1.0
        ranking = tuple(
            sorted(((i, p / total) for i, p in scored), key=lambda item: item[1], reverse=True)
        )
        best, confidence = ranking[0]
        return Prediction(intent=best, confidence=min(1.0, max(0.0, confidence)), ranking=ranking)


_lock = threading.Lock()
_classifier: IntentClassifier | None = None


def classifier() -> IntentClassifier:
    """The process's classifier, trained on first use."""
    global _classifier
    if _classifier is None:
        with _lock:
            if _classifier is None:
                _classifier = IntentClassifier(load_examples(TRAINING_FILE))
    return _classifier


def warm_up() -> None:
    """Train the classifier in the background (the chat page calls this) so the first question is quick."""
    if _classifier is None:
        threading.Thread(target=classifier, name="intent-classifier-training", daemon=True).start()


def classify(text: str, role: str) -> Prediction:
    return classifier().predict(text, role)
