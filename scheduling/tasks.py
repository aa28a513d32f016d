"""Jobs the task worker runs for scheduling (schedules: healthcare/schedules.py)."""

from __future__ import annotations

from scheduling.services import appointment_reminders_send

REMINDERS_SCHEDULE = "Appointment reminders"
REMINDERS_EVERY_MINUTES = 15


def reminders_send() -> str:
    """Every 15 minutes: email the reminders that are due (each appointment once)."""
    return f"{appointment_reminders_send()} reminders sent"
