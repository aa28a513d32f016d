"""Recurring jobs, configured by default: every `migrate` makes sure their schedules exist.

`make run` and the deployment's migrate step both run `migrate`, so no operator
ever adds a cron line. A schedule that already exists keeps its timing: the
admin may have changed it (Tasks > Scheduled tasks), and a deployment must not
undo that. Only its function is corrected, should the code have moved.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


def schedule_ensure(*, name: str, func: str, minutes: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the repeating schedule `name` (every `minutes`) unless it exists."""
    from django_q.models import Schedule

    existing = Schedule.objects.using(using).filter(name=name).first()
    if existing is None:
        Schedule.objects.using(using).create(
            name=name,
            func=func,
            schedule_type=Schedule.MINUTES,
            minutes=minutes,
            repeats=-1,
        )
    elif existing.func != func:
        existing.func = func
        existing.save(using=using, update_fields=["func"])


def ensure_after_migrate(name: str, func: str, minutes: int):
    """A post_migrate receiver that ensures one schedule, once django_q's tables exist."""

    def receiver(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
        from django_q.models import Schedule

        if Schedule._meta.db_table not in connections[using].introspection.table_names():
            return  # migrating to a point before the task engine's tables
        schedule_ensure(name=name, func=func, minutes=minutes, using=using)

    return receiver
