"""Booking, cancelling and moving appointments by voice or text.

Everything goes through scheduling's selectors and services, exactly as the
pages do: the free slots proposed are `available_slots` (working hours minus
bookings, time off and the patient's own appointments, inside the lead time and
horizon), a patient may book with any provider the booking page lists
(`bookable_providers`), and only their own appointments can be cancelled or
moved, before the cut-off. Nothing is written until the person says yes or
picks one of the times offered; every refusal of a service is a sentence.

Slots between turns (JSON): `provider_id`, `appointment_id`, `when`, and
`options`, the UTC keys of the times offered, in the order they were read out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from assistant.actions.base import Action, Link, Outcome, Turn, page_link, slot_uuid
from assistant.actions.patient import spoken_day, when_phrase
from assistant.actions.resolve import closest, unknown_person, wants_next
from assistant.nlu.choice import pick_option
from assistant.nlu.intents import Intent
from assistant.nlu.normalise import normalise
from assistant.nlu.when import When, extract_when
from assistant.selectors import providers_of_patient
from providers.models import ProviderProfile
from providers.working_hours import local_day_bounds
from scheduling import conf as scheduling_conf
from scheduling.exceptions import PatientDoubleBooked, SchedulingError, SlotUnavailable
from scheduling.models import Appointment
from scheduling.selectors import (
    appointment_for_patient,
    appointments_of_patient,
    available_slots,
    bookable_provider,
    bookable_providers,
    provider_zone,
)
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule
from scheduling.slots import Slot, parse_slot_key, slot_key

# How many times are read out at once: more is hard to follow when spoken.
OPTIONS_LIMIT = 5
# When the time asked for is taken, this many of the nearest free ones.
NEAREST_LIMIT = 3
APPOINTMENTS_LISTED = 5
PARTS_OF_DAY = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}
_AGREE = re.compile(
    r"^(?:yes|yeah|yep|yup|sure|ok|okay|that one|that's the one|thats the one|correct|right)"
    r"(?: (?:please|that one|thanks|thank you))?$"
)
_SOONEST = re.compile(
    r"\b(?:soonest|earliest|as soon as possible|asap|first available|next available|first free|next free|any ?time|whenever|any day)\b"
)


# --- Speaking times ------------------------------------------------------------------


def spoken_time(value: dt.datetime) -> str:
    return value.strftime("%H:%M")


def join_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return _("%(rest)s and %(last)s") % {"rest": ", ".join(items[:-1]), "last": items[-1]}


def describe_times(times: Sequence[dt.datetime]) -> str:
    """ "on Tuesday 18 March at 13:00, 13:30 and 14:00; on Wednesday 19 March at 09:00"."""
    days: dict[dt.date, list[str]] = {}
    for value in times:
        days.setdefault(value.date(), []).append(spoken_time(value))
    return "; ".join(
        _("on %(day)s at %(times)s") % {"day": spoken_day(day), "times": join_words(hours)}
        for day, hours in days.items()
    )


def asked_phrase(when: When) -> str:
    """ "on Tuesday 18 March in the afternoon", "in the week of ...", "at 14:30", or ""."""
    phrase = when_phrase(when)
    if not phrase or when.date is None:
        return phrase
    if when.precision == "day":
        return _("on %(when)s") % {"when": phrase}
    return _("in %(when)s") % {"when": phrase}


def option_label(value: dt.datetime, *, with_day: bool) -> str:
    """What a suggestion button says, and sends back when pressed."""
    if with_day:
        return _("%(day)s at %(time)s") % {
            "day": spoken_day(value.date()),
            "time": spoken_time(value),
        }
    return spoken_time(value)


def _in_part(value: dt.datetime, part: str | None) -> bool:
    if not part:
        return True
    first, last = PARTS_OF_DAY[part]
    return first <= value.hour < last


def _window(when: When, tz: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    if when.date is None:
        return None, None
    days = {"week": 7, "month": 31}.get(when.precision, 1)
    start, _end = local_day_bounds(when.date, tz)
    end, _after = local_day_bounds(when.date + dt.timedelta(days=days), tz)
    return start, end


def find_slots(
    turn: Turn,
    provider: ProviderProfile,
    when: When,
    *,
    moving: Appointment | None = None,
) -> tuple[list[Slot], bool]:
    """Free slots of `provider` for this patient matching `when`, and whether they are
    what was asked for (True) or only the nearest / next ones (False).

    Two selector calls at most: the window asked for, then (when it is full)
    the time after it.
    """
    tz = provider_zone(provider)
    start, end = _window(when, tz)

    def free(start: dt.datetime | None, end: dt.datetime | None) -> list[Slot]:
        slots = available_slots(
            provider,
            now=turn.now,
            patient=turn.patient,
            exclude_appointment_id=moving.pk if moving else None,
            start=start,
            end=end,
        )
        if moving is not None:
            # Its own time is no move at all (the page leaves it out too).
            slots = [s for s in slots if s.starts_at != moving.date_time]
        return slots

    slots = [s for s in free(start, end) if _in_part(s.starts_at, when.part_of_day)]
    if when.time is not None:
        exact = [s for s in slots if s.starts_at.time() == when.time]
        if exact:
            return exact[: 1 if when.date else NEAREST_LIMIT], True
        if slots:
            wanted = when.time.hour * 60 + when.time.minute

            def distance(slot: Slot) -> tuple[int, dt.datetime]:
                minutes = slot.starts_at.hour * 60 + slot.starts_at.minute
                return abs(minutes - wanted), slot.starts_at

            # The nearest times on the first day that has any.
            first_day = slots[0].starts_at.date()
            same_day = [s for s in slots if s.starts_at.date() == first_day]
            return sorted(
                sorted(same_day, key=distance)[:NEAREST_LIMIT], key=lambda s: s.starts_at
            ), False
    elif slots:
        return slots[:OPTIONS_LIMIT], True
    if end is None and not when.part_of_day:
        return [], False
    # Nothing free then: the first free times after it (any time of day).
    return free(end, None)[:NEAREST_LIMIT], False


def options_of(slots: dict[str, Any], tz: Any) -> list[dt.datetime]:
    """The times offered last turn, in the provider's zone, in the order read out."""
    found = []
    for key in slots.get("options") or []:
        moment = parse_slot_key(key)
        if moment is not None:
            found.append(moment.astimezone(tz))
    return found


