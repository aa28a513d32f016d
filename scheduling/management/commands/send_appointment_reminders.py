"""Email patients whose appointment starts within the next 24 hours. Run it from cron, e.g.

    */15 * * * *  cd /srv/portal && .venv/bin/python manage.py send_appointment_reminders

Idempotent: an appointment's reminder is claimed (reminder_sent_at) before it
is sent, so running it twice, or on two hosts, sends nothing twice.
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
