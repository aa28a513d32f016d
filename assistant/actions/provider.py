"""What a provider can ask for: the day's schedule, the next patient, a chart, a dictated note."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assistant.actions.base import Action, Outcome, Turn, page_link
from assistant.actions.patient import spoken_day
from assistant.nlu.intents import Intent
from assistant.nlu.matching import Match
from assistant.nlu.normalise import normalise
from patients.policy import visible_patients
from providers.selectors import patients_of_provider, provider_timezone
from providers.working_hours import local_day_bounds
from records.exceptions import RecordsError
from records.services import medical_record_write
from scheduling.models import AppointmentStatus
from scheduling.selectors import appointments_of_provider_between

PROVIDER = frozenset({"provider"})
MAX_CANDIDATES = 3
_PARTS = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}


def _schedule_link(turn: Turn):
    return page_link("scheduling:provider-calendar", _("Your schedule")) or page_link(
        "providers:dashboard", _("Dashboard")
    )


def _patient_name_of(patient: Any) -> str:
    return patient.user.full_name


class ScheduleToday(Action):
    intent = Intent.SCHEDULE_TODAY
    roles = PROVIDER

    def start(self, turn: Turn) -> Outcome:
        provider = turn.provider
        tz = provider_timezone(provider)
        local_now = turn.now.astimezone(tz)
        day = (
            turn.when.date if turn.when.date and turn.when.precision == "day" else local_now.date()
        )
        start, end = local_day_bounds(day, tz)
        part = turn.when.part_of_day
        if part:
            first, last = _PARTS[part]
            start = dt.datetime.combine(day, dt.time(first), tzinfo=tz)
            end = dt.datetime.combine(day, dt.time.max if last == 24 else dt.time(last), tzinfo=tz)
        appointments = [
            a
            for a in appointments_of_provider_between(provider, start, end)
            if a.status == AppointmentStatus.SCHEDULED
        ]
        label = _("today") if day == local_now.date() else spoken_day(day)
        links = [link for link in [_schedule_link(turn)] if link]
        if not appointments:
            return Outcome(_("You have no appointments %(day)s.") % {"day": label}, links=links)
        items = [
            f"{a.date_time.astimezone(tz):%H:%M} {a.patient.full_name}"
            + (f" ({a.reason})" if a.reason else "")
            for a in appointments
        ]
        text = ngettext(
            "You have %(count)d appointment %(day)s: %(items)s.",
            "You have %(count)d appointments %(day)s: %(items)s.",
            len(items),
        ) % {"count": len(items), "day": label, "items": "; ".join(items)}
        return Outcome(text, links=links)


class NextPatient(Action):
    intent = Intent.NEXT_PATIENT
    roles = PROVIDER

    def start(self, turn: Turn) -> Outcome:
        provider = turn.provider
        tz = provider_timezone(provider)
        upcoming = [
            a
            for a in appointments_of_provider_between(
                provider, turn.now, turn.now + dt.timedelta(days=14)
            )
            if a.status == AppointmentStatus.SCHEDULED
        ]
        if not upcoming:
            return Outcome(_("You have no patients booked in the next two weeks."))
        nxt = upcoming[0]
        local = nxt.date_time.astimezone(tz)
        day = (
            _("today")
            if local.date() == turn.now.astimezone(tz).date()
            else spoken_day(local.date())
        )
        text = _("Your next patient is %(name)s, %(day)s at %(time)s") % {
            "name": nxt.patient.full_name,
            "day": day,
            "time": local.strftime("%H:%M"),
        }
        if nxt.reason:
            text += _(", for %(reason)s") % {"reason": nxt.reason}
        links = []
        if visible_patients(turn.user).filter(pk=nxt.patient_id).exists():
            chart = page_link(
                "providers:patient-chart", _("Open the chart"), patient_id=nxt.patient_id
            )
            if chart:
                links.append(chart)
        return Outcome(text + ".", links=links)


def _choose_patient(
    turn: Turn, patients: list[Any], slots: dict[str, Any]
) -> tuple[Any | None, list[Match[Any]]]:
    by_id = {str(p.pk): p for p in patients}
    if slots.get("patient_id") in by_id:
        return by_id[slots["patient_id"]], []
    matches = turn.match_people(patients, _patient_name_of)
    if len(matches) == 1 or (len(matches) > 1 and matches[0].score - matches[1].score >= 5):
        return matches[0].item, matches
    return None, matches


class OpenChart(Action):
    intent = Intent.OPEN_CHART
    roles = PROVIDER

    def start(self, turn: Turn) -> Outcome:
        patients = list(visible_patients(turn.user).select_related("user"))
        slots = dict(turn.slots)
        patient, matches = _choose_patient(turn, patients, slots)
        if patient is None:
            if matches:
                names = [m.item.full_name for m in matches[:MAX_CANDIDATES]]
                return Outcome(
                    _("Which patient: %(names)s?") % {"names": ", ".join(names)},
                    ask="patient",
                    slots=slots,
                    suggestions=names,
                )
            if turn.answering == "patient" or not patients:
                return Outcome(_("I couldn't find a patient of yours by that name."))
            return Outcome(_("Whose chart should I open?"), ask="patient", slots=slots)
        link = page_link(
            "providers:patient-chart",
            _("%(name)s's chart") % {"name": patient.full_name},
            patient_id=patient.pk,
        )
        if link is None:
            return Outcome(_("Charts are not available in the portal yet."))
        return Outcome(
            _("Opening %(name)s's chart.") % {"name": patient.full_name},
            links=[link],
            navigate=link.url,
        )


# The words that start a dictation, and the ones that merely name the patient.
_DICTATION_LEAD = re.compile(
    r"^(?:please |ok |okay )?(?:i want to |let me |i'd like to )?(?:dictate|dictation|start|begin|new|create|add|take|record|write up|write|draft|document)?\s*(?:a |an |the |my )?(?:draft |new |visit |clinical |progress )?(?:note|dictation|visit note|visit)?\s*(?:for|to|on|about)?\s*"
)


def _note_body(text: str, patient_name: str | None) -> str:
    """What is left of the utterance once the command and the patient's name are taken off."""
    value = normalise(text)
    if patient_name:
        tokens = value.split()
        name_tokens = normalise(patient_name).split()
        # Drop everything up to the last word of the patient's name, if the name was said.
        positions = [i for i, t in enumerate(tokens) if t.removesuffix("'s") in name_tokens]
        if positions:
            rest = tokens[positions[-1] + 1 :]
            if rest and rest[0] in {"chart", "s", "record", "file"}:
                rest = rest[1:]
            return " ".join(rest).strip()
    return _DICTATION_LEAD.sub("", value, count=1).strip()