def _proposal_text(
    name: str, times: list[dt.datetime], exact: bool, asked: str, *, one: str, many: str
) -> str:
    """What is free, then the question: `one` for a single time, `many` (with %(first)s) else."""
    listed = describe_times(times)
    if not exact:
        lead = (
            _("%(name)s has no free time %(asked)s.") % {"name": name, "asked": asked}
            if asked
            else _("%(name)s has no free time then.") % {"name": name}
        )
        lead += " " + _("The nearest free times are %(times)s.") % {"times": listed}
    else:
        lead = _("%(name)s is free %(times)s.") % {"name": name, "times": listed}
    question = one if len(times) == 1 else many % {"first": spoken_time(times[0])}
    return f"{lead} {question}"


def _suggestions(times: list[dt.datetime]) -> list[str]:
    with_day = len({t.date() for t in times}) > 1
    return [option_label(t, with_day=with_day) for t in times] + [_("No")]


def _service_refusal(exc: Exception) -> Outcome:
    if isinstance(exc, SchedulingError):
        return Outcome(exc.message)
    if isinstance(exc, ValidationError):
        return Outcome(" ".join(exc.messages))
    raise exc


# --- Booking ---------------------------------------------------------------------------


class BookAppointment(Action):
    """ "I need to see Dr. Patel next Tuesday afternoon" -> the free slots then -> yes -> booked."""

    intent = Intent.BOOK
    when_slots = frozenset({"when"})

    def start(self, turn: Turn) -> Outcome:
        slots = dict(turn.slots)
        provider = self._provider(turn, slots)
        if isinstance(provider, Outcome):
            return provider
        slots["provider_id"] = str(provider.pk)
        when = turn.when
        if _SOONEST.search(normalise(turn.text)):
            slots["soonest"] = True
        if when.empty and not slots.get("soonest"):
            return Outcome(
                _("Which day would suit you to see %(name)s?") % {"name": provider.display_name},
                ask="when",
                slots=slots,
                suggestions=[_("Tomorrow"), _("Next week"), _("The earliest free time")],
            )
        return self._propose(turn, provider, when, slots)

    def confirmed(self, turn: Turn) -> Outcome:
        provider = self._chosen_provider(turn.slots)
        if provider is None:
            return Outcome(_("That provider no longer takes bookings online."))
        options = options_of(turn.slots, provider_zone(provider))
        if not options:
            return self.start(turn)
        return self._book(turn, provider, options[0])

    def choose(self, turn: Turn) -> Outcome | None:
        provider = self._chosen_provider(turn.slots)
        if provider is None:
            return None
        options = options_of(turn.slots, provider_zone(provider))
        index = pick_option(turn.text, options, turn.now)
        if index is None:
            return None
        return self._book(turn, provider, options[index])

    def revise(self, turn: Turn) -> Outcome | None:
        asked = turn.understanding.when
        provider = self._chosen_provider(turn.slots)
        if asked.empty or provider is None:
            return None
        when = When.from_json(turn.slots.get("when")).merged(asked)
        return self._propose(turn, provider, when, dict(turn.slots))

    def declined(self, turn: Turn) -> Outcome:
        return Outcome(_("All right, I have not booked anything."))

    # --- Steps ---------------------------------------------------------------------

    def _chosen_provider(self, slots: dict[str, Any]) -> ProviderProfile | None:
        provider_id = slot_uuid(slots.get("provider_id"))
        # Re-read through the booking page's own selector: still bookable now?
        return bookable_provider(provider_id) if provider_id else None

    def _provider(self, turn: Turn, slots: dict[str, Any]) -> ProviderProfile | Outcome:
        """The provider named (one of the patient's, else the practice's directory), or a question."""
        own = providers_of_patient(turn.patient)
        named = turn.match_one(own)
        if named is None:
            named = turn.match_one(list(bookable_providers()))
        if named is None and slots.get("provider_id"):
            kept = self._chosen_provider(slots)
            if kept is not None:
                return kept
        if named is not None:
            provider = bookable_provider(named.pk)
            if provider is None:
                return Outcome(
                    _(
                        "%(name)s does not take bookings online. You can send a message or call the practice."
                    )
                    % {"name": named.display_name}
                )
            return provider
        bookable = [p for p in own if bookable_provider(p.pk) is not None]
        unknown = unknown_person(turn.text, own, lambda p: p.user.full_name, matched=False)
        if unknown is not None and bookable:
            # A name that is none of theirs: the closest of their own, never a guess.
            nearest = closest(unknown, bookable, lambda p: p.user.full_name)
            return Outcome(
                _("None of your providers is called %(name)s. Did you mean %(names)s?")
                % {"name": unknown.title(), "names": " or ".join(p.display_name for p in nearest)},
                ask="provider",
                slots=slots,
                suggestions=[p.user.full_name for p in nearest],
            )
        if len(bookable) == 1 and turn.answering != "provider":
            return bookable[0]
        links = [
            link
            for link in [page_link("scheduling:patient-book", _("Book an appointment"))]
            if link
        ]
        if turn.answering == "provider":
            return Outcome(
                _(
                    "I couldn't find a provider by that name. You can look through the providers on the booking page."
                ),
                links=links,
            )
        if bookable:
            return Outcome(
                _("Which provider would you like to see: %(names)s?")
                % {"names": join_words([p.display_name for p in bookable])},
                ask="provider",
                slots=slots,
                suggestions=[p.user.full_name for p in bookable],
            )
        return Outcome(
            _("Which provider would you like to see? Say their name."),
            ask="provider",
            slots=slots,
            links=links,
        )

    def _propose(
        self,
        turn: Turn,
        provider: ProviderProfile,
        when: When,
        slots: dict[str, Any],
        *,
        prefix: str = "",
    ) -> Outcome:
        found, exact = find_slots(turn, provider, when)
        times = [s.starts_at for s in found]
        link = page_link(
            "scheduling:patient-book-provider",
            _("All free times of %(name)s") % {"name": provider.display_name},
            provider_id=provider.pk,
        )
        links = [link] if link else []
        asked = asked_phrase(when)
        lead = f"{prefix} " if prefix else ""
        if not times:
            text = (
                _("%(name)s has no free time %(asked)s, nor in the days after.")
                % {"name": provider.display_name, "asked": asked}
                if asked
                else _("%(name)s has no free time to book online at the moment.")
                % {"name": provider.display_name}
            )
            return Outcome(lead + text, links=links)
        slots = {
            **slots,
            "provider_id": str(provider.pk),
            "when": when.to_json(),
            "options": [slot_key(t) for t in times],
        }
        suggestions = _suggestions(times)
        slots["suggestions"] = suggestions
        text = _proposal_text(
            provider.display_name,
            times,
            exact,
            asked,
            one=_("Shall I book it?"),
            many=_("Shall I book %(first)s, or another of these times?"),
        )
        return Outcome(lead + text, confirm=True, slots=slots, suggestions=suggestions, links=links)

    def _book(self, turn: Turn, provider: ProviderProfile, starts_at: dt.datetime) -> Outcome:
        when = When.from_json(turn.slots.get("when"))
        try:
            appointment = appointment_book(
                patient=turn.patient,
                provider=provider,
                starts_at=starts_at,
                booked_by=turn.user,
                now=turn.now,
            )
        except PatientDoubleBooked:
            return self._propose(
                turn,
                provider,
                when,
                dict(turn.slots),
                prefix=_("You already have an appointment at that time."),
            )
        except SlotUnavailable:
            return self._propose(
                turn,
                provider,
                when,
                dict(turn.slots),
                prefix=_("Sorry, %(time)s is no longer free.") % {"time": spoken_time(starts_at)},
            )
        except (SchedulingError, ValidationError) as exc:
            return _service_refusal(exc)
        local = appointment.date_time.astimezone(provider_zone(provider))
        link = page_link(
            "scheduling:patient-appointment-detail",
            _("Your appointment"),
            appointment_id=appointment.pk,
        )
        return Outcome(
            _("Booked: %(day)s at %(time)s with %(name)s. A confirmation is on its way by email.")
            % {
                "day": spoken_day(local.date()),
                "time": spoken_time(local),
                "name": provider.display_name,
            },
            links=[link] if link else [],
            resulted_in_appointment=True,
            result="booked",
        )


