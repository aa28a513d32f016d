"""What people call things, resolved against their own data.

- "my next appointment", "the upcoming one": the earliest that fits the rest of
  what was said;
- "dr smith" when no provider of theirs is called that: the name, so the answer
  can say so and offer the closest of their own providers;
- "a refill of metformin" when they have no metformin: the medication named,
  so the answer can say they have no such prescription (rather than picking
  another one of theirs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rapidfuzz import fuzz

from assistant.nlu.matching import MATCH_THRESHOLD, medication_aliases, person_aliases
from assistant.nlu.normalise import normalise
from assistant.nlu.when import MONTHS, PARTS_OF_DAY, WEEKDAYS

T = TypeVar("T")

_NEXT = re.compile(
    r"\b(?:next|upcoming|soonest|earliest|nearest|coming)\s+(?:appointment|appt|visit|booking|one|slot)s?\b"
    r"|\bthe next one\b|^next(?: one)?$"
)

# "dr smith", "doctor smith", "dr. smith": the word after the title is a name.
_TITLED_NAME = re.compile(r"\b(?:dr|doctor|nurse|np)\.?\s+(?P<name>[a-z][a-z'\-]{1,})")
_NOT_NAMES = frozenset(
    {
        "my",
        "the",
        "a",
        "an",
        "your",
        "our",
        "appointment",
        "visit",
        "office",
        "about",
        "for",
        "to",
        "on",
        "at",
        "that",
        "this",
        "and",
        "or",
        "please",
        "tomorrow",
        "today",
        "tonight",
        "next",
        "soon",
        "asap",
        "now",
        "later",
        "again",
        "back",
        "who",
        "which",
        "when",
        "if",
        "so",
        "it",
        "is",
        "was",
        "can",
        "could",
        "would",
        "will",
        "said",
        "says",
        "told",
        "appointments",
        "clinic",
        "urgently",
        "right",
        "here",
        "there",
        "in",
        "with",
        "from",
        "by",
        "as",
        "regarding",
        "re",
        "because",
        "before",
        "after",
        "me",
        "him",
        "her",
        "them",
        "us",
        "know",
        "name",
        "who's",
        "whos",
        "asked",
        "office's",
        # What follows "doctor" in ordinary sentences rather than a name.
        "something",
        "anything",
        "everything",
        "nothing",
        "someone",
        "anyone",
        "some",
        "any",
        "all",
        "first",
        "available",
        "free",
        "earliest",
        "soonest",
        "write",
        "prescribe",
        "say",
        "give",
        "work",
        "call",
        "check",
        "see",
        "look",
        "help",
        "tell",
        "send",
        "get",
        "make",
        "take",
        "think",
        "need",
        "want",
        "wants",
        "thinks",
        "gave",
        "prescribed",
        "recommended",
        "wrote",
        "too",
        "also",
        "instead",
        "only",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "his",
        "their",
        "week",
        "month",
        "not",
        "no",
        "yes",
        "just",
        "thanks",
    }
    # Days, months and parts of the day are when, not who.
    | set(WEEKDAYS)
    | set(MONTHS)
    | set(PARTS_OF_DAY)
)

# Words after "refill of"/"prescription for" that name no medication in particular.
_GENERIC = frozenset(
    {
        "my",
        "the",
        "a",
        "an",
        "it",
        "this",
        "that",
        "them",
        "one",
        "some",
        "more",
        "please",
        "medication",
        "medications",
        "medicine",
        "medicines",
        "meds",
        "med",
        "pills",
        "pill",
        "tablets",
        "tablet",
        "prescription",
        "prescriptions",
        "refill",
        "refills",
        "script",
        "drug",
        "drugs",
        "blood",
        "pressure",
        "heart",
        "sugar",
        "cholesterol",
        "thyroid",
        "inhaler",
        "cream",
        "usual",
        "regular",
        "daily",
        "other",
        "another",
        "new",
        "same",
    }
)
_MEDICATION_AFTER = re.compile(
    r"\b(?:refill|refills|renew|renewal|repeat|more|prescription|script|supply)\s+"
    r"(?:(?:of|for|on)\s+)?(?:(?:my|the|some|more)\s+)?(?P<name>[a-z][a-z\-]{3,})"
)
_MEDICATION_BEFORE = re.compile(
    r"\b(?P<name>[a-z][a-z\-]{3,})\s+(?:refill|refills|prescription|renewal|tablets|pills)\b"
)
# Common medicines by name or by the family ending every drug of it shares: enough to
# tell "metformin" (a medicine this patient does not have) from an ordinary word.
_KNOWN_MEDICATIONS = frozenset(
    {
        "metformin",
        "lisinopril",
        "atorvastatin",
        "amlodipine",
        "metoprolol",
        "omeprazole",
        "simvastatin",
        "losartan",
        "albuterol",
        "salbutamol",
        "gabapentin",
        "hydrochlorothiazide",
        "sertraline",
        "levothyroxine",
        "insulin",
        "warfarin",
        "ibuprofen",
        "acetaminophen",
        "paracetamol",
        "aspirin",
        "amoxicillin",
        "azithromycin",
        "prednisone",
        "fluoxetine",
        "citalopram",
        "escitalopram",
        "trazodone",
        "montelukast",
        "furosemide",
        "pantoprazole",
        "tramadol",
        "oxycodone",
        "hydrocodone",
        "clopidogrel",
        "rosuvastatin",
        "bupropion",
        "duloxetine",
        "venlafaxine",
        "tamsulosin",
        "carvedilol",
        "meloxicam",
        "naproxen",
        "cetirizine",
        "loratadine",
        "methotrexate",
        "lamotrigine",
        "levetiracetam",
        "quetiapine",
        "aripiprazole",
        "lithium",
        "digoxin",
        "apixaban",
        "rivaroxaban",
        "glipizide",
        "sitagliptin",
        "semaglutide",
        "ozempic",
        "spironolactone",
        "allopurinol",
        "propranolol",
        "diazepam",
        "lorazepam",
        "alprazolam",
        "clonazepam",
        "zolpidem",
        "adderall",
        "ritalin",
        "methylphenidate",
        "epipen",
        "epinephrine",
        "estradiol",
        "progesterone",
        "testosterone",
        "doxycycline",
        "cephalexin",
        "ciprofloxacin",
        "nitrofurantoin",
        "valacyclovir",
        "acyclovir",
        "fluticasone",
        "budesonide",
        "ventolin",
        "symbicort",
        "advair",
    }
)
_DRUG_ENDINGS = (
    "pril",
    "olol",
    "statin",
    "formin",
    "sartan",
    "dipine",
    "prazole",
    "azole",
    "cillin",
    "mycin",
    "floxacin",
    "cycline",
    "oxetine",
    "pram",
    "zepam",
    "zolam",
    "tidine",
    "lukast",
    "gliptin",
    "glutide",
    "sone",
    "olone",
    "semide",
    "thiazide",
    "vir",
    "mab",
    "nib",
    "parin",
    "xaban",
    "profen",
    "triptan",
    "pine",
)


def wants_next(text: str) -> bool:
    """ "my next appointment", "the upcoming one": the earliest of those meant."""
    return bool(_NEXT.search(normalise(text)))


def _similarity(name: str, aliases: Sequence[str]) -> float:
    return max((fuzz.ratio(name, normalise(a).replace(" ", "")) for a in aliases if a), default=0.0)


def named_person(text: str) -> str | None:
    """The name after "dr"/"doctor" in `text`, if one was said."""
    for match in _TITLED_NAME.finditer(normalise(text)):
        name = match["name"].removesuffix("'s")
        if name not in _NOT_NAMES:
            return name
    return None


def unknown_person(
    text: str, people: Sequence[T], name_of: Callable[[T], str], *, matched: bool
) -> str | None:
    """The name said when it matches none of `people` (`matched`: the caller's own matching
    already found one), else None."""
    if matched:
        return None
    name = named_person(text)
    if name is None:
        return None
    if any(_similarity(name, person_aliases(name_of(p))) >= MATCH_THRESHOLD for p in people):
        return None
    return name


def closest(
    name: str, people: Sequence[T], name_of: Callable[[T], str], *, limit: int = 3
) -> list[T]:
    """`people` most like `name` first (all of them when few), at most `limit`."""
    ranked = sorted(
        people, key=lambda p: (-_similarity(name, person_aliases(name_of(p))), name_of(p))
    )
    return ranked[:limit]


def named_medication(text: str) -> str | None:
    """The medicine a request names ("a refill of metformin"), when it is recognisably one."""
    value = normalise(text)
    for pattern in (_MEDICATION_AFTER, _MEDICATION_BEFORE):
        for match in pattern.finditer(value):
            word = match["name"]
            if word in _GENERIC:
                continue
            if word in _KNOWN_MEDICATIONS or word.endswith(_DRUG_ENDINGS):
                return word
    for word in value.split():
        if word in _KNOWN_MEDICATIONS:
            return word
    return None


def is_among(name: str, prescriptions: Sequence[Any]) -> bool:
    """Whether `name` is (fuzzily) one of these prescriptions' medicines."""
    return any(
        _similarity(name, medication_aliases(p.medication_name)) >= MATCH_THRESHOLD
        for p in prescriptions
    )
