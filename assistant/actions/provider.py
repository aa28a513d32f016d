"""What a provider can ask for: the day's schedule, the next patient, a chart, a dictated note."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assistant.actions.base import Action, Outcome, Turn, page_link
from assistant.actions.patient import spoken_day
from assistant.nlu.intents import Intent
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
        # Every visit of the day but the cancelled ones: done, missed and still to come.
        appointments = [
            a
            for a in appointments_of_provider_between(provider, start, end)
            if a.status != AppointmentStatus.CANCELLED
        ]
        label = _("today") if day == local_now.date() else spoken_day(day)
        links = [link for link in [_schedule_link(turn)] if link]
        if not appointments:
            return Outcome(_("You have no appointments %(day)s.") % {"day": label}, links=links)

        def item(a: Any) -> str:
            return f"{a.date_time.astimezone(tz):%H:%M} {a.patient.full_name}" + (
                f" ({a.reason})" if a.reason else ""
            )

        total = ngettext(
            "You have %(count)d visit %(day)s",
            "You have %(count)d visits %(day)s",
            len(appointments),
        ) % {"count": len(appointments), "day": label}
        left = [
            a
            for a in appointments
            if a.status == AppointmentStatus.SCHEDULED and a.date_time >= turn.now
        ]
        if day != local_now.date():
            # Another day: all of it is still to come (or all past); read them out.
            text = f"{total}: " + "; ".join(item(a) for a in appointments) + "."
            return Outcome(text, links=links)
        missed = [a for a in appointments if a.status == AppointmentStatus.NO_SHOW]
        done = [a for a in appointments if a not in left and a not in missed]
        parts = [
            ngettext("%(n)d done", "%(n)d done", len(done)) % {"n": len(done)},
            ngettext("%(n)d left", "%(n)d left", len(left)) % {"n": len(left)},
        ]
        if missed:
            parts.append(
                ngettext("%(n)d no-show", "%(n)d no-shows", len(missed)) % {"n": len(missed)}
            )
        text = f"{total}: " + ", ".join(parts) + "."
        if left:
            text += " " + _("Next: %(item)s.") % {"item": item(left[0])}
            if len(left) > 1:
                text += " " + _("Then: %(items)s.") % {
                    "items": "; ".join(item(a) for a in left[1:])
                }
        else:
            text += " " + _("No more visits %(day)s.") % {"day": label}
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


def _dob_label(patient: Any) -> str:
    return formats.date_format(patient.date_of_birth, "j M Y")


def _patient_label(patient: Any) -> str:
    """ "Owen Halvorsen (born 3 Mar 1980)": what tells two people of one name apart."""
    return _("%(name)s (born %(dob)s)") % {"name": patient.full_name, "dob": _dob_label(patient)}


def _exact_names(turn: Turn, patients: list[Any]) -> list[Any]:
    """Patients whose whole name (first and last) is said, word for word."""
    said = f" {normalise(turn.text)} "
    return [p for p in patients if f" {normalise(p.full_name)} " in said]


def _by_birth_date(turn: Turn, patients: list[Any]) -> list[Any]:
    """Those of `patients` whose date of birth the answer gives (as labelled, ISO, or the year)."""
    said = normalise(turn.text)
    full = [
        p
        for p in patients
        if normalise(_dob_label(p)) in said or p.date_of_birth.isoformat() in turn.text
    ]
    if full:
        return full
    years = set(re.findall(r"\b(?:19|20)\d{2}\b", said))
    return [p for p in patients if str(p.date_of_birth.year) in years]


_ORDINAL_WORDS = {"first": 0, "second": 1, "third": 2, "1st": 0, "2nd": 1, "3rd": 2}


def _ordinal_pick(text: str, count: int) -> int | None:
    for word in normalise(text).split():
        if word in _ORDINAL_WORDS and _ORDINAL_WORDS[word] < count:
            return _ORDINAL_WORDS[word]
    return None


def _choose_patient(
    turn: Turn, patients: list[Any], slots: dict[str, Any]
) -> tuple[Any | None, list[Any]]:
    """(the patient meant, or None; the candidates to ask about, best first).

    An exact full name wins over partial matches ("Owen Halvorsen" among three
    Owens); people who share it are told apart by date of birth.
    """
    by_id = {str(p.pk): p for p in patients}
    if slots.get("patient_id") in by_id:
        return by_id[slots["patient_id"]], []
    offered = [by_id[i] for i in slots.get("patient_options") or [] if i in by_id]
    answering = turn.answering == "patient" and bool(offered)
    pool = offered if answering else patients
    if answering:
        index = _ordinal_pick(turn.text, len(offered))
        if index is not None:
            return offered[index], []
    exact = _exact_names(turn, pool)
    if len(exact) > 1:
        dated = _by_birth_date(turn, exact)
        return (dated[0], []) if len(dated) == 1 else (None, exact)
    if len(exact) == 1:
        return exact[0], []
    if answering:
        dated = _by_birth_date(turn, pool)
        if len(dated) == 1:
            return dated[0], []
    matches = turn.match_people(pool, _patient_name_of)
    if len(matches) == 1 or (len(matches) > 1 and matches[0].score - matches[1].score >= 5):
        return matches[0].item, []
    return None, [m.item for m in matches]


def _which_patient(
    turn: Turn, question: str, candidates: list[Any], slots: dict[str, Any]
) -> Outcome:
    """Ask once, names with dates of birth; a second unclear answer ends with the patient list."""
    if turn.answering == "patient" and slots.get("patient_options"):
        link = page_link("providers:patient-list", _("Your patients"))
        return Outcome(
            _(
                "I still can't tell which patient you mean. Please pick them from your patient list."
            ),
            links=[link] if link else [],
        )
    shown = candidates[:MAX_CANDIDATES]
    labels = [_patient_label(p) for p in shown]
    return Outcome(
        question % {"names": "; ".join(labels)},
        ask="patient",
        slots={**slots, "patient_options": [str(p.pk) for p in shown]},
        suggestions=labels,
    )


class OpenChart(Action):
    intent = Intent.OPEN_CHART
    roles = PROVIDER

    def start(self, turn: Turn) -> Outcome:
        patients = list(visible_patients(turn.user).select_related("user"))
        slots = dict(turn.slots)
        patient, matches = _choose_patient(turn, patients, slots)
        if patient is None:
            if matches:
                return _which_patient(turn, _("Which patient: %(names)s?"), matches, slots)
            if turn.answering == "patient" or not patients:
                listing = page_link("providers:patient-list", _("Your patients"))
                return Outcome(
                    _("I couldn't find a patient of yours by that name."),
                    links=[listing] if listing else [],
                )
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
                return _which_patient(
                    turn, _("Which patient is the note for: %(names)s?"), matches, slots
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