# --- Which appointment ---------------------------------------------------------------


def _local(appointment: Appointment) -> dt.datetime:
    return appointment.date_time.astimezone(provider_zone(appointment.provider))


def describe_appointment(appointment: Appointment) -> str:
    local = _local(appointment)
    return _("%(day)s at %(time)s with %(name)s") % {
        "day": spoken_day(local.date()),
        "time": spoken_time(local),
        "name": appointment.provider.display_name,
    }


def _on(when: When, local: dt.datetime) -> bool:
    if when.date is not None:
        days = {"week": 7, "month": 31}.get(when.precision, 1)
        if not when.date <= local.date() < when.date + dt.timedelta(days=days):
            return False
    if when.time is not None and (local.hour, local.minute) != (when.time.hour, when.time.minute):
        return False
    return _in_part(local, when.part_of_day)


def matching_appointments(
    turn: Turn, appointments: list[Appointment], when: When
) -> list[Appointment]:
    """The appointments that fit what was said about them: when, and with whom."""
    found = [a for a in appointments if _on(when, _local(a))]
    providers = list({a.provider_id: a.provider for a in found}.values())
    named = turn.match_people(providers)
    if named:
        wanted = {m.item.pk for m in named if m.score >= named[0].score - 5}
        found = [a for a in found if a.provider_id in wanted]
    return found