# Spoken section headings of a visit note, and the record field each fills.
_SECTIONS = {
    "symptoms": "symptoms",
    "subjective": "symptoms",
    "complains of": "symptoms",
    "diagnosis": "diagnosis",
    "assessment": "diagnosis",
    "impression": "diagnosis",
    "plan": "treatment",
    "treatment": "treatment",
    "notes": "notes",
    "note": "notes",
    "comment": "notes",
}
_SECTION_WORDS = re.compile(r"\b(" + "|".join(sorted(_SECTIONS, key=len, reverse=True)) + r")\b")
FIELD_LABELS = {
    "symptoms": _("Symptoms"),
    "diagnosis": _("Diagnosis"),
    "treatment": _("Treatment"),
    "notes": _("Notes"),
}


def split_note(text: str) -> dict[str, str]:
    """A dictated note in record fields: "... assessment ... plan ..." -> symptoms, diagnosis, treatment.

    Words before any heading are what the patient reports (symptoms).
    """
    fields: dict[str, list[str]] = {"symptoms": [], "diagnosis": [], "treatment": [], "notes": []}
    current = "symptoms"
    position = 0
    for match in _SECTION_WORDS.finditer(text):
        fields[current].append(text[position : match.start()])
        current = _SECTIONS[match.group(1)]
        position = match.end()
    fields[current].append(text[position:])
    return {name: " ".join(" ".join(parts).split()) for name, parts in fields.items()}


def describe_note(sections: dict[str, str]) -> str:
    return "; ".join(f"{FIELD_LABELS[name]}: {value}" for name, value in sections.items() if value)


class DictateNote(Action):
    """A visit note dictated into a draft, saved to the chart only once the provider confirms."""

    intent = Intent.DICTATE_NOTE
    roles = PROVIDER
    free_text_slots = frozenset({"note"})

    def start(self, turn: Turn) -> Outcome:
        patients = list(patients_of_provider(turn.provider))
        slots = dict(turn.slots)
        patient, matches = _choose_patient(turn, patients, slots)
        if patient is not None:
            slots["patient_id"] = str(patient.pk)
        if "note" not in slots and turn.answering is None:
            body = _note_body(turn.text, patient.full_name if patient else None)
            if len(body.split()) >= 3:
                slots["note"] = body
        if patient is None:
            if matches:
                names = [m.item.full_name for m in matches[:MAX_CANDIDATES]]
                return Outcome(
                    _("Which patient is the note for: %(names)s?") % {"names": ", ".join(names)},
                    ask="patient",
                    slots=slots,
                    suggestions=names,
                )
            return Outcome(_("Which patient is the note for?"), ask="patient", slots=slots)
        note = (slots.get("note") or "").strip()
        if not note:
            return Outcome(
                _("Go ahead with the note for %(name)s.") % {"name": patient.full_name},
                ask="note",
                slots=slots,
            )
        return Outcome(
            _("Draft note for %(name)s: %(note)s. Save it to the chart as today's visit note?")
            % {"name": patient.full_name, "note": describe_note(split_note(note))},
            confirm=True,
            slots=slots,
            suggestions=[_("Yes"), _("No")],
        )

    def confirmed(self, turn: Turn) -> Outcome:
        patients = {str(p.pk): p for p in patients_of_provider(turn.provider)}
        patient = patients.get(turn.slots.get("patient_id", ""))
        note = (turn.slots.get("note") or "").strip()
        if patient is None or not note:
            return Outcome(_("I could not save that note; you can write it on the chart."))
        tz = provider_timezone(turn.provider)
        try:
            # The records service checks the care relationship, as the chart's form does.
            medical_record_write(
                by=turn.user,
                patient=patient,
                record_date=turn.now.astimezone(tz).date(),
                **split_note(note),
            )
        except RecordsError as exc:
            return Outcome(exc.message)
        except ValidationError as exc:
            return Outcome(" ".join(exc.messages))
        link = page_link(
            "providers:patient-chart",
            _("%(name)s's chart") % {"name": patient.full_name},
            patient_id=patient.pk,
        )
        return Outcome(
            _("Saved the note to %(name)s's chart.") % {"name": patient.full_name},
            links=[link] if link else [],
        )

    def declined(self, turn: Turn) -> Outcome:
        return Outcome(_("All right, the draft is discarded."))
