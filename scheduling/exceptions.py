"""Domain errors of scheduling. Services raise them; views turn them into messages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class SchedulingError(Exception):
    """Base class: `message` is safe to show to the user who asked."""

    default_message = _("This could not be done.")

    def __init__(self, message: object = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)


class SlotUnavailable(SchedulingError):
    """The time is not (or no longer) bookable: taken, blocked, past or outside the hours."""

    default_message = _("This slot was just taken. Please choose another time.")


class PatientDoubleBooked(SlotUnavailable):
    """The patient already has an appointment that overlaps the time asked for."""

    default_message = _("The patient already has an appointment at that time.")


class NotAllowed(SchedulingError):
    """The user may not do this to this appointment (or with this patient)."""

    default_message = _("You are not allowed to do that.")


class InvalidTransition(SchedulingError):
    """The status change is not one of scheduled → completed / cancelled / no-show."""

    default_message = _("This appointment can no longer be changed.")


class CutoffPassed(SchedulingError):
    """Too close to the start for the patient to cancel or reschedule online."""

    default_message = _(
        "It is too late to change this appointment online. Please call the practice."
    )
