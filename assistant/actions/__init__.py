"""The actions the assistant can take, one per intent (see base.py for the interface)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistant.actions.base import Action, Link, Outcome, Turn, action_for, page_link, register
from assistant.actions.patient import (
    ContactProvider,
    ListAppointments,
    ListPrescriptions,
    NotYetAvailable,
    OfficeInfo,
    ViewRecords,
)
from assistant.actions.provider import DictateNote, NextPatient, OpenChart, ScheduleToday
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
                "pending refill requests, or dictate a visit note."
            )
            suggestions = [_("What's on my schedule today?"), _("Who is my next patient?")]
        else:
            text = _(
                "Hello. You can ask about your appointments, your prescriptions and refills, your records, "
                "your provider's office hours and location, or send a message to your care team. "
                "In an emergency call 911."
            )
            suggestions = [_("When is my next appointment?"), _("What are my prescriptions?")]
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
    # Understood, but carried out on their pages until their actions are registered.
    NotYetAvailable(
        Intent.BOOK,
        PATIENT,
        gettext_lazy("book appointments"),
        "scheduling:patient-book",
        gettext_lazy("Book an appointment"),
    ),
    NotYetAvailable(
        Intent.CANCEL,
        PATIENT,
        gettext_lazy("cancel appointments"),
        "scheduling:patient-appointments",
        gettext_lazy("Appointments"),
    ),
    NotYetAvailable(
        Intent.RESCHEDULE,
        PATIENT,
        gettext_lazy("move appointments"),
        "scheduling:patient-appointments",
        gettext_lazy("Appointments"),
    ),
    NotYetAvailable(
        Intent.REFILL,
        PATIENT,
        gettext_lazy("request refills"),
        "prescriptions:patient-prescription-list",
        gettext_lazy("Prescriptions"),
    ),
    NotYetAvailable(
        Intent.PENDING_REFILLS,
        PROVIDER,
        gettext_lazy("review refill requests"),
        "prescriptions:provider-refill-list",
        gettext_lazy("Refills"),
    ),
):
    register(action)
