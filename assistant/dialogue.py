"""The conversation: a small state machine around the actions.

States (DialogueState.awaiting):
- None: idle; the next utterance is understood afresh.
- "slot": an action asked for something (DialogueState.slot: "when", "provider",
  "message"...); the next utterance answers it, unless it is clearly something
  else or the user gives up ("never mind").
- "confirm": an action proposed something; yes runs it, no drops it.
- "clarify": the intent was uncertain; the user picks one of the candidates.

Every utterance is checked for an emergency before anything else, in every
state. An emergency never runs an action; it answers with 911 (988 for
suicidal thoughts) and offers to pass the message to the care team.

The state is a small JSON-able dict, kept in the user's session by the page
and the socket alike (assistant/conversation.py), so a conversation survives
between turns and across a switch from one to the other.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from assistant.actions import Action, Link, Outcome, Turn, action_for
from assistant.nlu import Understanding, understand
from assistant.nlu.emergency import Emergency, emergency_advice
from assistant.nlu.intents import INTENT_PHRASES, Intent, intents_for_role
from assistant.nlu.normalise import normalise
from assistant.nlu.when import When

# When to ask rather than guess lives with the classifier (Prediction.needs_clarification).
# A clearly different request while waiting for an answer switches to it.
SWITCH_CONFIDENCE = 0.7

_YES = re.compile(
    r"^(?:yes|yeah|yep|yup|ya|sure|ok|okay|o k|alright|all right|please do|please|go ahead|do it|confirm|confirmed|correct|that's right|thats right|right|send it|save it|book it|sounds good|absolutely|of course|yes please|please send it|perfect)(?: (?:please|thanks|thank you|do it|go ahead))?$"
)
_NO = re.compile(
    r"^(?:no|nope|nah|no thanks|no thank you|don't|do not|cancel|stop|never mind|nevermind|not now|wait|hold on|don't send it|do not send it|forget it|no don't)(?: .*)?$"
)
# A bare date ("next week", "tomorrow at 3") reads as booking or moving; while one of
# the two waits for a date, it answers that question rather than starting the other.
_DATE_LED = frozenset({Intent.BOOK, Intent.RESCHEDULE})
_ABANDON = re.compile(r"^(?:never mind|nevermind|forget it|cancel that|stop|start over|quit|exit)$")
# Slots answered with a name: a short answer there is the name, whatever the classifier makes of it.
_NAME_SLOTS = frozenset({"provider", "patient", "medication", "appointment"})
_NAME_ANSWER_WORDS = 3
_ORDINAL_CHOICE = {
    "first": 0,
    "1st": 0,
    "1": 0,
    "the first one": 0,
    "second": 1,
    "2nd": 1,
    "2": 1,
    "the second one": 1,
    "third": 2,
    "3rd": 2,
    "3": 2,
    "the third one": 2,
}
# Ways of picking the "something else" choice of a clarifying question.
_SOMETHING_ELSE = frozenset(
    {"something else", "neither", "neither of those", "none of those", "other"}
)


# A pick among choices is a few words; more than this restates the request.
_PICK_WORDS = 6


def _restates(understanding: Understanding, chosen: Intent) -> bool:
    """Whether an answer to "did you want A or B?" is a whole request for the chosen one,
    not just a pick ("the message one"): confidently that intent, and longer than a pick."""
    prediction = understanding.prediction
    return (
        prediction is not None
        and prediction.intent == chosen
        and prediction.confidence >= SWITCH_CONFIDENCE
        and len(understanding.normalised.split()) > _PICK_WORDS
    )


@dataclass
class DialogueState:
    intent: str | None = None
    awaiting: str | None = None
    slot: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    candidates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> DialogueState:
        """The state stored earlier; a fresh one when it is missing or not what we wrote."""
        if not isinstance(data, dict):
            return cls()
        try:
            state = cls(
                intent=data.get("intent"),
                awaiting=data.get("awaiting"),
                slot=data.get("slot"),
                slots=dict(data.get("slots") or {}),
                candidates=[str(c) for c in data.get("candidates") or []],
            )
        except (TypeError, ValueError):
            return cls()
        if state.awaiting not in {None, "slot", "confirm", "clarify"}:
            return cls()
        return state


@dataclass
class Reply:
    text: str
    intent: str
    confidence: float
    emergency: bool = False
    crisis_line: bool = False
    links: list[Link] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    awaiting: str | None = None
    navigate: str | None = None
    resulted_in_appointment: bool = False
    resulted_in_provider_transfer: bool = False
    # models.InteractionOutcome: what the exchange came to, for the log and analytics.
    outcome: str = "none"
    preview: str | None = None
    # What the person said, as stored (identifiers removed): the page shows this instead.
    said: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 3),
            "emergency": self.emergency,
            "crisis_line": self.crisis_line,
            "links": [link.to_json() for link in self.links],
            "suggestions": [str(s) for s in self.suggestions],
            "awaiting": self.awaiting,
            "navigate": self.navigate,
            "preview": self.preview,
            "said": self.said,
        }


def role_of(user: User) -> str:
    return "provider" if user.role == Role.PROVIDER else "patient"


def local_now(user: User, now: dt.datetime | None = None) -> dt.datetime:
    """`now` in the zone the user reads and says times in: a provider's working hours' zone,
    a patient's own (as every page shows them)."""
    from patients.timezones import zone_for_user

    moment = now or timezone.now()
    return moment.astimezone(zone_for_user(user))