def upcoming_of(turn: Turn) -> list[Appointment]:
    """The patient's own scheduled appointments still to come (the appointments page's list)."""
    return appointments_of_patient(turn.user, now=turn.now).upcoming


def _choose_appointment(
    turn: Turn, upcoming: list[Appointment], slots: dict[str, Any], when: When
) -> tuple[Appointment | None, list[Appointment]]:
    """(the appointment meant, or None; the candidates to ask about)."""
    by_id = {str(a.pk): a for a in upcoming}
    if slots.get("appointment_id") in by_id:
        return by_id[slots["appointment_id"]], []
    offered = [by_id[i] for i in slots.get("appointment_options") or [] if i in by_id]
    if turn.answering == "appointment" and offered:
        index = pick_option(turn.text, [_local(a) for a in offered], turn.now)
        if index is not None:
            return offered[index], []
        # "yes" to a single appointment read out is that one.
        if len(offered) == 1 and _AGREE.match(normalise(turn.text)):
            return offered[0], []
        narrowed = matching_appointments(turn, offered, turn.understanding.when)
        if wants_next(turn.text) and narrowed:
            return min(narrowed, key=lambda a: a.date_time), []
        if len(narrowed) == 1:
            return narrowed[0], []
        return None, narrowed or offered
    candidates = matching_appointments(turn, upcoming, when)
    if _unknown_provider(turn, upcoming):
        # "my appointment with dr smith" and no Smith among them: ask, never guess.
        return None, candidates
    if wants_next(turn.text) and candidates:
        # "my next appointment (with dr chen)": the earliest of those that fit.
        return min(candidates, key=lambda a: a.date_time), []
    if len(candidates) == 1:
        return candidates[0], []
    return None, candidates


