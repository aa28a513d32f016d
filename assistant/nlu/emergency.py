"""Emergencies, checked before anything else on partial and final text.

Two detectors, either one firing counts:
- rules: explicit, reviewable phrases per kind of emergency (and pairs of signs
  that only together are one: a head knock *and* vomiting, low sugar *and*
  confusion, pregnancy *and* bleeding). They run first.
- a model: a small classifier (word and character n-grams, logistic
  regression) trained at first use on the emergency and near-miss author files
  under assistant/nlu/data/ plus every everyday request, so it catches ways of
  saying it that no rule lists ("I've got all my pills lined up").

What is said around the signs decides how sure we are:
- history, learning and figures of speech ("died of a heart attack", "had a
  stroke last year", "what are the signs of a stroke", "nearly had a heart
  attack over the bill", "records from after my overdose", "my nose is blocked,
  I can't breathe, refill my spray") are not emergencies: the conversation goes
  on;
- when those come with a sign of now ("right now", "just", "a minute ago",
  "still"), or the model alone is only fairly sure, the answer is uncertain:
  the 911 line is shown *and* the user is asked "Is this happening now?".
A negation right before a phrase cancels it ("no chest pain", "denies chest
pain"). Suicidal thoughts are never dismissed as history: at worst uncertain.

Nothing here books or changes anything. The reply names 911; 988 for suicide
and self-harm; Poison Control (1-800-222-1222) as well as 911 for overdoses
and poisoning (`emergency_advice`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext as _

from assistant.nlu.normalise import normalise

POISON_CONTROL = "1-800-222-1222"


class EmergencyKind(StrEnum):
    CARDIAC = "chest_pain"
    STROKE = "stroke"
    BREATHING = "breathing"
    BLEEDING = "bleeding"
    SUICIDE = "suicide"
    POISONING = "poisoning"
    UNCONSCIOUS = "unconscious"
    SEIZURE = "seizure"
    ALLERGY = "allergy"
    CHOKING = "choking"
    BURN = "burn"
    HEAD_INJURY = "head_injury"
    LOW_BLOOD_SUGAR = "low_blood_sugar"
    PREGNANCY = "pregnancy"
    OTHER = "other"


@dataclass(frozen=True)
class Emergency:
    kind: EmergencyKind
    phrase: str
    # False: history or a question may be all it is; ask "Is this happening now?" with the 911 line.
    certain: bool = True
    # "rules" or "model": which detector fired (for the emergency review page and tests).
    source: str = "rules"

    @property
    def crisis_line(self) -> bool:
        """Suicide and self-harm: the reply names 988 as well as 911."""
        return self.kind is EmergencyKind.SUICIDE

    @property
    def poison_control(self) -> bool:
        """Overdose and poisoning: the reply names Poison Control as well as 911."""
        return self.kind is EmergencyKind.POISONING


def emergency_advice(emergency: Emergency) -> str:
    """What to do, first thing in the reply (the dialogue adds what happens next)."""
    if emergency.crisis_line:
        text = _(
            "You matter, and help is available right now. Please call or text 988 (Suicide & Crisis "
            "Lifeline), or call 911 if you are in immediate danger."
        )
    elif emergency.poison_control:
        text = _(
            "This may be a poisoning or an overdose. Call 911 now if the person is unconscious, "
            "has trouble breathing or is having a seizure; otherwise call Poison Control at "
            "%(number)s right away. Do not wait for an appointment."
        ) % {"number": POISON_CONTROL}
    else:
        text = _(
            "This may be a medical emergency. Call 911 now, or go to the nearest emergency room. "
            "Do not wait for an appointment."
        )
    if not emergency.certain:
        text += " " + _("Is this happening now?")
    return text


# --- Rules ---------------------------------------------------------------------------

_CANT = r"(?:can't|cant|cannot|can not|couldn't|couldnt|unable to|not able to|struggling to|hard to|difficult to|hardly|barely|can hardly|can barely)"
_WHO = r"(?:my|his|her|their|the|our)"
_CHILD = r"(?:toddler|baby|child|kid|son|daughter|little (?:girl|boy|one)|boy|girl|grandson|granddaughter|\d+ (?:year|yr|month) old|teenager|teen)"
_SUBSTANCE = (
    r"(?:bleach|detergent|washing powder|(?:dishwasher|laundry|detergent|tide) pods?|pods|antifreeze|"
    r"drain cleaner|oven cleaner|toilet cleaner|cleaning (?:fluid|product|stuff)|chemicals?|"
    r"(?:rat|mouse|weed) (?:poison|killer)|poison|pesticide|insecticide|battery|batteries|"
    r"(?:windshield |windscreen )?washer fluid|lighter fluid|paint thinner|turpentine|"
    r"nail polish remover|lamp oil|bug spray|fertili[sz]er|mouthwash|essential oil)"
)
_MEDICINE = r"(?:pills?|tablets?|medicines?|medications?|meds|capsules?|paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|painkillers?|pain pills|sleeping pills|insulin|gummies|vitamins|iron)"
_EXCESS = (
    r"(?:too many|too much|way too|more (?:\w+ ){0,4}than (?:i|he|she|they|you)|a (?:whole|full) (?:bottle|pack|packet|box|strip)|"
    r"the whole (?:bottle|pack|packet|box)|all (?:of )?(?:my|his|her|the|their)|a handful|a bunch|"
    r"twice|double (?:dose|the dose)|a double|another dose|extra dose|an extra|loads of|lots of|a lot of)"
)

_PATTERNS: dict[EmergencyKind, tuple[str, ...]] = {
    EmergencyKind.SUICIDE: (
        r"(?:kill|killing|hurt|hurting|harm|harming|cut|cutting) (?:myself|my self)",
        r"(?:cut|cutting|slit|slitting|slashed|slashing) (?:open )?(?:my|his|her|their) (?:own )?(?:wrists?|arms?|throat)",
        r"suicid(?:e|al)",
        r"(?:end|ending|take|taking) my (?:own )?life",
        r"(?:want|wanna|going|planning) to die",
        r"(?:don't|dont|do not) want to (?:live|be alive|be here|exist)(?: any ?more)?",
        r"(?:no|not any) (?:reason|point) (?:(?:to|in|of) )?(?:live|living|go on|going on|keep going|keeping going|carry on|carrying on|be alive|being alive|being here)",
        r"(?:don't|dont|do not|can't|cant) see the point (?:any ?more|in living|of living|in going on)",
        r"better off (?:dead|without me|if i (?:was|were|am) (?:dead|gone))",
        r"(?:end|ending) it(?: all)?\b(?! for)",
        r"(?:can't|cant|cannot) go on (?:living|like this|any ?more)",
        r"(?:don't|dont|do not) want to wake up",
        r"(?:life|living) (?:is not|isn't|isnt) worth (?:it|living)",
        r"(?:wish|wished) i (?:was|were) dead",
        r"(?:overdose|overdosing) on purpose",
        r"(?:on purpose|deliberately) (?:\w+ ){0,3}(?:overdose|cut|hurt|pills)",
        r"hurt (?:myself|me) on purpose",
        r"(?:goodbye|suicide) (?:letters?|notes?)",
        r"(?:jump|jumping) (?:off|from) (?:the|my|a|this)",
        r"(?:use|using) it on myself",
        r"(?:take|taking|swallow) all (?:of )?my (?:\w+ )?(?:pills|tablets|medication|meds)",
        r"sleep forever",
        r"(?:want|wanting) it (?:all )?to (?:be over|end|stop)",
        r"(?:pills|tablets|rope|gun|knife|blade|razor) (?:\w+ ){0,2}(?:lined up|ready|right here|here|next to me|in front of me|beside me|with me|in my hand)",
        r"(?:a |my )?plans? to (?:end|kill|hurt|die|take my)|(?:end|ending) (?:things|everything)\b(?! with)",
        r"(?:saved|saving|stockpiled|stockpiling|hoarding|collected) (?:up )?(?:\w+ ){0,2}(?:pills|tablets|meds|medication)",
        r"(?:have|got|bought|holding) (?:a|the|my) (?:gun|rope|knife|blade)(?: \w+){0,5} (?:myself|ready|to end)",
        r"tonight is the night",
        r"standing on (?:the|a) (?:bridge|ledge|roof)",
    ),
    EmergencyKind.POISONING: (
        r"overdos(?:e|ed|ing)",
        r"poison(?:ed|ing)\b",
        rf"(?:took|taken|take|swallowed|ate|eaten|drank|drunk|had|popped) (?:\w+ ){{0,3}}{_EXCESS}(?: \w+){{0,4}} ?{_MEDICINE}?",
        rf"{_MEDICINE} (?:\w+ ){{0,3}}(?:than|then) (?:i'm|im|i am|i was|he was|she was|you're|prescribed|i should|told|supposed)",
        r"(?:took|taken|take|had|swallowed|used|given|gave) (?:\w+ ){0,3}more (?:\w+ ){0,4}(?:than|then) (?:\w+ ){0,3}(?:said|says|told|prescribed|supposed|allowed|should|meant|recommended|directed|safe)",
        rf"(?:took|taken|had|given|gave) (?:\w+ ){{0,4}}{_MEDICINE} (?:\w+ ){{0,2}}(?:twice|two times|again)",
        rf"(?:swallowed|swallow|drank|drunk|drinking|ate|eaten|eating|licked|sucked on|got into|gotten into|sprayed|inhaled|breathed in) (?:\w+ ){{0,5}}{_SUBSTANCE}",
        rf"{_CHILD} (?:\w+ ){{0,3}}(?:swallowed|ate|eaten|drank|drunk|got into|gotten into|has eaten|has swallowed|has drunk)",
        r"carbon monoxide",
        r"mixed (?:bleach|ammonia|chemicals|cleaning)",
        r"(?:fumes|gas leak)(?: \w+){0,4} (?:dizzy|sick|headache|faint|can't breathe)",
    ),
    EmergencyKind.CARDIAC: (
        r"chest (?:\w+ )?(?:pain|pains|pressure|tightness|is tight|feels tight|hurts|hurt|hurting|is hurting|is killing|aches|ache)",
        r"chest (?:feels|is|feel) (?:\w+ )?(?:heavy|tight|crushed|like)",
        rf"pain in (?:{_WHO} )?(?:middle of (?:{_WHO} )?)?chest",
        r"(?:crushing|squeezing|heavy|tight|sharp|severe|bad|strong) (?:\w+ ){0,3}(?:in|on|across|of) (?:the |my |his |her )?(?:middle of (?:my |his |her |the )?)?chest",
        r"(?:clutching|clutched|grabbed|grabbing|holding|clasping) (?:his|her|my|their) chest",
        r"heart attack",
        r"cardiac arrest",
        r"(?:my|his|her) heart (?:stopped|is pounding and|is racing and)",
        r"elephant (?:sitting|on) (?:on )?(?:my|his|her) chest",
        rf"pain (?:\w+ ){{0,3}}(?:going|goes|spreading|moving|shooting|radiating) (?:down|into|up|to) (?:{_WHO} )?(?:left )?(?:arm|jaw|back)",
    ),
    EmergencyKind.STROKE: (
        r"(?:having|had|is having|think .{0,20}) a stroke",
        r"stroke (?:symptoms|signs)",
        r"face (?:is |has |looks |just )?(?:\w+ )?(?:drooping|droops|drooped|dropped|droopy|numb|lopsided|crooked|sagging|fallen|gone numb|went numb|feels numb)",
        r"(?:drooping|droopy|lopsided|crooked) (?:face|mouth|smile)",
        r"(?:mouth|smile) (?:is |looks |has gone |went )?(?:crooked|lopsided|drooping|droopy)",
        r"(?:can't|cant|cannot) smile properly",
        rf"(?:one|left|right) side of {_WHO} (?:face|body|mouth)",
        rf"(?:numb|numbness|weak|weakness|paraly[sz]\w*|tingling) (?:on|in|down) (?:one side|the (?:left|right) side|{_WHO} (?:left|right) side)",
        rf"(?:can't|cant|cannot|can not) (?:move|feel|lift|use) (?:{_WHO} )?(?:left|right) (?:arm|leg|side|hand)",
        r"(?:can't|cant|cannot|can not) feel the (?:left|right) side",
        r"(?:left|right) (?:arm|side|leg|hand)(?: and (?:arm|leg|hand))? (?:\w+ ){0,2}(?:went|is|feels|suddenly|just) (?:\w+ )?(?:numb|weak|dead|limp|heavy|stopped working)",
        r"(?:arm|leg)s? (?:and (?:arm|leg) )?(?:\w+ ){0,4}(?:stopped working|hanging limp|is limp|went limp|gone limp)",
        r"speech is slurred|slurred speech|speech (?:is |sounds )?(?:weird|strange|wrong|garbled)|slurring (?:my|his|her)? ?(?:words|speech)|(?:words|speech) (?:are|is) slurr?ed",
        r"(?:words|speech) (?:are |is )?(?:coming out wrong|jumbled|not making sense)|talking gibberish",
        r"(?:can't|cant|cannot|can not) (?:speak|talk) (?:properly|right|clearly)|(?:can't|cant|cannot) get (?:my|his|her) words out",
        r"sudden(?:ly)? (?:\w+ ){0,4}(?:can't|cant|cannot|trouble|difficulty|unable to|problems?) (?:speak|talk|see|walk|speaking|talking|seeing|walking|move)",
        r"sudden(?:ly)? (?:\w+ ){0,2}(?:numb|weak|paraly[sz]ed)",
        r"all of a sudden (?:\w+ ){0,4}(?:can't|cant|cannot|numb|weak)",
        r"sudden (?:loss of vision|vision loss|blindness)|(?:can't|cant|cannot) see out of one eye",
        r"worst headache of (?:my|his|her) life",
    ),
    EmergencyKind.ALLERGY: (
        r"anaphyla(?:xis|ctic)",
        r"(?:throat|tongue|lips?|face|mouth) (?:\w+ )?(?:is |are |feels |feel )?(?:still )?(?:swelling|swollen|closing|tight|puffing up)(?: up)?",
        r"(?:used|gave|give|given|injected|jabbed|injection of|after (?:the|my|his|her)) (?:\w+ ){0,3}(?:epipen|epi pen|adrenaline|epinephrine)",
        r"(?:epipen|epi pen|adrenaline|epinephrine) (?:\w+ ){0,6}(?:still|not working|isn't working|worse)",
        r"allergic reaction (?:\w+ ){0,5}(?:throat|breathe|breathing|swelling|tight)",
    ),
    EmergencyKind.CHOKING: (
        r"(?:choking|is choking|am choking|choked and)",
        rf"(?:something|food|a \w+|it) (?:is |got |'s )?stuck in (?:{_WHO} )?(?:\w+'s |\w+s )?throat",
    ),
    EmergencyKind.BREATHING: (
        rf"{_CANT} (?:breathe|breath|breathing|catch (?:my|his|her) breath|get (?:any |enough )?air(?: in)?|get a breath)",
        r"(?:trouble|difficulty|problems?|struggling|difficult|hard) (?:breathing|to breathe)",
        r"short(?:ness)? of breath",
        r"(?:not|stopped|isn't|isnt|is not|wasn't) breathing",
        r"gasping(?: for (?:air|breath))?",
        r"(?:struggling|fighting) for (?:air|breath)",
        r"(?:turning|turned|going|gone|are going|is going) (?:blue|grey|gray)",
        r"suffocating",
        r"(?:bad|severe|really bad) asthma attack|asthma attack (?:\w+ ){0,3}(?:can't|cant|not helping)",
        r"(?:breathing|breathes) (?:really |very )?(?:fast|strange|weird|funny) and",
        r"sucking in (?:under|between) (?:his|her|the) ribs",
        r"(?:can't|cant|cannot) finish a sentence",
        r"inhaler (?:isn't|is not|not|isnt) (?:helping|working)",
    ),
    EmergencyKind.UNCONSCIOUS: (
        r"unconscious|unresponsive",
        r"(?:not|isn't|isnt|is not|won't|wont|doesn't|doesnt|does not|will not|not) (?:responding|respond|answering|answer)(?: to)?\b(?! (?:my|the|your) (?:emails?|messages?|texts?|calls?))",
        r"(?:won't|wont|will not|can't|cant|cannot|not|isn't|is not|doesn't|does not) (?:wake|waking)(?: up)?",
        r"(?:can't|cant|cannot|couldn't) wake (?:him|her|them|my \w+)(?: up)?",
        r"collapsed",
        r"passed out",
        r"(?:lying|laying|lies) on the (?:floor|ground|street) (?:\w+ ){0,3}(?:not moving|isn't moving|won't|unconscious|not breathing|and not)",
        r"(?:is|are|'s) not moving|isn't moving|stopped moving",
        r"(?:is |went |gone )?(?:floppy|limp) and",
    ),
    EmergencyKind.SEIZURE: (
        r"(?:having|had|is having|has) (?:a )?(?:seizure|fit|convulsion)",
        r"seizure (?:has |is )?(?:lasted|lasting|won't stop|not stopping|for \d+)",
        r"seizing|convulsing|convulsions",
        r"(?:body|arms|legs) (?:is |are )?(?:jerking|twitching|shaking)",
        r"eyes (?:are )?rolling back",
        r"twitching and (?:not|isn't|won't)",
    ),
    EmergencyKind.BURN: (
        r"(?:boiling|hot|scalding) (?:water|oil|coffee|tea|soup|fat|grease|pan)(?: \w+){0,4} (?:spilled|spilt|all over|onto|on (?:my|his|her|their|the))",
        r"(?:spilled|spilt|poured|pulled|knocked) (?:\w+ ){0,3}(?:boiling|hot) (?:water|oil|coffee|tea|soup|fat|pan)",
        r"scald(?:ed|ing)?\b",
        r"burn(?:ed|t|s)? (?:\w+ ){0,4}(?:badly|blister\w*|peeling|charred|white|all over)",
        r"(?:bad(?:ly)?|severe(?:ly)?|very bad|serious) burn(?:ed|t|s)?",
        r"(?:caught|on) fire",
        r"chemical (?:\w+ ){0,3}(?:splashed|in (?:my|his|her) eyes)|splashed (?:\w+ ){0,3}(?:in|into) (?:my|his|her) eyes",
        r"electric(?:al)? shock|electrocuted",
    ),
    EmergencyKind.BLEEDING: (
        r"(?:bleeding|bleeds) (?:a lot|heavily|badly|profusely|everywhere|so much|really bad|won't stop|wont stop|will not stop|nonstop|non stop)",
        r"(?:won't|wont|will not|can't|cant|cannot) stop (?:the )?bleeding",
        r"(?:blood|bleeding) (?:is )?(?:not stopping|won't stop|wont stop|will not stop|doesn't stop|does not stop)",
        r"bleeding (?:\w+ ){0,6}(?:won't|wont|will not|doesn't|does not|not) stop",
        r"(?:heavy|severe|uncontrolled|massive|bad) bleeding",
        r"(?:lot|lots|pool|pools) of blood",
        r"blood (?:is )?(?:everywhere|pouring|gushing|spurting)",
        r"(?:spurting|pouring|gushing) (?:\w+ )?blood",
        r"(?:losing|lost) (?:a lot of |so much )?blood",
        r"(?:coughing|vomiting|throwing|spitting) up (?:\w+ ){0,2}blood",
        r"(?:deep|bad|big) cut (?:\w+ ){0,6}(?:won't|wont|will not|not) stop",
        r"bleeding out",
        r"hemorrhag(?:e|ing)|haemorrhag(?:e|ing)",
        r"(?:was|been|got|i'm|im|he's|she's) (?:stabbed|shot)\b",
    ),
}

# Pairs of signs that only together make an emergency.
_PAIRS: dict[EmergencyKind, tuple[tuple[str, str], ...]] = {
    EmergencyKind.SUICIDE: (
        # Hopelessness said indirectly, with the means at hand: "there's no point, I have
        # my dad's gun". Either half alone may be everyday talk; together they are 988.
        (
            r"no (?:point|reason|way out|hope)|hopeless|(?:can't|cant|cannot) (?:take|do) (?:it|this) any ?more|"
            r"(?:want|wanna) (?:it|everything) (?:all )?(?:to )?(?:stop|end|be over)|(?:tired|sick) of (?:living|being alive|life)|"
            r"(?:a )?burden (?:to|on) (?:everyone|my family|them)|(?:say|said|saying) goodbye|(?:won't|wont|will not) be (?:here|around)",
            r"(?:\w+s? )?(?:gun|rifle|pistol|rope|noose|blade|razor)\b|(?:all|bottle of|box of|stash of|saved up|stockpiled) (?:\w+ ){0,2}(?:pills|tablets|meds)|"
            r"(?:bridge|ledge|roof|tracks)\b",
        ),
    ),
    EmergencyKind.STROKE: (
        # One limb or one side gone weak *with* confusion or trouble speaking (FAST
        # without the word "stroke"); weakness alone may be a sprain or the gym.
        (
            r"(?:arm|leg|hand|face|side)s? (?:\w+ ){0,2}(?:went|goes|is going|has gone|gone|is|feels|suddenly) (?:\w+ )?(?:weak|numb|limp|heavy|dead|floppy)",
            r"confus\w*|not making (?:any )?sense|slurr\w*|(?:can't|cant|cannot|trouble|struggling to) (?:speak|talk|get (?:\w+ )?words out)|"
            r"(?:words|speech) (?:\w+ )?(?:wrong|jumbled|garbled|strange)|dizzy|(?:lost|losing|blurr\w*) (?:\w+ )?vision|droop\w*",
        ),
    ),
    EmergencyKind.PREGNANCY: (
        (
            r"pregnan\w*|\d+ (?:weeks|months) (?:pregnant|along)|\d+ weeks\b|\d+ months\b",
            r"bleeding|blood|water (?:has )?broke|waters (?:have )?broken|waters broke|baby is coming|"
            r"contractions|can't feel (?:the )?baby|cant feel (?:the )?baby|baby (?:isn't|is not|not|stopped) moving|"
            r"(?:severe|terrible|really bad|bad|awful) (?:\w+ )?(?:pain|cramps|headache)|seizure|shaking|flashing lights|"
            r"blurr?(?:y|ed) vision|swelling of (?:my )?face|fainted|passed out",
        ),
    ),
    EmergencyKind.HEAD_INJURY: (
        (
            r"(?:hit|banged|bumped|knocked|hurt|struck|smashed) (?:\w+ ){0,2}(?:his|her|my|their|the) head|head (?:injury|wound|on the)|fell (?:\w+ ){0,6}head|head (?:hit|struck)",
            r"vomit\w*|throwing up|threw up|keeps being sick|being sick|drowsy|sleepy|confused|won't wake|not waking|"
            r"passed out|unconscious|knocked out|seizure|fit\b|not making sense|slurr\w*|blood from (?:his|her|my) (?:ear|nose)",
        ),
    ),
    EmergencyKind.LOW_BLOOD_SUGAR: (
        (
            r"(?:blood )?(?:sugar|glucose|sugars)(?: \w+){0,3} (?:low|dropped|dropping|crashed|crashing|\d\d\b)|hypo\b|hypoglyc\w*|diabetic|type 1|type one|insulin",
            r"confus\w*|not making sense|can't think|cant think|can't think straight|shaky|shaking|sweaty|sweating|drowsy|"
            r"won't eat|slurr\w*|passing out|passed out|won't wake|fainting|not responding|acting strange|acting weird",
        ),
    ),
}

# A negation right before the phrase (at most one word between) cancels it:
# "no chest pain", "i don't have chest pain", "not having chest pain". Kept that
# narrow on purpose: "not sure if i'm having a stroke" is still an emergency.
# "can't"/"cannot" are not negations here: they belong to "can't breathe".
_NEGATION = re.compile(
    r"\b(?:no|not|never|without|denies|denied|don't have|dont have|do not have|doesn't have|doesnt have|no longer|free of|negative for)\b(?:\s+\S+)?\s*$"
)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})")


_COMPILED: tuple[tuple[EmergencyKind, re.Pattern[str]], ...] = tuple(
    (kind, _compile(pattern)) for kind, patterns in _PATTERNS.items() for pattern in patterns
)
_COMPILED_PAIRS: tuple[tuple[EmergencyKind, re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (kind, _compile(first), _compile(second))
    for kind, pairs in _PAIRS.items()
    for first, second in pairs
)

# --- What is said around the signs ----------------------------------------------------

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# It happened before, to someone else, or long ago.
_HISTORY = re.compile(
    r"\b(?:died|dead|passed away|death|deaths|lost (?:him|her|them)) (?:\w+ )?(?:of|from|after)\b"
    r"|\b(?:\d+|a|one|two|three|few|several|many|couple of) (?:years?|yrs?|months?|weeks?|days?) ago\b"
    r"|\b(?:years|months) ago\b"
    r"|\blast (?:year|month|spring|summer|autumn|fall|winter|week|time|christmas|easter)\b"
    r"|\bin (?:19|20)\d\d\b|\bback in\b"
    rf"|\b(?:in|since|from|last|back in) (?:{_MONTHS})\b"
    r"|\b(?:as a (?:child|kid|teenager|teen|baby)|when i was (?:a |young|little))"
    r"|\bfrom when\b|\b(?:since|after|from|following) (?:my|the|his|her|their|that|when) (?:\w+ ){0,2}"
    r"(?:heart attack|stroke|overdose|seizure|surgery|operation|accident|concussion|admission|hospital|attack|"
    r"diagnosis|fall|episode|er visit|collapse|burn|reaction|bypass|stent|transplant|treatment)s?\b"
    r"|\b(?:history of|in recovery|years back|used to|once\b|previous|previously|ever since)"
    r"|\b(?:at|aged) \d\d\b"
    r"|(?<!just )(?<!only )\bhad (?:a |an |his |her |my )?(?:mini )?(?:heart attack|stroke|strokes|seizure|seizures|overdose|concussion|fall|reaction)s?\b(?! (?:just|now|right now|a minute|minutes))"
    r"|\b(?:the|a|his|her|my) (?:\w+ )?(?:patient|patients)\b"
    r"|\b(?:both )?(?:my )?(?:parents|grandparents) (?:had|have)\b"
)
# Recent past: may still be going on; asked about, not dismissed.
_RECENT = re.compile(
    r"\b(?:yesterday|last night|this morning|earlier today|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b"
)
# A question to learn, not a report.
_LEARNING = re.compile(
    r"\b(?:signs?|symptoms?|warning signs|first aid|heimlich|cpr|what does (?:a |an )?.{0,30} feel like|"
    r"how (?:do|can|would|should|to|does) (?:you|i|one|we|someone|they)?\s?(?:tell|know|help|treat|do|spot|recogni[sz]e|prevent|give|perform)|"
    r"what (?:should|do|would|can) (?:you|one|i|we) do (?:if|when)|what happens (?:if|when)|how many (?:people|americans)|"
    r"difference between|is it (?:true|dangerous|normal|safe|bad)|explain|what is (?:a |an )?(?:stroke|heart attack|anaphylaxis|seizure|overdose)|"
    r"what's (?:a |an |the )?(?:heimlich|cpr|anaphylaxis)|(?:the )?number (?:for|to call)|prevention|school project|just in case|"
    r"(?:talk|lecture|course|class|training|article|video|book) (?:on|about)|when should (?:i|you|we) call)\b"
)
# A figure of speech.
_FIGURATIVE = re.compile(
    r"\b(?:(?:nearly|almost) (?:had|have|gave|give|giving|gives|caused|died)|gave me a heart attack|give me a heart attack|"
    r"(?:is|are|was|it's|its|this|that) (?:\w+ )?killing me|(?:going to|gonna|will) kill me|kill (?:me|him|her) if|"
    r"dying (?:to|for)|could scream|(?:my )?(?:phone|battery|laptop|car) (?:died|is dead)|kill time|"
    r"kill (?:her|his|my|the) (?:cat|dog)|heart attack on a plate|lol|haha)\b"
)
# It has passed, or the person says they are all right.
_RESOLVED = re.compile(
    r"\b(?:(?:has|have|had) (?:\w+ )?(?:gone|stopped|passed|settled|cleared)(?! up)|gone away|went away|"
    r"stopped bleeding|(?:i'm|im|i am|he's|she's|he is|she is) (?:\w+ )?(?:fine|ok|okay|safe|alright|all right|better)(?: now)?|"
    r"feel(?:s|ing)? (?:\w+ )?(?:fine|better|ok|okay)|i treated it|no longer|not any more|not now|nothing now|"
    r"seems (?:fine|ok|okay|alright)|it's fine|its fine|healing (?:well|nicely)|everything is fine|not in any emergency|"
    r"in remission|under control|went down|has healed|all good now)\b"
)
# A sign that it is going on now.
_NOW = re.compile(
    r"\b(?:right now|now|just|a minute ago|minutes ago|an hour ago|seconds ago|currently|at the moment|still|"
    r"help|please help|911|is happening|getting worse|worse|tonight|suddenly|all of a sudden|can't stop|won't stop)\b"
)
# Suffering in place of something done: "I can't breathe through my nose".
_NOSE = re.compile(
    r"\b(?:nose|nasal|sinus\w*|stuffy|blocked up|congest\w*|cold)\b(?:.{0,40})\b(?:breathe|breath|breathing)\b|"
    r"\b(?:breathe|breath|breathing)\b(?:.{0,25})\b(?:through (?:my|his|her) nose|nose|nasal|stuffy)\b"
)
# A mild, ongoing complaint: "a bit short of breath when I run, lately".
_CHRONIC = re.compile(
    r"\b(?:when i (?:run|walk|exercise|climb|jog)|walking up|lately|on and off|for (?:a|two|three|\d+) (?:weeks?|months?)|"
    r"(?:a )?(?:bit|little) (?:of )?(?:chest|short|burn|cut|blister|rash|bump|bruise|wheez)|mild(?:ly)?|"
    r"(?:small|tiny|little|minor) (?:burn|cut|blister|bruise|rash|bump|scratch)|slight(?:ly)?|a touch of)"
)
# Kinds where a mild, ongoing complaint is not an emergency (a small burn, breathless on hills).
_CHRONIC_KINDS = frozenset(
    {
        EmergencyKind.CARDIAC,
        EmergencyKind.BREATHING,
        EmergencyKind.BURN,
        EmergencyKind.BLEEDING,
        EmergencyKind.ALLERGY,
    }
)


def _rule_hits(value: str) -> tuple[list[tuple[EmergencyKind, str]], bool]:
    """The signs found, and whether any sign was found negated ("no chest pain")."""
    found: list[tuple[EmergencyKind, str]] = []
    negated = False
    for kind, pattern in _COMPILED:
        for match in pattern.finditer(value):
            if _NEGATION.search(value[: match.start()]):
                negated = True
                continue
            found.append((kind, match.group(0)))
            break
    for kind, first, second in _COMPILED_PAIRS:
        a, b = first.search(value), second.search(value)
        if a and b:
            if _NEGATION.search(value[: b.start()]):
                negated = True
            else:
                found.append((kind, f"{a.group(0)} … {b.group(0)}"))
    return found, negated


@dataclass(frozen=True)
class _Context:
    history: bool
    recent: bool
    learning: bool
    figurative: bool
    resolved: bool
    nose: bool
    chronic: bool
    now: bool

    def doubt(self, kind: EmergencyKind | None = None) -> bool:
        return (
            self.history
            or self.learning
            or self.figurative
            or self.resolved
            or self.nose
            or (self.chronic and (kind is None or kind in _CHRONIC_KINDS))
        )


# What "now" must not be read in: "not now", "I'm fine now", "in recovery now".
_NOT_NOW = re.compile(r"\b(?:not|nothing|ok|okay|fine|safe|better|recovery|alright) now\b")


def _context(value: str) -> _Context:
    present = _NOT_NOW.sub(" ", _RESOLVED.sub(" ", value))
    return _Context(
        history=bool(_HISTORY.search(value)),
        recent=bool(_RECENT.search(value)),
        learning=bool(_LEARNING.search(value)),
        figurative=bool(_FIGURATIVE.search(value)),
        resolved=bool(_RESOLVED.search(value)),
        nose=bool(_NOSE.search(value)),
        chronic=bool(_CHRONIC.search(value)),
        now=bool(_NOW.search(present)),
    )


# Kinds whose reply must win when several are mentioned.
_PRIORITY = {
    EmergencyKind.SUICIDE: 0,
    EmergencyKind.POISONING: 1,
    EmergencyKind.PREGNANCY: 2,
    EmergencyKind.HEAD_INJURY: 3,
    EmergencyKind.LOW_BLOOD_SUGAR: 3,
}

# --- The model ----------------------------------------------------------------------

# The model alone: at or above SURE it is an emergency; from ASK, the user is asked.
MODEL_SURE = 0.75
MODEL_ASK = 0.5
MODEL_MIN_WORDS = 3
NONE = "none"


class EmergencyModel:
    """Word and character n-grams, logistic regression over the kinds and "none"."""

    def __init__(self, examples) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import SGDClassifier
        from sklearn.pipeline import FeatureUnion, make_pipeline

        texts = [_model_text(e.text) for e in examples]
        labels = [
            (e.kind or EmergencyKind.OTHER.value) if e.is_emergency else NONE for e in examples
        ]
        self._pipeline = make_pipeline(
            FeatureUnion(
                [
                    ("words", TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True)),
                    (
                        "chars",
                        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                    ),
                ]
            ),
            # Logistic loss by SGD (fast to train); fixed epochs and seed: the same model on
            # every start. Balanced weights because emergencies are the rare class.
            SGDClassifier(
                loss="log_loss",
                alpha=1e-5,
                max_iter=50,
                tol=None,
                class_weight="balanced",
                random_state=0,
            ),
        )
        self._pipeline.fit(texts, labels)
        self._classes = list(self._pipeline.classes_)

    def score(self, text: str) -> tuple[float, EmergencyKind]:
        """(probability that this is an emergency, its likeliest kind)."""
        probabilities = self._pipeline.predict_proba([_model_text(text)])[0]
        by_class = dict(zip(self._classes, probabilities, strict=True))
        emergency = 1.0 - float(by_class.get(NONE, 0.0))
        kinds = [(p, c) for c, p in by_class.items() if c != NONE]
        kind = max(kinds)[1] if kinds else EmergencyKind.OTHER.value
        return emergency, EmergencyKind(kind)


def _model_text(text: str) -> str:
    return re.sub(r"\d", "0", normalise(text))


_lock = threading.Lock()
_model: EmergencyModel | None = None


def emergency_model() -> EmergencyModel:
    """The process's emergency model, trained on first use (about a second)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from assistant.nlu.dataset import training_examples

                _model = EmergencyModel(training_examples())
    return _model


