"""Store "completed" on active prescriptions past their end date.

The task worker already runs this hourly (the "Prescription expiry" schedule that
`migrate` creates), so each zone's midnight is caught soon after; this command is
the same job by hand.

Pages already show such a prescription as completed; this brings the stored
status (reports, the admin, exports) in line. Idempotent: a second run changes
nothing. Each change is audited without an actor (the system made it).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from prescriptions.services import prescriptions_expire


class Command(BaseCommand):
    help = "Mark active prescriptions whose end date has passed as completed."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = prescriptions_expire()
        noun = "prescription" if expired == 1 else "prescriptions"
        self.stdout.write(f"Marked {expired} {noun} completed.")
