"""What a patient can ask for that the portal's services and selectors already support."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assistant.actions.base import Action, Outcome, Turn, page_link, slot_uuid
from assistant.actions.resolve import closest, unknown_person, wants_next
from assistant.nlu.intents import Intent
from assistant.nlu.when import When
from assistant.redaction import redact_for
from assistant.selectors import (
    provider_by_id,
    providers_of_patient,
    transcript_of_conversation,
)
from messaging.models import MESSAGE_MAX_LENGTH
from messaging.services import MessageNotAllowed, message_send
from prescriptions.selectors import active_prescriptions_for_patient
from providers.models import ProviderProfile
from providers.working_hours import WEEKDAY_KEYS, day_name, format_interval, working_hours_or_none
from scheduling.models import AppointmentStatus
from scheduling.selectors import appointments_visible_to

LIST_LIMIT = 5
# Upcoming appointments read to filter by provider before the first LIST_LIMIT are kept.
LIST_SCAN = 50


def spoken_day(day: dt.date) -> str:
    return formats.date_format(day, "l j F")


def spoken_datetime(value: dt.datetime, tz: Any) -> str:
    local = value.astimezone(tz)
    return _("%(day)s at %(time)s") % {
        "day": spoken_day(local.date()),
        "time": local.strftime("%H:%M"),
    }


def provider_zone(provider: ProviderProfile) -> Any:
    from patients.timezones import zone_of

    return zone_of(provider)


def describe_when(turn: Turn) -> str:
    """ "Tuesday 18 March at 15:30" for what the user asked, or ""."""
    return when_phrase(turn.when)


def when_phrase(when: When) -> str:
    """ "Tuesday 18 March in the afternoon" for a When, or "" when it says nothing."""
    if when.date is None and when.time is None and when.part_of_day is None:
        return ""
    parts = []
    if when.date is not None:
        if when.precision == "week":
            parts.append(_("the week of %(day)s") % {"day": spoken_day(when.date)})
        elif when.precision == "month":
            parts.append(formats.date_format(when.date, "F Y"))
        else:
            parts.append(spoken_day(when.date))
    if when.time is not None:
        parts.append(_("at %(time)s") % {"time": when.time.strftime("%H:%M")})
    elif when.part_of_day:
        parts.append(_("in the %(part)s") % {"part": when.part_of_day})
    return " ".join(parts)


class ListAppointments(Action):
    intent = Intent.LIST_APPOINTMENTS

    def start(self, turn: Turn) -> Outcome:
        patient = turn.patient
        when = turn.when
        if when.date is not None:
            start = dt.datetime.combine(when.date, dt.time.min, tzinfo=turn.tz)
            days = 7 if when.precision == "week" else 31 if when.precision == "month" else 1
            appointments = list(
                appointments_visible_to(turn.user)
                .filter(
                    patient=patient,
                    status=AppointmentStatus.SCHEDULED,
                    date_time__gte=max(start, turn.now),
                    date_time__lt=start + dt.timedelta(days=days),
                )
                .order_by("date_time")[:LIST_LIMIT]
            )
        else:
            appointments = list(
                appointments_visible_to(turn.user)
                .filter(
                    patient=patient,
                    status=AppointmentStatus.SCHEDULED,
                    date_time__gte=turn.now,
                )
                .select_related("provider__user")
                .order_by("date_time")[:LIST_SCAN]
            )
        links = [
            link
            for link in [page_link("scheduling:patient-appointments", _("Your appointments"))]
            if link
        ]
        # "my next appointment with dr chen": only that provider's, only the first.
        providers = list({a.provider_id: a.provider for a in appointments}.values())
        named = turn.match_people(providers)
        unknown = unknown_person(
            turn.text,
            providers_of_patient(patient),
            lambda p: p.user.full_name,
            matched=bool(named),
        )
        if unknown is not None:
            own = providers_of_patient(patient)
            nearest = closest(unknown, own, lambda p: p.user.full_name)
            text = _("None of your providers is called %(name)s.") % {"name": unknown.title()}
            if nearest:
                text += " " + _("Did you mean %(names)s?") % {
                    "names": " or ".join(p.display_name for p in nearest)
                }
            return Outcome(
                text,
                links=links,
                suggestions=[
                    _("My appointments with %(name)s") % {"name": p.display_name} for p in nearest
                ],
            )
        if named:
            wanted = {m.item.pk for m in named if m.score >= named[0].score - 5}
            appointments = [a for a in appointments if a.provider_id in wanted]
        if wants_next(turn.text):
            appointments = appointments[:1]
        appointments = appointments[:LIST_LIMIT]
        if not appointments and named:
            return Outcome(
                _("You have no upcoming appointments with %(name)s.")
                % {"name": named[0].item.display_name},
                links=links,
            )
        if len(appointments) == 1 and (named or wants_next(turn.text)):
            only = appointments[0]
            return Outcome(
                _("Your next appointment is on %(when)s with %(provider)s.")
                % {
                    "when": spoken_datetime(only.date_time, provider_zone(only.provider)),
                    "provider": only.provider.display_name,
                },
                links=links,
            )
        if not appointments:
            asked = describe_when(turn)
            text = (
                _("You have no appointments booked for %(when)s.") % {"when": asked}
                if asked
                else _("You have no upcoming appointments.")
            )
            return Outcome(text, links=links)
        items = [
            _("%(when)s with %(provider)s")
            % {
                "when": spoken_datetime(a.date_time, provider_zone(a.provider)),
                "provider": a.provider.display_name,
            }
            for a in appointments
        ]
        text = ngettext(
            "You have %(count)d upcoming appointment: %(items)s.",
            "You have %(count)d upcoming appointments: %(items)s.",
            len(items),
        ) % {"count": len(items), "items": "; ".join(items)}
        return Outcome(text, links=links)


class ListPrescriptions(Action):
    intent = Intent.LIST_PRESCRIPTIONS

    def start(self, turn: Turn) -> Outcome:
        prescriptions = active_prescriptions_for_patient(turn.patient)
        links = [
            link
            for link in [
                page_link("prescriptions:patient-prescription-list", _("Your prescriptions"))
            ]
            if link
        ]
        if not prescriptions:
            return Outcome(_("You have no active prescriptions."), links=links)
        named = turn.match_medication(prescriptions)
        # Read out a few; the prescriptions page has the rest.
        chosen = [named] if named else prescriptions[:LIST_LIMIT]
        items = [
            _("%(name)s %(dosage)s, %(frequency)s, until %(end)s, %(refills)s")
            % {
                "name": p.medication_name,
                "dosage": p.dosage,
                "frequency": p.frequency,
                "end": spoken_day(p.end_date),
                "refills": ngettext("%(n)d refill left", "%(n)d refills left", p.refills)
                % {"n": p.refills},
            }
            for p in chosen
        ]
        if named:
            return Outcome(_("Your prescription: %(item)s.") % {"item": items[0]}, links=links)
        text = ngettext(
            "You have %(count)d active prescription: %(items)s.",
            "You have %(count)d active prescriptions: %(items)s.",
            len(prescriptions),
        ) % {"count": len(prescriptions), "items": "; ".join(items)}
        if len(prescriptions) > len(items):
            more = len(prescriptions) - len(items)
            text += " " + ngettext(
                "%(n)d more is on your prescriptions page.",
                "%(n)d more are on your prescriptions page.",
                more,
            ) % {"n": more}
        return Outcome(text, links=links)


class ViewRecords(Action):
    intent = Intent.VIEW_RECORDS

    def start(self, turn: Turn) -> Outcome:
        link = page_link("records:patient-record-list", _("Your records"))
        if link is None:
            return Outcome(_("Your visit records are not available in the portal yet."))
        return Outcome(
            _("Your visit notes, diagnoses and results are on your Records page."), links=[link]
        )


def _hours_text(provider: ProviderProfile, day: dt.date | None) -> str:
    hours = None
    try:
        hours = working_hours_or_none(provider.working_hours)
    except ValidationError:
        hours = None
    if hours is None:
        return _("no office hours are listed")
    if day is not None:
        intervals = hours.intervals_on(day.weekday())
        if not intervals:
            return _("not in on %(day)s") % {"day": spoken_day(day)}
        return _("in on %(day)s, %(hours)s") % {
            "day": spoken_day(day),
            "hours": ", ".join(format_interval(i) for i in intervals),
        }
    days = []
    for weekday, _key in enumerate(WEEKDAY_KEYS):
        intervals = hours.intervals_on(weekday)
        if intervals:
            days.append(f"{day_name(weekday)} {', '.join(format_interval(i) for i in intervals)}")
    return _("hours %(days)s (%(zone)s)") % {"days": "; ".join(days), "zone": hours.timezone_name}


class OfficeInfo(Action):
    intent = Intent.OFFICE_INFO

    def start(self, turn: Turn) -> Outcome:
        providers = providers_of_patient(turn.patient)
        if not providers:
            return Outcome(
                _("You are not with a provider yet, so I have no office to tell you about.")
            )
        named = turn.match_one(providers)
        chosen = [named] if named else providers[:3]
        day = turn.when.date if turn.when.precision == "day" else None
        items = []
        for provider in chosen:
            place = ", ".join(p for p in [provider.department, provider.office_location] if p) or _(
                "no office location listed"
            )
            items.append(
                _("%(name)s: %(place)s; %(hours)s")
                % {
                    "name": provider.display_name,
                    "place": place,
                    "hours": _hours_text(provider, day),
                }
            )
        return Outcome(" ".join(f"{item}." for item in items))


# "tell doctor patel that i'll be late", "let my doctor know my rash is worse"
_MESSAGE_BODY = re.compile(
    r"\b(?:that|saying|to say|know|about|asking|ask (?:him|her|them) to)\b\s+(?P<body>.{3,})$"
)


def transfer_content(turn: Turn, message: str) -> str:
    """The message, then this conversation with the assistant (oldest lines dropped first
    when it would not fit in one message). Stored texts are already redacted, and so is
    the turn's (utterance_respond takes identifiers out before the dialogue sees it)."""
    head = f"{message}\n\n{_('(Sent through the assistant.)')}"
    speaker = turn.user.full_name
    lines: list[str] = []
    for exchange in transcript_of_conversation(turn.user, turn.conversation_id):
        lines.append(f"{speaker}: {exchange.input_text}")
        lines.append(f"{_('Assistant')}: {exchange.response_text}")
    lines.append(f"{speaker}: {turn.text}")
    title = _("Conversation with the assistant:")
    while lines:
        content = f"{head}\n\n{title}\n" + "\n".join(lines)
        if len(content) <= MESSAGE_MAX_LENGTH:
            return redact_for(turn.user, content)
        lines.pop(0)
    return redact_for(turn.user, head)


