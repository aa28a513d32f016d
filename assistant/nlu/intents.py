"""What the user wants: a small text classifier trained at first use, calibrated.

TF-IDF over words (1-2 grams) and characters (2-5 grams, which survive Vosk's
misheard word endings and typing slips) feeding a linear model with logistic
loss (trained by stochastic gradient descent: as accurate as lbfgs on this
data in a tenth of the time). It learns from assistant/data/train.jsonl and
the training author files under assistant/nlu/data/ (see dataset.py); the
held-out author files listed in assistant/nlu/data/evaluation.txt and the
labelled set assistant/data/utterances.jsonl are never trained on.

Confidence is calibrated by temperature: the model's scores are divided by a
temperature fitted on author files it was not trained on (two halves of the
training authors, each scored by a model trained without it), so "0.8" means
right about 8 times in 10 (assistant/nlu/evaluate.py prints the reliability
table). The classifier reads `correction.focus(text)`: in "don't cancel it,
move it" only "move it".

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

from assistant.nlu.correction import focus

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


# Intents whose action changes the user's data (after a confirmation).
DATA_CHANGING = frozenset(
    {Intent.BOOK, Intent.CANCEL, Intent.RESCHEDULE, Intent.REFILL, Intent.CONTACT_PROVIDER}
)
# Below this the assistant asks rather than guesses.
CONFIDENCE_THRESHOLD = 0.5
# An action that changes data needs more than that before it is even proposed.
DATA_CHANGING_THRESHOLD = 0.7
# Two intents this close together are a question, not an answer.
AMBIGUITY_MARGIN = 0.15


@dataclass(frozen=True)
class Prediction:
    intent: Intent
    confidence: float
    # Every candidate of the role, best first: (intent, calibrated probability).
    ranking: tuple[tuple[Intent, float], ...]

    @property
    def margin(self) -> float:
        """How far the best intent is ahead of the second (0 when they tie)."""
        if len(self.ranking) < 2:
            return self.confidence
        return self.ranking[0][1] - self.ranking[1][1]

    @property
    def top2(self) -> tuple[tuple[Intent, float], ...]:
        """The two best intents with their confidences."""
        return self.ranking[:2]

    @property
    def needs_clarification(self) -> bool:
        """Ask instead of acting: the top two are close, or a change of data is not clear enough."""
        if self.intent == Intent.OUT_OF_SCOPE:
            # Nothing to do either way; the out-of-scope answer already offers a person.
            return False
        threshold = (
            DATA_CHANGING_THRESHOLD if self.intent in DATA_CHANGING else CONFIDENCE_THRESHOLD
        )
        return self.confidence < threshold or self.margin < AMBIGUITY_MARGIN

    @property
    def clarification_choices(self) -> tuple[Intent, ...]:
        """What a clarifying question offers: the two likeliest requests, then "something else"."""
        likely = [i for i, _p in self.ranking if i not in {Intent.OUT_OF_SCOPE, Intent.GREETING}]
        return (*likely[:2], Intent.OUT_OF_SCOPE)


def load_examples(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


_DIGITS = re.compile(r"\d")


def features_text(text: str) -> str:
    """What the classifier reads: the request that stands (see correction.py) in its
    normal form, with every digit as 0 (3 30 pm ~ 10 15 am)."""
    return _DIGITS.sub("0", focus(text))


# Where the request starts in a long utterance. People tell the story first and ask
# last ("my jaw has been clicking for ages ... so do you have anything next week?");
# in a bag of words the story's many words drown the few that ask.
_REQUEST_OPENER = re.compile(
    r"\b(?:so|can you|could you|can i|could i|can we|would you|will you|do you|is there|are there|"
    r"i'd like|i would like|i want|i need|i'd rather|i would rather|i should|i suppose|please|"
    r"what|when|which|who|where|how)\b"
)
# Below this many words the whole utterance is the request.
_LONG_UTTERANCE = 14


def request_clause(text: str) -> str:
    """The asking part of a long utterance in features form: from the last request
    opener that leaves at least four words, and never fewer than the last dozen words
    (the ask often points back: "... everything I'm prescribed, so what's on it?").
    Without an opener the whole utterance is the request ("tell doctor patel that ...")."""
    words = text.split()
    # Numbers (all 0 by now) say nothing about the request: only words count.
    if sum(1 for w in words if not w.isdigit()) < _LONG_UTTERANCE:
        return text
    start = None
    for match in _REQUEST_OPENER.finditer(text):
        if len(text[match.start() :].split()) >= 4:
            start = match.start()
    if start is None:
        return text
    clause, tail = text[start:], " ".join(words[-12:])
    return clause if len(clause) > len(tail) else tail


def _request_clauses(texts):
    return [request_clause(t) for t in texts]


def build_pipeline():
    """An untrained classifier (kept here so the tests can cross-validate the same thing)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(
        FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
                # The asking clause again, on its own: weighs the request over the story.
                (
                    "request",
                    make_pipeline(
                        FunctionTransformer(_request_clauses),
                        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                    ),
                ),
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


def _softmax(scores, temperature: float):
    import numpy as np

    scaled = np.asarray(scores, dtype=float) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=1, keepdims=True)


