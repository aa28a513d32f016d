"""The actions the assistant can take, one per intent (see base.py for the interface)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from assistant.actions.base import Action, Link, Outcome, Turn, action_for, page_link, register
from assistant.actions.patient import (
    ContactProvider,
    ListAppointments,
    ListPrescriptions,
    OfficeInfo,
    ViewRecords,
)
from assistant.actions.provider import DictateNote, NextPatient, OpenChart, ScheduleToday
from assistant.actions.refills import PendingRefills, RequestRefill
from assistant.actions.scheduling import BookAppointment, CancelAppointment, RescheduleAppointment
from assistant.nlu.intents import Intent

__all__ = ["Action", "Link", "Outcome", "Turn", "action_for", "page_link", "register"]

PATIENT = frozenset({"patient"})
PROVIDER = frozenset({"provider"})
BOTH = PATIENT | PROVIDER


class Help(Action):
    intent = Intent.GREETING
    roles = BOTH

    def start(self, turn: Turn) -> Outcome:
        if turn.role == "provider":
            text = _(
                "Hello. You can ask for today's schedule, your next patient, a patient's chart by name, "
                "the refill requests waiting for you, or dictate a visit note."
            )
            suggestions = [_("What's on my schedule today?"), _("Who is my next patient?")]
        else:
            text = _(
                "Hello. I can book, move or cancel your appointments, ask for a refill, tell you about "
                "your prescriptions, records and your provider's office hours, or pass a message to "
                "your care team. In an emergency call 911."
            )
            suggestions = [
                _("When is my next appointment?"),
                _("Book an appointment"),
                _("What are my prescriptions?"),
            ]
        return Outcome(text, suggestions=suggestions)


for action in (
    Help(),
    ListAppointments(),
    ListPrescriptions(),
    ViewRecords(),
    OfficeInfo(),
    ContactProvider(),
    ScheduleToday(),
    NextPatient(),
    OpenChart(),
    DictateNote(),
    BookAppointment(),
    CancelAppointment(),
    RescheduleAppointment(),
    RequestRefill(),
    PendingRefills(),
):
    register(action)