def _unknown_provider(turn: Turn, appointments: list[Appointment]) -> str | None:
    """A provider named ("dr smith") who is none of those of `appointments`."""
    providers = list({a.provider_id: a.provider for a in appointments}.values())
    return unknown_person(turn.text, providers, lambda p: p.user.full_name, matched=False)


def _which_appointment(
    verb: str, candidates: list[Appointment], slots: dict[str, Any], asked: str
) -> Outcome:
    shown = candidates[:APPOINTMENTS_LISTED]
    items = "; ".join(f"{n}: {describe_appointment(a)}" for n, a in enumerate(shown, start=1))
    text = _("Which appointment should I %(verb)s? %(items)s.") % {"verb": verb, "items": items}
    if asked:
        text = _("You have several appointments %(asked)s.") % {"asked": asked} + " " + text
    slots = {**slots, "appointment_options": [str(a.pk) for a in shown]}
    with_day = len({_local(a).date() for a in shown}) > 1
    return Outcome(
        text,
        ask="appointment",
        slots=slots,
        suggestions=[option_label(_local(a), with_day=with_day) for a in shown],
    )


def _with_unknown(turn: Turn, upcoming: list[Appointment], outcome: Outcome) -> Outcome:
    """`outcome`, told first that the provider named has no appointment with the patient."""
    unknown = _unknown_provider(turn, upcoming)
    if unknown is not None:
        outcome.text = (
            _("You have no appointment with %(name)s.") % {"name": unknown.title()}
            + " "
            + outcome.text
        )
    return outcome


def _none_then(
    upcoming: list[Appointment], asked: str, verb: str, slots: dict[str, Any]
) -> Outcome:
    """Nothing on the day asked: say so, and offer the ones there are."""
    text = _("You have no appointment %(asked)s.") % {"asked": asked} if asked else ""
    outcome = _which_appointment(verb, upcoming, slots, "")
    outcome.text = f"{text} {outcome.text}".strip()
    return outcome


def _own_appointment(turn: Turn) -> Appointment | None:
    """The appointment named in the slots, re-read through the patient's own selector
    (someone else's id finds nothing)."""
    appointment_id = slot_uuid(turn.slots.get("appointment_id"))
    return appointment_for_patient(turn.user, appointment_id) if appointment_id else None


def _cutoff_passed(appointment: Appointment, now: dt.datetime) -> bool:
    # The same rule appointment_cancel/appointment_reschedule enforce; checked first
    # so the person is told before being asked to confirm.
    return appointment.date_time - now < scheduling_conf.cancel_cutoff()