def emergency_reply(emergency: Emergency, role: str, said: str) -> tuple[Reply, DialogueState]:
    """Call 911 (988, Poison Control), nothing booked; patients are offered a message to their care team.

    When the words may be history or a question (`emergency.certain` is False) the
    911 line is shown all the same, and the user is asked whether it is happening now.
    """
    text = emergency_advice(emergency)
    state = DialogueState()
    suggestions: list[str] = []
    awaiting = None
    if not emergency.certain:
        text += " " + _("I have not booked or changed anything.")
        state = DialogueState(
            awaiting="slot", slot="emergency_check", slots={"text": said, "kind": emergency.kind}
        )
        suggestions = [_("Yes, it is happening now"), _("No")]
        awaiting = "slot"
    elif role == "patient":
        text += " " + _("I have not booked or changed anything.")
        text += " " + _(
            "Would you like me to tell your care team as well? I'll send them this conversation."
        )
        state = DialogueState(
            intent=Intent.CONTACT_PROVIDER.value,
            awaiting="slot",
            slot="emergency_transfer",
            slots={
                "message": _("Emergency reported through the assistant: “%(text)s”")
                % {"text": said}
            },
        )
        suggestions = [_("Yes, tell my care team"), _("No")]
        awaiting = "confirm"
    else:
        text += " " + _("I have not booked or changed anything.")
    reply = Reply(
        text=text,
        intent=Intent.EMERGENCY.value,
        confidence=1.0,
        emergency=True,
        crisis_line=emergency.crisis_line,
        suggestions=suggestions,
        awaiting=awaiting,
        outcome="emergency_advised",
    )
    return reply, state


