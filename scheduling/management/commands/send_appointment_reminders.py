"""Email patients whose appointment starts within the next 24 hours, now.

The task worker already runs this every 15 minutes (the "Appointment reminders"
schedule that `migrate` creates); this command is the same job by hand.
Idempotent: each reminder is claimed before it is sent and marked once the mail
server accepted it (scheduling.services.appointment_reminders_send), so running
it twice, or next to the worker, sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from scheduling.services import appointment_reminders_send


class Command(BaseCommand):
    help = "Email reminders for appointments starting within the next 24 hours (each one once)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = appointment_reminders_send()
        self.stdout.write(f"Sent {sent} appointment reminder{'s' if sent != 1 else ''}.")