def fit_temperature(scores, labels: list[str], classes: list[str]) -> float:
    """The temperature that makes softmax(scores / T) best predict `labels` (least log loss)."""
    import numpy as np

    index = {c: n for n, c in enumerate(classes)}
    rows = [(n, index[label]) for n, label in enumerate(labels) if label in index]
    best, best_loss = 1.0, float("inf")
    # A grid is enough for one number, and exactly the same on every start.
    for temperature in np.geomspace(0.05, 5.0, 120):
        probabilities = _softmax(scores, float(temperature))
        loss = -sum(np.log(max(probabilities[r, c], 1e-12)) for r, c in rows) / max(len(rows), 1)
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def training_pairs(examples) -> tuple[list[str], list[str]]:
    """(texts, intents) the classifier learns from: every example but emergencies."""
    chosen = [e for e in examples if e.intent != Intent.EMERGENCY]
    return [features_text(e.text) for e in chosen], [e.intent for e in chosen]


class IntentClassifier:
    def __init__(self, examples, *, temperature: float | None = None) -> None:
        texts, labels = training_pairs(examples)
        self._pipeline = build_pipeline()
        self._pipeline.fit(texts, labels)
        self._classes = [Intent(c) for c in self._pipeline.classes_]
        self.temperature = temperature if temperature is not None else 1.0

    def scores(self, texts: list[str]):
        return self._pipeline.decision_function(texts)

    @property
    def classes(self) -> list[str]:
        return [c.value for c in self._classes]

    def predict(self, text: str, role: str) -> Prediction:
        allowed = intents_for_role(role)
        probabilities = _softmax(self.scores([features_text(text)]), self.temperature)[0]
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


def train_calibrated(examples) -> IntentClassifier:
    """A classifier on all `examples`, its temperature fitted on author files it had not seen.

    The author files are dealt into two halves; each half is scored by a model
    trained on everything else, and the temperature is fitted on those scores.
    """
    from assistant.nlu.dataset import Example

    examples = list(examples)
    authored = sorted({e.source for e in examples if e.style})
    halves = [set(authored[0::2]), set(authored[1::2])]
    scores, labels, classes = [], [], None
    model = IntentClassifier(examples)
    classes = model.classes
    import numpy as np

    for half in halves:
        held: list[Example] = [e for e in examples if e.source in half]
        rest = [e for e in examples if e.source not in half]
        partial = IntentClassifier(rest)
        texts, truth = training_pairs(held)
        if not texts:
            continue
        raw = partial.scores(texts)
        # Align the partial model's classes with the full model's (a class may be missing).
        aligned = np.full((len(texts), len(classes)), -10.0)
        for n, name in enumerate(partial.classes):
            aligned[:, classes.index(name)] = raw[:, n]
        scores.append(aligned)
        labels.extend(truth)
    if scores:
        model.temperature = fit_temperature(np.vstack(scores), labels, classes)
    return model


_lock = threading.Lock()
_classifier: IntentClassifier | None = None
_warming = False
# Not _lock: that one is held for the whole training, and a page must not wait for it.
_warming_lock = threading.Lock()


def classifier() -> IntentClassifier:
    """The process's classifier, trained on first use."""
    global _classifier
    if _classifier is None:
        with _lock:
            if _classifier is None:
                from assistant.nlu.dataset import training_examples

                _classifier = train_calibrated(training_examples())
    return _classifier


def _train_both() -> None:
    from assistant.nlu.emergency import emergency_model

    emergency_model()
    classifier()


def warm_up() -> None:
    """Train the emergency model and the classifier in the background (the chat page calls
    this) so the first question, and the first partial transcript, are quick."""
    from assistant.nlu import emergency

    global _warming
    with _warming_lock:
        # One training thread per process, however many pages open while it runs.
        if _warming or (_classifier is not None and emergency._model is not None):
            return
        _warming = True
    threading.Thread(target=_train_both, name="assistant-models-training", daemon=True).start()


def classify(text: str, role: str) -> Prediction:
    return classifier().predict(text, role)
