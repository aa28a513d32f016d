"""Re-encrypt every encrypted column with the newest FIELD_ENCRYPTION_KEY.

Key rotation: put the new key first in FIELD_ENCRYPTION_KEY (keep the old ones
after it), run this command, then the old keys can be removed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from patients.services import patient_ssn_reencrypt_all


class Command(BaseCommand):
    help = "Re-encrypt stored SSNs with the first key of FIELD_ENCRYPTION_KEY."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        count = patient_ssn_reencrypt_all(batch_size=batch_size)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} patient profile(s) with the newest key."))
