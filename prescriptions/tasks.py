"""Jobs the task worker runs for prescriptions (schedules: healthcare/schedules.py)."""

from __future__ import annotations

from prescriptions.services import prescriptions_expire

EXPIRY_SCHEDULE = "Prescription expiry"
EXPIRY_EVERY_MINUTES = 60


def prescriptions_expire_due() -> str:
    """Hourly, so each time zone's midnight is caught soon after: store "completed"."""
    return f"{prescriptions_expire()} prescriptions completed"
