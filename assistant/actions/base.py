"""The interface between the dialogue and the things the assistant can do.

An action handles one intent. The dialogue calls `start(turn)` when the intent
is recognised and again after each answer to a question the action asked; the
action answers with an Outcome that either finishes ("You have 2
appointments..."), asks for something missing (`ask="when"`: the next
utterance answers it), or proposes something to confirm (`confirm=True`: the
next yes runs `confirmed(turn)`, a no runs `declined(turn)`). A proposal may
offer several options (free slots): `choose(turn)` handles an answer that
picks one, `revise(turn)` one that asks for something else. Anything that
changes data happens only in `confirmed` or on an explicit pick in `choose`,
through the same services (and so the same access rules) as the portal pages.

Slots travel between turns in `turn.slots`, which must stay JSON-serialisable
(it lives in the session or the socket): store ids as strings, dates as ISO.

To add an action (booking, refills...): subclass Action, set `intent` and
`roles`, implement `start` (and `confirmed` if it changes anything), and
`register()` it from assistant/actions/__init__.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.models import Role, User
from assistant.nlu import Understanding
from assistant.nlu.intents import Intent
from assistant.nlu.matching import (
    Match,
    best_matches,
    medication_aliases,
    person_aliases,
    unique_best,
)
from assistant.nlu.when import When


@dataclass(frozen=True)
class Link:
    label: str
    url: str

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "url": self.url}


def slot_uuid(value: Any) -> uuid.UUID | None:
    """An id kept in the slots, or None when it is missing or not an id at all."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def page_link(url_name: str, label: str, **kwargs: Any) -> Link | None:
    """A link to a portal page, or None while that page does not exist yet."""
    try:
        return Link(label=label, url=reverse(url_name, kwargs=kwargs or None))
    except NoReverseMatch:
        return None


@dataclass
class Turn:
    """One utterance, with what the dialogue knows so far."""

    user: User
    text: str
    understanding: Understanding
    slots: dict[str, Any]
    now: dt.datetime
    # The slot the previous reply asked for, when this utterance answers it.
    answering: str | None = None
    # The conversation this turn belongs to (what a transfer to a person may pass on).
    conversation_id: uuid.UUID | None = None

    @property
    def role(self) -> str:
        return "provider" if self.user.role == Role.PROVIDER else "patient"

    @cached_property
    def patient(self):
        return getattr(self.user, "patient_profile", None) if self.role == "patient" else None

    @cached_property
    def provider(self):
        return getattr(self.user, "provider_profile", None) if self.role == "provider" else None

    @property
    def tz(self) -> ZoneInfo:
        tzinfo = self.now.tzinfo
        return tzinfo if isinstance(tzinfo, ZoneInfo) else ZoneInfo(settings.TIME_ZONE)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def when(self) -> When:
        """Date/time collected so far (earlier answers completed by this one)."""
        return When.from_json(self.slots.get("when"))

    # --- Matching against the user's own data ------------------------------------

    def match_people(
        self, people: list[Any], name_of=lambda p: p.user.full_name
    ) -> list[Match[Any]]:
        return best_matches(self.text, [(p, person_aliases(name_of(p))) for p in people])

    def match_one(self, people: list[Any], name_of=lambda p: p.user.full_name) -> Any | None:
        return unique_best(self.match_people(people, name_of))

    def match_medication(self, prescriptions: list[Any]) -> Any | None:
        return unique_best(
            best_matches(
                self.text, [(p, medication_aliases(p.medication_name)) for p in prescriptions]
            )
        )


@dataclass
class Outcome:
    text: str
    links: list[Link] = field(default_factory=list)
    # The slot the next utterance should fill (the text asks for it).
    ask: str | None = None
    # The next utterance is a yes or no for this action.
    confirm: bool = False
    # Slots to keep for the next turn (defaults to the turn's slots when asking or confirming).
    slots: dict[str, Any] | None = None
    suggestions: list[str] = field(default_factory=list)
    resulted_in_appointment: bool = False
    resulted_in_provider_transfer: bool = False
    # A page the client may open at once (a chart the provider asked for).
    navigate: str | None = None
    # What the exchange came to (models.InteractionOutcome) when the action knows better
    # than the dialogue's default (a question asked: clarification; else answered).
    result: str | None = None
    # Another action takes over the next turn ("shall I message your provider?").
    hand_to: Intent | None = None
    # Text shown in full, verbatim, with the reply (the message a transfer would send).
    preview: str | None = None

    @property
    def waiting(self) -> bool:
        return self.ask is not None or self.confirm


class Action:
    """Base class; see the module docstring."""

    intent: ClassVar[Intent]
    roles: ClassVar[frozenset[str]] = frozenset({"patient"})
    # Slots whose answer is the whole utterance (a message, a note), not something to parse.
    free_text_slots: ClassVar[frozenset[str]] = frozenset()
    # Slots whose answer is a date or time ("which day?").
    when_slots: ClassVar[frozenset[str]] = frozenset()

    def start(self, turn: Turn) -> Outcome:  # pragma: no cover - interface
        raise NotImplementedError

    def confirmed(self, turn: Turn) -> Outcome:
        return Outcome(_("Done."))

    def choose(self, turn: Turn) -> Outcome | None:
        """While a proposal waits for yes or no: the outcome when the answer picks one of
        several options offered ("the second one", "two thirty"), else None."""
        return None

    def revise(self, turn: Turn) -> Outcome | None:
        """While a proposal waits for yes or no: a new proposal when the answer changes
        what was asked for ("what about friday?"), else None."""
        return None

    def declined(self, turn: Turn) -> Outcome:
        return Outcome(_("All right, I have not done anything."))


_registry: dict[Intent, Action] = {}


def register(action: Action) -> Action:
    """Make `action` the handler of its intent (a later registration replaces an earlier one)."""
    _registry[action.intent] = action
    return action


def action_for(intent: Intent | str) -> Action | None:
    try:
        return _registry.get(Intent(intent))
    except ValueError:
        return None