def _cutoff_text(appointment: Appointment, verb: str) -> str:
    hours = int(scheduling_conf.cancel_cutoff().total_seconds() // 3600)
    return _(
        "Your appointment on %(appointment)s starts in less than %(hours)d hours, so it can no longer be "
        "%(verb)s online. Please call the practice."
    ) % {"appointment": describe_appointment(appointment), "hours": hours, "verb": verb}


def _appointment_links(appointment: Appointment) -> list[Link]:
    link = page_link(
        "scheduling:patient-appointment-detail",
        _("Your appointment"),
        appointment_id=appointment.pk,
    )
    return [link] if link else []


class CancelAppointment(Action):
    """Which appointment -> before the cut-off? -> "cancel it?" -> yes -> cancelled."""

    intent = Intent.CANCEL

    def start(self, turn: Turn) -> Outcome:
        slots = dict(turn.slots)
        upcoming = upcoming_of(turn)
        if not upcoming:
            return Outcome(_("You have no upcoming appointments to cancel."))
        when = turn.when
        appointment, candidates = _choose_appointment(turn, upcoming, slots, when)
        if appointment is None:
            if not candidates:
                return _none_then(upcoming, asked_phrase(when), _("cancel"), slots)
            return _with_unknown(
                turn,
                upcoming,
                _which_appointment(_("cancel"), candidates, slots, asked_phrase(when)),
            )
        if _cutoff_passed(appointment, turn.now):
            return Outcome(
                _cutoff_text(appointment, _("cancelled")), links=_appointment_links(appointment)
            )
        slots["appointment_id"] = str(appointment.pk)
        return Outcome(
            _("Cancel your appointment on %(appointment)s?")
            % {"appointment": describe_appointment(appointment)},
            confirm=True,
            slots=slots,
            suggestions=[_("Yes"), _("No")],
        )

    def confirmed(self, turn: Turn) -> Outcome:
        # Re-read through the patient's own selector: someone else's id finds nothing.
        appointment = _own_appointment(turn)
        if appointment is None:
            return Outcome(_("I couldn't find that appointment among yours."))
        try:
            appointment_cancel(
                appointment=appointment,
                by=turn.user,
                reason=_("Cancelled through the assistant."),
                now=turn.now,
            )
        except (SchedulingError, ValidationError) as exc:
            return _service_refusal(exc)
        return Outcome(
            _("Cancelled your appointment on %(appointment)s. Its time is free for others now.")
            % {"appointment": describe_appointment(appointment)},
            links=_appointment_links(appointment),
            result="cancelled",
        )

    def declined(self, turn: Turn) -> Outcome:
        return Outcome(_("All right, your appointment stays as it is."))


# --- Moving ----------------------------------------------------------------------------

_MOVE_VERB = re.compile(
    r"\b(?:move|moving|reschedule|rescheduling|change|changing|switch|shift|push|postpone|bump|rebook|put off)\b"
)
_TARGET = re.compile(r"\b(?:to|for|until|till|into)\b")


def split_move(text: str) -> tuple[str, str | None]:
    """ "move my thursday appointment to friday at 10" -> ("move my thursday appointment", "friday at 10").

    The new time follows the last "to"/"for"/"until" after the verb; without one
    there is no new time in the sentence.
    """
    value = normalise(text)
    verb = _MOVE_VERB.search(value)
    if verb is None:
        return value, None
    targets = list(_TARGET.finditer(value, verb.end()))
    if not targets:
        return value, None
    last = targets[-1]
    return value[: last.start()], value[last.end() :]


class RescheduleAppointment(Action):
    """Which appointment -> before the cut-off? -> new day -> free slots -> yes -> moved (atomically)."""

    intent = Intent.RESCHEDULE
    when_slots = frozenset({"new_when"})

    def start(self, turn: Turn) -> Outcome:
        slots = dict(turn.slots)
        slots.pop("when", None)  # this action keeps the old and the new time apart
        upcoming = upcoming_of(turn)
        if not upcoming:
            return Outcome(_("You have no upcoming appointments to move."))
        old_when, new_when = self._whens(turn, slots, upcoming)
        appointment, candidates = _choose_appointment(turn, upcoming, slots, old_when)
        if appointment is None:
            slots["new_when"] = new_when.to_json()
            if not candidates:
                return _none_then(upcoming, asked_phrase(old_when), _("move"), slots)
            return _with_unknown(
                turn,
                upcoming,
                _which_appointment(_("move"), candidates, slots, asked_phrase(old_when)),
            )
        slots["appointment_id"] = str(appointment.pk)
        if _cutoff_passed(appointment, turn.now):
            return Outcome(
                _cutoff_text(appointment, _("moved")), links=_appointment_links(appointment)
            )
        if _SOONEST.search(normalise(turn.text)):
            slots["soonest"] = True
        if new_when.empty and not slots.get("soonest"):
            slots["new_when"] = None
            return Outcome(
                _("When would you like to move your appointment on %(appointment)s to?")
                % {"appointment": describe_appointment(appointment)},
                ask="new_when",
                slots=slots,
                suggestions=[_("Tomorrow"), _("Next week"), _("The earliest free time")],
            )
        return self._propose(turn, appointment, new_when, slots)

    def confirmed(self, turn: Turn) -> Outcome:
        appointment = self._appointment(turn)
        if appointment is None:
            return Outcome(_("I couldn't find that appointment among yours."))
        options = options_of(turn.slots, provider_zone(appointment.provider))
        if not options:
            return self.start(turn)
        return self._move(turn, appointment, options[0])

    def choose(self, turn: Turn) -> Outcome | None:
        appointment = self._appointment(turn)
        if appointment is None:
            return None
        options = options_of(turn.slots, provider_zone(appointment.provider))
        index = pick_option(turn.text, options, turn.now)
        if index is None:
            return None
        return self._move(turn, appointment, options[index])

    def revise(self, turn: Turn) -> Outcome | None:
        asked = turn.understanding.when
        appointment = self._appointment(turn)
        if asked.empty or appointment is None:
            return None
        when = When.from_json(turn.slots.get("new_when")).merged(asked)
        return self._propose(turn, appointment, when, dict(turn.slots))

    def declined(self, turn: Turn) -> Outcome:
        return Outcome(_("All right, your appointment stays as it is."))

    # --- Steps ---------------------------------------------------------------------

    def _appointment(self, turn: Turn) -> Appointment | None:
        return _own_appointment(turn)

    def _whens(
        self, turn: Turn, slots: dict[str, Any], upcoming: list[Appointment]
    ) -> tuple[When, When]:
        """(what identifies the appointment, the new time asked for)."""
        kept_new = When.from_json(slots.get("new_when"))
        if turn.answering == "new_when":
            return When(), kept_new.merged(turn.understanding.when)
        if turn.answering == "appointment":
            return When(), kept_new
        old_text, new_text = split_move(turn.text)
        old = extract_when(old_text, turn.now)
        new = extract_when(new_text, turn.now) if new_text else When()
        if new_text is None and not old.empty and not any(_on(old, _local(a)) for a in upcoming):
            # "reschedule my appointment on friday" with nothing on friday: friday is the new day.
            return When(), old
        return old, new

    def _propose(
        self,
        turn: Turn,
        appointment: Appointment,
        when: When,
        slots: dict[str, Any],
        *,
        prefix: str = "",
    ) -> Outcome:
        provider = appointment.provider
        found, exact = find_slots(turn, provider, when, moving=appointment)
        times = [s.starts_at for s in found]
        asked = asked_phrase(when)
        lead = f"{prefix} " if prefix else ""
        if not times:
            return Outcome(
                lead
                + _("%(name)s has no free time %(asked)s, nor in the days after.")
                % {"name": provider.display_name, "asked": asked or _("then")},
                links=_appointment_links(appointment),
            )
        suggestions = _suggestions(times)
        slots = {
            **slots,
            "appointment_id": str(appointment.pk),
            "new_when": when.to_json(),
            "options": [slot_key(t) for t in times],
            "suggestions": suggestions,
        }
        text = _("Your appointment is on %(appointment)s.") % {
            "appointment": describe_appointment(appointment)
        }
        text += " " + _proposal_text(
            provider.display_name,
            times,
            exact,
            asked,
            one=_("Shall I move it there?"),
            many=_("Shall I move it to %(first)s, or another of these times?"),
        )
        return Outcome(lead + text, confirm=True, slots=slots, suggestions=suggestions)

    def _move(self, turn: Turn, appointment: Appointment, starts_at: dt.datetime) -> Outcome:
        when = When.from_json(turn.slots.get("new_when"))
        try:
            # One transaction in the service: the old time is freed only if the new one is held.
            moved = appointment_reschedule(
                appointment=appointment, starts_at=starts_at, by=turn.user, now=turn.now
            )
        except PatientDoubleBooked:
            return self._propose(
                turn,
                appointment,
                when,
                dict(turn.slots),
                prefix=_("You already have an appointment at that time."),
            )
        except SlotUnavailable:
            return self._propose(
                turn,
                appointment,
                when,
                dict(turn.slots),
                prefix=_("Sorry, %(time)s is no longer free.") % {"time": spoken_time(starts_at)},
            )
        except (SchedulingError, ValidationError) as exc:
            return _service_refusal(exc)
        return Outcome(
            _(
                "Moved: your appointment is now on %(appointment)s. A confirmation is on its way by email."
            )
            % {"appointment": describe_appointment(moved)},
            links=_appointment_links(moved),
            resulted_in_appointment=True,
            result="rescheduled",
        )
