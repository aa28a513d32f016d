"""Database specifics of scheduling: the PostgreSQL-only migration step and error triage.

SQLite is the default engine and has no exclusion constraints; there the
booking services serialize their check-then-insert instead (the SQLite
connection runs with transaction_mode IMMEDIATE, so a write transaction holds
the database lock from BEGIN). On PostgreSQL the database itself refuses
overlapping scheduled appointments.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, migrations

# SQLSTATEs that mean "someone else holds (or just took) this time".
EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"

PROVIDER_OVERLAP_CONSTRAINT = "appointments_provider_no_overlap"
PATIENT_OVERLAP_CONSTRAINT = "appointments_patient_no_overlap"


class RunSQLOnPostgres(migrations.RunSQL):
    """RunSQL that is skipped on every engine but PostgreSQL (the schema state is unchanged)."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return "Raw SQL operation (PostgreSQL only)"


def _sqlstate(exc: BaseException) -> str | None:
    cause: BaseException | None = exc
    while cause is not None:
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if state:
            return str(state)
        cause = cause.__cause__
    return None


def _constraint_name(exc: BaseException) -> str | None:
    cause: BaseException | None = exc
    while cause is not None:
        diag = getattr(cause, "diag", None)
        if diag is not None and getattr(diag, "constraint_name", None):
            return str(diag.constraint_name)
        cause = cause.__cause__
    return None


def is_overlap_refusal(exc: DatabaseError) -> bool:
    """True when PostgreSQL refused the write because the time is taken.

    Under races PostgreSQL may report `deadlock detected` (two inserts each
    waiting on the other's index entry) rather than the exclusion violation:
    one of them wins, so for the loser the slot is taken too.
    """
    return _sqlstate(exc) in {EXCLUSION_VIOLATION, DEADLOCK_DETECTED, SERIALIZATION_FAILURE}


def is_patient_overlap(exc: DatabaseError) -> bool:
    return (
        _sqlstate(exc) == EXCLUSION_VIOLATION
        and _constraint_name(exc) == PATIENT_OVERLAP_CONSTRAINT
    )