class Dialogue:
    """Answers one utterance at a time for one user; `respond` is the only entry point."""

    def __init__(
        self,
        user: User,
        *,
        now: dt.datetime | None = None,
        conversation_id: uuid.UUID | None = None,
    ) -> None:
        self.user = user
        self.role = role_of(user)
        self.now = local_now(user, now)
        self.conversation_id = conversation_id

    def respond(self, text: str, state: DialogueState) -> tuple[Reply, DialogueState]:
        text = " ".join((text or "").split())
        dictating = state.awaiting == "slot" and state.slot == "note"
        understanding = understand(text, self.role, self.now, dictating=dictating)
        if understanding.emergency is not None:
            return emergency_reply(understanding.emergency, self.role, text)
        if not normalise(text):
            return self._reply(
                Outcome(_("I didn't catch that. Could you say it again?"), result="none"),
                Intent.GREETING,
                0.0,
                state,
            )

        if state.awaiting == "slot" and state.slot == "emergency_transfer":
            return self._after_emergency(understanding, state)
        if state.awaiting == "slot" and state.slot == "emergency_check":
            return self._after_emergency_check(understanding, state)
        if state.awaiting == "confirm":
            return self._on_confirmation(understanding, state)
        if state.awaiting == "slot":
            return self._on_slot(understanding, state)
        if state.awaiting == "clarify":
            return self._on_clarification(understanding, state)
        return self._fresh(understanding)

    # --- States ------------------------------------------------------------------

    def _fresh(
        self, understanding: Understanding, *, slots: dict[str, Any] | None = None
    ) -> tuple[Reply, DialogueState]:
        prediction = understanding.prediction
        assert prediction is not None  # only emergencies come without one
        intent = prediction.intent
        if intent == Intent.OUT_OF_SCOPE:
            return self._out_of_scope(understanding)
        if prediction.needs_clarification:
            return self._clarify(understanding)
        return self._run(intent, understanding, slots=slots)

    def _run(
        self,
        intent: Intent,
        understanding: Understanding,
        *,
        slots: dict[str, Any] | None = None,
        answering: str | None = None,
    ) -> tuple[Reply, DialogueState]:
        action = action_for(intent)
        if action is None or self.role not in action.roles:
            return self._reply(
                Outcome(_("I can't help with that yet.")),
                intent,
                understanding.confidence,
                DialogueState(),
            )
        collected = dict(slots or {})
        when = When.from_json(collected.get("when")).merged(understanding.when)
        if not when.empty:
            collected["when"] = when.to_json()
        turn = self._turn(understanding, collected, answering)
        outcome = action.start(turn)
        # An answer to the action's own question is that action by construction (the
        # classifier's guess for "next week" or "my knee hurts" says nothing about it).
        confidence = 1.0 if answering else understanding.confidence
        return self._after(action, outcome, turn, confidence)

    def _on_slot(
        self, understanding: Understanding, state: DialogueState
    ) -> tuple[Reply, DialogueState]:
        action = action_for(state.intent or "")
        if action is None or _ABANDON.match(understanding.normalised):
            return self._reply(
                Outcome(_("All right. What else can I do for you?"), result="none"),
                Intent.GREETING,
                1.0,
                DialogueState(),
            )
        slots = dict(state.slots)
        slot = state.slot or ""
        if slot in action.free_text_slots:
            slots[slot] = understanding.text
        elif self._switches(
            understanding,
            action,
            answering_when=slot in action.when_slots,
            answering_name=slot in _NAME_SLOTS,
        ):
            return self._fresh(understanding)
        return self._run(action.intent, understanding, slots=slots, answering=slot)

    def _on_confirmation(
        self, understanding: Understanding, state: DialogueState
    ) -> tuple[Reply, DialogueState]:
        action = action_for(state.intent or "")
        if action is None:
            return self._fresh(understanding)
        turn = self._turn(understanding, dict(state.slots), "confirm")
        # An explicit pick of an offered option ("the second one") is itself the
        # confirmation; it wins over a bare yes/no and over a change of subject.
        picked = action.choose(turn)
        if picked is not None:
            return self._after(action, picked, turn, 1.0)
        if _YES.match(understanding.normalised):
            # Not `finished`: a refusal (the slot was just taken) may come with a new proposal.
            return self._after(action, action.confirmed(turn), turn, 1.0)
        said_no = bool(_NO.match(understanding.normalised))
        if said_no and understanding.when.empty:
            # "no", "cancel", "never mind": the answer to this question, not a new request.
            return self._after(action, action.declined(turn), turn, 1.0, finished=True)
        # While times are on offer, a date is a different time asked for, not a new request.
        offering = bool(state.slots.get("options")) and not understanding.when.empty
        if not said_no and self._switches(understanding, action, answering_when=offering):
            return self._fresh(understanding)
        revised = action.revise(turn)  # "no, friday instead"
        if revised is not None:
            return self._after(action, revised, turn, 1.0)
        if said_no:
            return self._after(action, action.declined(turn), turn, 1.0, finished=True)
        if state.slots.get("options"):
            nudge = Outcome(
                _("Please answer yes or no, or say which of the times you want."),
                suggestions=[str(s) for s in state.slots.get("suggestions") or []]
                or [_("Yes"), _("No")],
            )
        else:
            nudge = Outcome(_("Please answer yes or no."), suggestions=[_("Yes"), _("No")])
        nudge.result = "clarification"
        reply, _state = self._reply(nudge, action.intent, 0.0, state)
        reply.awaiting = "confirm"
        return reply, state

    def _on_clarification(
        self, understanding: Understanding, state: DialogueState
    ) -> tuple[Reply, DialogueState]:
        candidates = [Intent(c) for c in state.candidates if c in Intent._value2member_map_]
        said = understanding.normalised
        chosen: Intent | None = None
        # A choice button sends its own label ("Ask something else").
        labels = {normalise(str(INTENT_PHRASES[c])): c for c in candidates}
        if said in labels:
            chosen = labels[said]
        elif said in _SOMETHING_ELSE and Intent.OUT_OF_SCOPE in candidates:
            chosen = Intent.OUT_OF_SCOPE
        elif said in _ORDINAL_CHOICE and _ORDINAL_CHOICE[said] < len(candidates):
            chosen = candidates[_ORDINAL_CHOICE[said]]
        elif _YES.match(said) and candidates:
            chosen = candidates[0]
        elif understanding.prediction is not None:
            for intent, _p in understanding.prediction.ranking[:2]:
                if intent in candidates:
                    chosen = intent
                    break
        if chosen is None:
            if understanding.prediction and understanding.confidence >= SWITCH_CONFIDENCE:
                return self._fresh(understanding)
            if _NO.match(said):
                return self._reply(
                    Outcome(_("All right. What else can I do for you?"), result="none"),
                    Intent.GREETING,
                    1.0,
                    DialogueState(),
                )
            return self._out_of_scope(understanding)
        original = state.slots.get("text", "")
        # The first utterance held the details ("... on friday at 3"); read them again.
        first = understand(original, self.role, self.now) if original else understanding
        if chosen == Intent.OUT_OF_SCOPE:
            return self._out_of_scope(first)
        if _restates(understanding, chosen):
            # The answer is the request again, in full ("tell doctor patel that ..."):
            # its own details stand, with a time said only the first time kept.
            slots = {"when": first.when.to_json()} if not first.when.empty else {}
            return self._run(chosen, understanding, slots=slots)
        return self._run(chosen, first, slots={})

    def _after_emergency_check(
        self, understanding: Understanding, state: DialogueState
    ) -> tuple[Reply, DialogueState]:
        """The answer to "Is this happening now?": yes is an emergency; no goes on with the request."""
        original = str(state.slots.get("text") or "")
        said = understanding.normalised
        if _YES.match(said) or said.startswith("yes"):
            from assistant.nlu.emergency import EmergencyKind

            kind = str(state.slots.get("kind") or EmergencyKind.OTHER)
            kind = kind if kind in EmergencyKind._value2member_map_ else EmergencyKind.OTHER
            emergency = Emergency(kind=EmergencyKind(kind), phrase=original, certain=True)
            return emergency_reply(emergency, self.role, original)
        if _NO.match(said) and original:
            # Not happening now: the words were history or a question; answer what was asked.
            first = understand(original, self.role, self.now, check_emergencies=False)
            return self._fresh(first)
        return self._fresh(understanding)

    def _after_emergency(
        self, understanding: Understanding, state: DialogueState
    ) -> tuple[Reply, DialogueState]:
        if _YES.match(understanding.normalised) or understanding.normalised.startswith("yes"):
            action = action_for(Intent.CONTACT_PROVIDER)
            assert action is not None
            turn = self._turn(understanding, dict(state.slots), None)
            outcome = action.start(turn)
            if outcome.confirm:
                # The person already said yes: send without asking twice.
                turn.slots = dict(outcome.slots or turn.slots)
                return self._after(action, action.confirmed(turn), turn, 1.0)
            return self._after(action, outcome, turn, 1.0)
        if _NO.match(understanding.normalised):
            return self._reply(
                Outcome(_("All right. If things get worse, call 911."), result="none"),
                Intent.EMERGENCY,
                1.0,
                DialogueState(),
            )
        return self._fresh(understanding)

    # --- Outcomes ----------------------------------------------------------------

    def _out_of_scope(self, understanding: Understanding) -> tuple[Reply, DialogueState]:
        if self.role == "provider":
            return self._reply(
                Outcome(
                    _(
                        "I can't help with that. I can tell you today's schedule, your next patient, "
                        "open a chart, show refill requests or take a visit note."
                    )
                ),
                Intent.OUT_OF_SCOPE,
                understanding.confidence,
                DialogueState(),
            )
        state = DialogueState(
            intent=Intent.CONTACT_PROVIDER.value,
            awaiting="confirm",
            slots={"message": understanding.text},
        )
        action = action_for(Intent.CONTACT_PROVIDER)
        assert action is not None
        turn = self._turn(understanding, dict(state.slots), None)
        proposal = action.start(turn)
        if not proposal.waiting:
            return self._reply(
                Outcome(_("I can't help with that here.") + " " + proposal.text),
                Intent.OUT_OF_SCOPE,
                understanding.confidence,
                DialogueState(),
            )
        text = (
            _("I can't help with that here, but a person on your care team can.")
            + " "
            + proposal.text
        )
        reply, new_state = self._after(action, proposal, turn, understanding.confidence)
        reply.text = text
        reply.intent = Intent.OUT_OF_SCOPE.value
        return reply, new_state

    def _clarify(self, understanding: Understanding) -> tuple[Reply, DialogueState]:
        prediction = understanding.prediction
        assert prediction is not None
        allowed = intents_for_role(self.role)
        # The two likeliest requests, and "something else" (out of scope) as a way out.
        candidates = [c for c in prediction.clarification_choices if c in allowed]
        requests = [c for c in candidates if c != Intent.OUT_OF_SCOPE]
        if not requests:
            return self._out_of_scope(understanding)
        if len(requests) == 1:
            question = _("Did you want to %(a)s, or something else?") % {
                "a": INTENT_PHRASES[requests[0]]
            }
        else:
            question = _("Did you want to %(a)s, or to %(b)s, or something else?") % {
                "a": INTENT_PHRASES[requests[0]],
                "b": INTENT_PHRASES[requests[1]],
            }
        state = DialogueState(
            awaiting="clarify",
            candidates=[c.value for c in candidates],
            slots={"text": understanding.text},
        )
        reply = Reply(
            text=question,
            intent=prediction.intent.value,
            confidence=prediction.confidence,
            suggestions=[str(INTENT_PHRASES[c]).capitalize() for c in candidates],
            awaiting="clarify",
            outcome="clarification",
        )
        return reply, state

    def _after(
        self,
        action: Action,
        outcome: Outcome,
        turn: Turn,
        confidence: float,
        *,
        finished: bool = False,
    ) -> tuple[Reply, DialogueState]:
        if finished and outcome.result is None:
            outcome.result = "none"  # declined: nothing was done
        # The next turn belongs to the action handed to ("shall I message your provider?").
        owner = outcome.hand_to or action.intent
        if finished or not outcome.waiting:
            state = DialogueState()
        elif outcome.confirm:
            state = DialogueState(
                intent=owner.value, awaiting="confirm", slots=outcome.slots or turn.slots
            )
        else:
            state = DialogueState(
                intent=owner.value,
                awaiting="slot",
                slot=outcome.ask,
                slots=outcome.slots or turn.slots,
            )
        return self._reply(outcome, action.intent, confidence, state)

    def _reply(
        self, outcome: Outcome, intent: Intent | str, confidence: float, state: DialogueState
    ) -> tuple[Reply, DialogueState]:
        reply = Reply(
            text=outcome.text,
            intent=str(Intent(intent).value if isinstance(intent, Intent) else intent),
            confidence=max(0.0, min(1.0, float(confidence))),
            links=outcome.links,
            suggestions=outcome.suggestions,
            awaiting="confirm" if outcome.confirm else ("slot" if outcome.ask else None),
            navigate=outcome.navigate,
            resulted_in_appointment=outcome.resulted_in_appointment,
            resulted_in_provider_transfer=outcome.resulted_in_provider_transfer,
            outcome=outcome.result or ("clarification" if outcome.waiting else "answered"),
            preview=outcome.preview,
        )
        return reply, state

    # --- Helpers -----------------------------------------------------------------

    def _turn(
        self, understanding: Understanding, slots: dict[str, Any], answering: str | None
    ) -> Turn:
        return Turn(
            user=self.user,
            text=understanding.text,
            understanding=understanding,
            slots=slots,
            now=self.now,
            answering=answering,
            conversation_id=self.conversation_id,
        )

    def _switches(
        self,
        understanding: Understanding,
        action: Action,
        *,
        answering_when: bool = False,
        answering_name: bool = False,
    ) -> bool:
        prediction = understanding.prediction
        if answering_when and prediction and {prediction.intent, action.intent} <= _DATE_LED:
            return False
        if answering_name and len(understanding.normalised.split()) <= _NAME_ANSWER_WORDS:
            # "Doctor Other" answers "which provider?"; it is not a new request to message them.
            return False
        return bool(
            prediction
            and prediction.intent != action.intent
            and prediction.intent not in {Intent.OUT_OF_SCOPE, Intent.GREETING}
            and prediction.confidence >= SWITCH_CONFIDENCE
        )
