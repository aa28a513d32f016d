"""Jobs the task worker runs for the assistant (schedules: healthcare/schedules.py)."""

from __future__ import annotations

from assistant.services import interactions_roll_up

ROLLUP_SCHEDULE = "Assistant analytics rollup"
# Hourly: a day is counted within the hour after it closes; until then the analytics
# page counts it live, so a late or missed run costs time, never correctness.
ROLLUP_EVERY_MINUTES = 60


def interactions_roll_up_due() -> str:
    return f"{interactions_roll_up()} days of assistant interactions counted"