# --- Together -----------------------------------------------------------------------


def detect_emergency(text: str, *, use_model: bool = True) -> Emergency | None:
    """The emergency the text describes, if any (works on partial transcripts too)."""
    value = normalise(text)
    if not value:
        return None
    context = _context(value)
    hits, negated = _rule_hits(value)
    if hits:
        kind, phrase = min(hits, key=lambda hit: _PRIORITY.get(hit[0], 9))
        if not context.doubt(kind):
            return Emergency(kind=kind, phrase=phrase, certain=not context.recent)
        if kind is EmergencyKind.SUICIDE and not (context.learning or context.figurative):
            # Never dismiss suicidal thoughts as history: ask.
            return Emergency(kind=kind, phrase=phrase, certain=False)
        if context.now and not (context.learning or context.figurative or context.nose):
            return Emergency(kind=kind, phrase=phrase, certain=False)
    if not use_model or (negated and not hits):
        # "No chest pain": the rules read the negation; the model would only see the words.
        return None
    if not hits and len(value.split()) < MODEL_MIN_WORDS:
        # Two words ("blood test") are too few for the model; the rules know the short cries for help.
        return None
    probability, kind = emergency_model().score(text)
    if probability < MODEL_ASK:
        return None
    if hits:
        # The rules saw the signs and the words around them say it is past or a question:
        # the model can still make us ask, never make us sure.
        if probability >= MODEL_SURE and not (context.learning or context.figurative):
            return Emergency(kind=kind, phrase=value, certain=False, source="model")
        return None
    if context.doubt() and (context.learning or context.figurative or context.resolved):
        return None
    certain = probability >= MODEL_SURE and not context.doubt(kind) and not context.recent
    return Emergency(kind=kind, phrase=value, certain=certain, source="model")
