"""Negation and self-correction: "not X, Y" and "X, I mean Y" both ask for Y.

A bag-of-words classifier reads "don't cancel it, move it" as cancel plus
move and may well pick cancel. People put what they want after what they
don't: after the negated clause ("not cancel, but move it", "I don't want to
book, I want to message Dr Chen") or after a correction marker ("cancel, no
wait, reschedule", "refill, I mean my records"). `focus()` returns that last
part, so the classifier reads the request that stands.

Typed text marks the clauses with commas; speech does not, so without
punctuation a clause starts at a word that opens a request ("but", "just",
"I want", "can you"...).
"""

from __future__ import annotations

import re

from assistant.nlu.normalise import normalise

# Said between two requests, these take back what came before.
_CORRECTION = re.compile(
    r"\b(?:i mean|i meant|no wait|wait no|oops|scratch that|or rather|never mind|nevermind)\b"
    # "actually" only where it opens a clause ("..., actually cancel it", "no actually").
    r"|(?:[,;.!?-]\s*|\b(?:no|oh|hmm|wait|um|uh)\s+)actually\b"
    # A bare "no" between two requests: "move it, no, cancel it".
    r"|[,;.!?-]\s*no\s*[,;.!?-]"
)
# A request that opens negated: "don't cancel", "not a refill", "no need to
# reschedule", "rather than cancelling", "I'm not booking", "forget rescheduling".
_NEGATED = re.compile(
    r"^(?:(?:no|nope|ok|okay|please|so|oh|um|well)[, ]+)*(?:i |we )?(?:do not|don't|dont|did not|didn't|am not|i'm not|im not|not|no|never|rather than|instead of|forget|no need to|there's no need to|i'd rather not|i would rather not|rather not)\b"
)
_INTERJECTION = re.compile(r"^\s*(?:no|nope|ok|okay|please|so|oh|um|well|sorry)\s*$")
_CLAUSE = re.compile(r"[,;.!?]+|\s+-+\s+")
# Without punctuation: words that start the wanted request after a negated one.
_PIVOT = re.compile(
    r"\b(?:but|just|only|instead|i want|i'd like|i would like|i need|i only want|can you|could you|can we|could we|can i|can it|could it|what|when|where|who|which|please|"
    # Request verbs: "dont cancel move it".
    r"show|tell|read|open|start|send|message|cancel|move|book|reschedule|refill|change|push|keep)\b"
)
# Words that say nothing about which request was negated ("i don't want to ...").
_FILLER = frozenset(
    {"i", "want", "to", "need", "a", "an", "the", "my", "it", "wanna", "like", "would", "d"}
)


def _after_correction(raw: str) -> str | None:
    markers = list(_CORRECTION.finditer(raw))
    if not markers:
        return None
    last = markers[-1]
    before, after = raw[: last.start()], raw[last.end() :]
    after = re.sub(r"^[\s,;.!?-]*(?:(?:no|sorry|wait|i mean|i meant)\b[\s,;.!?-]*)*", "", after)
    if normalise(before) and normalise(after):
        return after
    return None


def _after_negation(raw: str) -> str | None:
    if not _NEGATED.match(raw):
        return None
    clauses = [c for c in _CLAUSE.split(raw) if normalise(c)]
    while len(clauses) > 1 and _INTERJECTION.match(clauses[0]):
        clauses = clauses[1:]
    if len(clauses) >= 2 and _NEGATED.match(clauses[0].strip()):
        # The first clause is the one negated; what follows is the request.
        return " ".join(clauses[1:])
    value = normalise(raw)
    start = _NEGATED.match(value)
    if start is None:
        return None
    for pivot in _PIVOT.finditer(value, pos=start.end()):
        negated = [w for w in value[start.end() : pivot.start()].split() if w not in _FILLER]
        tail = value[pivot.start() :].split()
        # The negated request names something ("don't cancel"); the wanted one takes two words.
        if negated and len(tail) >= 2:
            return " ".join(tail)
    return None


def focus(text: str) -> str:
    """The part of `text` that says what the user wants now (its normal form)."""
    raw = (text or "").lower()
    corrected = _after_correction(raw)
    if corrected is not None:
        raw = corrected
    negated = _after_negation(raw)
    if negated is not None:
        raw = negated
    return normalise(raw)
