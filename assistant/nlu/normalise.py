"""One spelling for typed and spoken text.

Vosk writes lower case without punctuation and spells numbers out ("next
tuesday at three thirty p m"); people type "Next Tue at 3:30pm, Dr. Patel?".
Everything downstream (emergency rules, the intent classifier, date and name
matching) sees the same normal form: lower case, plain words, numbers as
digits ("next tuesday at 3 30 pm"), "doctor" for "dr".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from text_to_num import alpha2digit

# Typed shorthands; spoken text never has them.
_ABBREVIATIONS = {
    "dr": "doctor",
    "appt": "appointment",
    "appts": "appointments",
    "rx": "prescription",
    "meds": "medications",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tues": "tuesday",
    "thurs": "thursday",
    "wed": "wednesday",
    "mon": "monday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
    "tue": "tuesday",
    "thu": "thursday",
    "u": "you",
    "r": "are",
    "pm": "pm",
}

_SMALL = {"one": "1", "two": "2", "three": "3"}
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# text2num leaves isolated numbers up to three alone ("no one", "a second"), so
# small numbers and ordinals are converted here only where they are clearly a
# time or a date: "at two", "one thirty", "two pm", "the third of may".
_SMALL_TIME = re.compile(
    r"\b(?P<n>one|two|three)\b(?=\s+(?:o'?\s?clock|a\.?\s?m\b|p\.?\s?m\b|thirty|fifteen|forty|fifty|twenty|ten|oh\b|in the (?:morning|afternoon|evening)))"
)
_SMALL_AT = re.compile(
    r"\b(?P<pre>at|around|about|by|after|before|until|till|for) (?P<n>one|two|three)\b(?! of)"
)
_SMALL_PAST = re.compile(
    r"\b(?P<pre>past|after|quarter to|quarter till|quarter of) (?P<n>one|two|three)\b"
)
_ORDINALS = {"first": "1st", "second": "2nd", "third": "3rd"}
_ORDINAL_DATE = re.compile(
    rf"\b(?:(?P<month>{_MONTHS}) (?:the )?(?P<a>first|second|third)\b|the (?P<b>first|second|third)(?= of\b| at\b| in the\b| on\b|$| ({_MONTHS})\b))"
)
_AM_PM = re.compile(r"(?<=\d)\s*(?P<h>[ap])\.?\s?m\b\.?")
_AM_PM_WORD = re.compile(r"\b(?P<h>[ap])\.\s?m\.?(?=\s|$)")
_OCLOCK = re.compile(r"\bo'?\s?clock\b")
_NON_WORD = re.compile(r"[^a-z0-9:'/ ]+")
_LOOSE_COLON = re.compile(r"(?<!\d):|:(?!\d)")
_QUOTES = re.compile(r"(?<![a-z])'|'(?![a-z])")
_SPACES = re.compile(r"\s+")


def _small_number(match: re.Match[str]) -> str:
    return match.group(0).replace(match["n"], _SMALL[match["n"]])


def _ordinal(match: re.Match[str]) -> str:
    word = match["a"] or match["b"]
    return match.group(0).replace(word, _ORDINALS[word])


@lru_cache(maxsize=2048)
def normalise(text: str) -> str:
    """The normal form of an utterance (see the module docstring)."""
    value = unicodedata.normalize("NFKC", text or "").lower()
    value = value.replace("’", "'").replace("‘", "'").replace("-", " ")
    value = _AM_PM_WORD.sub(lambda m: f" {m['h']}m ", value)
    value = _NON_WORD.sub(" ", value)
    value = _LOOSE_COLON.sub(" ", value)
    value = _QUOTES.sub(" ", value)
    value = _SPACES.sub(" ", value).strip()
    value = " ".join(_ABBREVIATIONS.get(word, word) for word in value.split())
    value = _SMALL_TIME.sub(_small_number, value)
    value = _SMALL_AT.sub(_small_number, value)
    value = _SMALL_PAST.sub(_small_number, value)
    value = _ORDINAL_DATE.sub(_ordinal, value)
    value = alpha2digit(value, "en")
    value = _AM_PM.sub(lambda m: f" {m['h']}m", value)
    value = _OCLOCK.sub("oclock", value)
    return _SPACES.sub(" ", value).strip()


def words(text: str) -> list[str]:
    return normalise(text).split()
