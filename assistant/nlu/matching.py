"""Which of the user's own providers, medications or patients an utterance names.

Candidates always come from the user's own data (their providers, their
prescriptions, a provider's patients), so a name can only ever resolve to
something the user may already see. Matching is fuzzy (rapidfuzz), because
Vosk hears "lisinopril" as "lisa no pril" and "Patel" as "patil".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz

from assistant.nlu.normalise import normalise

T = TypeVar("T")

# Words that never name anyone on their own ("doctor", "my") and would
# otherwise match every candidate a little.
_STOP = frozenset(
    {
        "doctor",
        "dr",
        "my",
        "the",
        "a",
        "an",
        "to",
        "for",
        "of",
        "with",
        "and",
        "at",
        "on",
        "in",
        "is",
        "i",
        "me",
        "please",
        "patient",
        "mister",
        "mr",
        "mrs",
        "missus",
        "ms",
        "miss",
        "chart",
        "note",
        "s",
    }
)
# "patil" for "patel" is 80; short names must be heard exactly ("pat" is not "cat").
MATCH_THRESHOLD = 78.0
SHORT_NAME = 4


@dataclass(frozen=True)
class Match(Generic[T]):
    item: T
    score: float  # 0-100


def _tokens(text: str) -> list[str]:
    return [w.removesuffix("'s") for w in normalise(text).split()]


def _best_window_score(phrase: str, tokens: Sequence[str]) -> float:
    """Best similarity of `phrase` to any run of 1-3 consecutive words (also joined without spaces)."""
    phrase = phrase.replace(" ", "")
    if len(phrase) < 3:
        return 0.0
    best = 0.0
    for size in (1, 2, 3):
        for start in range(0, max(0, len(tokens) - size + 1)):
            window = tokens[start : start + size]
            if size == 1 and window[0] in _STOP:
                continue
            joined = "".join(window)
            score = fuzz.ratio(phrase, joined)
            if len(phrase) <= SHORT_NAME and score < 100:
                continue
            if score > best:
                best = score
    return best


def best_matches(text: str, candidates: Iterable[tuple[T, Sequence[str]]]) -> list[Match[T]]:
    """Candidates whose names (any alias) occur in `text`, best first.

    `candidates` pairs each item with its aliases ("anika patel", "patel", "anika").
    """
    tokens = _tokens(text)
    if not tokens:
        return []
    scored: list[Match[T]] = []
    for item, aliases in candidates:
        score = max((_best_window_score(normalise(a), tokens) for a in aliases if a), default=0.0)
        if score >= MATCH_THRESHOLD:
            scored.append(Match(item=item, score=score))
    scored.sort(key=lambda m: m.score, reverse=True)
    return scored


def unique_best(matches: list[Match[T]], *, margin: float = 5.0) -> T | None:
    """The best match when it is clearly ahead of the next one, else None (ambiguous or none)."""
    if not matches:
        return None
    if len(matches) > 1 and matches[0].score - matches[1].score < margin:
        return None
    return matches[0].item


def person_aliases(full_name: str) -> list[str]:
    """ "Anika Patel" -> ["anika patel", "patel", "anika"]: full name, last name, first name."""
    parts = [p for p in normalise(full_name).split() if p not in _STOP]
    if not parts:
        return []
    aliases = [" ".join(parts)]
    if len(parts) > 1:
        aliases += [parts[-1], parts[0]]
    return aliases


def medication_aliases(name: str) -> list[str]:
    """ "Lisinopril 10 mg" -> ["lisinopril 10 mg", "lisinopril"]."""
    value = normalise(name)
    first = value.split()[0] if value else ""
    return [a for a in dict.fromkeys([value, first]) if a]
