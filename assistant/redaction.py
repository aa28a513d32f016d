"""Identifiers taken out of what people say to the assistant, before it is stored or shown.

People read out their Social Security number, a card number or their
insurance number to the assistant ("my social is 123 45 6789", "one two three
four five six seven eight nine"). None of them is needed to answer, and each
would otherwise travel into `ai_interactions`, the analytics page, the admin,
the audit log and the message a transfer sends. `redact()` replaces them with
`[removed]`, for typed text and for transcripts alike.

What counts as a number: digits ("123-45-6789", "123 45 6789", "123456789"),
digit words ("one two three", "oh", "zero"; Vosk writes spoken digits that
way) and the Sino-Korean digit words the Korean model writes, joined by
spaces, dashes, dots, commas or a spoken "dash". A run of such pieces is removed when
its digits are SSN-shaped (exactly nine, or 3-2-4 groups inside a longer run)
or a card number (13 to 19 digits passing the Luhn check). The patient's own
insurance number is removed however it is spaced or cased.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REMOVED = "[removed]"

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "nought": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    # Sino-Korean digits, as the Korean Vosk model writes them.
    "공": "0",
    "영": "0",
    "일": "1",
    "이": "2",
    "삼": "3",
    "사": "4",
    "오": "5",
    "육": "6",
    "칠": "7",
    "팔": "8",
    "구": "9",
}
# Said between the groups of a number, and so part of it.
_JOINERS = frozenset({"dash", "hyphen", "-", "–", "—", ".", ","})
# Pieces: digit groups, words (Latin or Hangul), or single punctuation marks.
_PIECE = re.compile(r"\d+|[^\W\d_]+|\S", re.UNICODE)
_DOUBLE = {"double": 2, "triple": 3}

SSN_LENGTH = 9
CARD_LENGTHS = range(13, 20)


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    digits: str  # "" for a joiner


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _runs(text: str) -> list[list[_Piece]]:
    """Maximal runs of number pieces (joiners inside a run are kept, at its ends dropped)."""
    runs: list[list[_Piece]] = []
    current: list[_Piece] = []
    repeat = 1
    for match in _PIECE.finditer(text):
        token = match.group(0)
        lowered = token.lower()
        if token.isdigit():
            current.append(_Piece(match.start(), match.end(), token * repeat))
            repeat = 1
        elif lowered in _DIGIT_WORDS:
            current.append(_Piece(match.start(), match.end(), _DIGIT_WORDS[lowered] * repeat))
            repeat = 1
        elif lowered in _DOUBLE:
            # "double five" is 55; the word belongs to the number that follows it.
            repeat = _DOUBLE[lowered]
            current.append(_Piece(match.start(), match.end(), ""))
        elif lowered in _JOINERS and current:
            current.append(_Piece(match.start(), match.end(), ""))
        else:
            if current:
                runs.append(current)
            current = []
            repeat = 1
    if current:
        runs.append(current)
    trimmed = []
    for run in runs:
        while run and not run[-1].digits:
            run = run[:-1]
        while run and not run[0].digits and not _is_double(text, run[0]):
            run = run[1:]
        if run:
            trimmed.append(run)
    return trimmed


def _is_double(text: str, piece: _Piece) -> bool:
    return text[piece.start : piece.end].lower() in _DOUBLE


def _digits(run: list[_Piece]) -> str:
    return "".join(p.digits for p in run)


def _groups(run: list[_Piece]) -> list[tuple[int, int]]:
    """(first, last) piece indexes of the digit groups: typed digits are one group each,
    spoken digits next to each other one group."""
    groups: list[tuple[int, int]] = []
    start: int | None = None
    for index, piece in enumerate(run):
        if not piece.digits:
            if start is not None:
                groups.append((start, index - 1))
                start = None
            continue
        if start is None:
            start = index
        elif run[index - 1].digits and (len(run[index - 1].digits) > 1 or len(piece.digits) > 1):
            # Two typed groups side by side ("123 45") are separate groups.
            groups.append((start, index - 1))
            start = index
    if start is not None:
        groups.append((start, len(run) - 1))
    return groups


def _sensitive_spans(run: list[_Piece]) -> list[tuple[int, int]]:
    """Character spans of `run` that hold an SSN or a card number."""
    digits = _digits(run)
    if len(digits) == SSN_LENGTH or (len(digits) in CARD_LENGTHS and luhn_valid(digits)):
        return [(run[0].start, run[-1].end)]
    # A longer run may hold an SSN written in its 3-2-4 groups, or nine spoken digits.
    spans = []
    groups = _groups(run)
    sizes = [len(_digits(run[a : b + 1])) for a, b in groups]
    for i in range(len(groups) - 2):
        if sizes[i : i + 3] == [3, 2, 4]:
            spans.append((run[groups[i][0]].start, run[groups[i + 2][1]].end))
    for (a, b), size in zip(groups, sizes, strict=True):
        if size == SSN_LENGTH or (size in CARD_LENGTHS and luhn_valid(_digits(run[a : b + 1]))):
            spans.append((run[a].start, run[b].end))
    return spans


def _identifier_pattern(value: str) -> re.Pattern[str] | None:
    """`value` (an insurance number) with any spacing or dashes between its characters."""
    chars = [c for c in value if c.isalnum()]
    if len(chars) < 5:
        return None  # too short to tell from ordinary words and numbers
    return re.compile(
        r"(?<![\w])" + r"[\s\-./]*".join(re.escape(c) for c in chars) + r"(?![\w])",
        re.IGNORECASE,
    )


def redact(text: str, *, identifiers: Iterable[str] = ()) -> str:
    """`text` with SSNs, card numbers and the given identifiers replaced by [removed]."""
    if not text:
        return text
    for value in identifiers:
        pattern = _identifier_pattern(value or "")
        if pattern is not None:
            text = pattern.sub(REMOVED, text)
    spans: list[tuple[int, int]] = []
    for run in _runs(text):
        spans.extend(_sensitive_spans(run))
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = []
    position = 0
    for start, end in merged:
        out.append(text[position:start])
        out.append(REMOVED)
        position = end
    out.append(text[position:])
    return "".join(out)


def identifiers_of(user: Any) -> list[str]:
    """The user's own identifiers that redact() takes out besides SSN and card shapes."""
    profile = getattr(user, "patient_profile", None) if user is not None else None
    number = getattr(profile, "insurance_number", "") if profile is not None else ""
    return [number] if number else []


def redact_for(user: Any, text: str) -> str:
    """redact() with the user's own insurance number."""
    return redact(text, identifiers=identifiers_of(user))


class RedactingFilter(logging.Filter):
    """A logging filter: identifiers in any log line become [removed] (what a person said to
    the assistant can reach a log through an error message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