class ContactProvider(Action):
    """Pass a message to one of the patient's providers: the assistant's transfer to a person."""

    intent = Intent.CONTACT_PROVIDER
    free_text_slots = frozenset({"message"})

    def start(self, turn: Turn) -> Outcome:
        providers = providers_of_patient(turn.patient)
        if not providers:
            return Outcome(_("You have no care team to message yet. In an emergency call 911."))
        slots = dict(turn.slots)
        provider = self._provider(turn, providers, slots)
        if "message" not in slots:
            match = _MESSAGE_BODY.search(turn.text)
            if match and turn.answering is None:
                slots["message"] = match["body"].strip()
        if provider is None:
            unknown = unknown_person(
                turn.text, providers, lambda p: p.user.full_name, matched=False
            )
            if unknown is not None:
                nearest = closest(unknown, providers, lambda p: p.user.full_name)
                return Outcome(
                    _("None of your providers is called %(name)s. Did you mean %(names)s?")
                    % {
                        "name": unknown.title(),
                        "names": " or ".join(p.display_name for p in nearest),
                    },
                    ask="provider",
                    slots=slots,
                    suggestions=[p.user.full_name for p in nearest],
                )
            names = ", ".join(p.display_name for p in providers)
            return Outcome(
                _("Which of your providers should I send it to: %(names)s?") % {"names": names},
                ask="provider",
                slots=slots,
                suggestions=[p.user.full_name for p in providers],
            )
        slots["provider_id"] = str(provider.pk)
        message = (slots.get("message") or "").strip()
        if not message:
            return Outcome(
                _("What would you like the message to %(name)s to say?")
                % {"name": provider.display_name},
                ask="message",
                slots=slots,
            )
        # The exact text is fixed now and shown in full; yes sends this and nothing else.
        slots["content"] = transfer_content(turn, message)
        return Outcome(
            _(
                "I'll send this to %(name)s, with our conversation so far: “%(message)s”. "
                "This is exactly what they will see. Shall I send it?"
            )
            % {"name": provider.display_name, "message": message},
            confirm=True,
            slots=slots,
            suggestions=[_("Yes"), _("No")],
            preview=slots["content"],
        )

    def _provider(
        self, turn: Turn, providers: list[ProviderProfile], slots: dict[str, Any]
    ) -> ProviderProfile | None:
        by_id = {str(p.pk): p for p in providers}
        if slots.get("provider_id") in by_id:
            return by_id[slots["provider_id"]]
        named = turn.match_one(providers)
        if named is not None:
            return named
        if unknown_person(turn.text, providers, lambda p: p.user.full_name, matched=False):
            return None  # "dr smith" is nobody of theirs: ask, even with one provider
        if len(providers) == 1:
            return providers[0]
        return None

    def confirmed(self, turn: Turn) -> Outcome:
        if not turn.slots.get("content"):
            # Handed over ("shall I message your provider?"): show the exact text first.
            return self.start(turn)
        provider_id = slot_uuid(turn.slots.get("provider_id"))
        provider = provider_by_id(provider_id) if provider_id else None
        message = (turn.slots.get("message") or "").strip()
        if provider is None or not message:
            return Outcome(_("I could not send that message; please try again."))
        content = str(turn.slots["content"])
        # Whether the patient may still write to them (care ended meanwhile?) is messaging's call.
        try:
            # messaging's own service: its policy, and the real-time push after commit.
            message_send(sender=turn.user, receiver=provider.user, content=content)
        except MessageNotAllowed as exc:
            return Outcome(str(exc))
        except ValidationError as exc:
            return Outcome(" ".join(exc.messages))
        conversation = page_link(
            "messaging:conversation",
            _("Open your conversation with %(name)s") % {"name": provider.display_name},
            user_id=provider.user_id,
        ) or page_link("messaging:inbox", _("Your messages"))
        return Outcome(
            _(
                "Sent, with our conversation, to %(name)s. Their team will answer in your Messages; "
                "I'm opening the conversation. In an emergency call 911."
            )
            % {"name": provider.display_name},
            links=[conversation] if conversation else [],
            navigate=conversation.url if conversation else None,
            resulted_in_provider_transfer=True,
            result="transferred",
        )

    def declined(self, turn: Turn) -> Outcome:
        return Outcome(_("All right, I have not sent anything."))
