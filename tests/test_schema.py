"""The database matches the seed schema: nine tables, their columns and the seven indexes.

The facts are read back from the database (introspection), never from the
models, so a migration that drifts from the models or from the seed fails here.
CI runs the suite on one engine only; the seed must hold on SQLite and on
PostgreSQL, so the other engine is built from the migrations in a subprocess
and introspected there with the same code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

from conftest import require_or_skip

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Column(NamedTuple):
    """What the seed says about one column."""

    family: str
    nullable: bool = False
    # "table.column" of a foreign key's target.
    references: str | None = None


def _uuid(nullable: bool = False, references: str | None = None) -> Column:
    return Column("uuid", nullable, references)


TEXT, TIMESTAMP, DATE = Column("text"), Column("timestamp"), Column("date")
INTEGER, BOOLEAN, FLOAT, JSON = (
    Column("integer"),
    Column("boolean"),
    Column("float"),
    Column("json"),
)

# The seed schema (shared/seed-schema.md). Only appointment_id, medical_record_id
# and read_at may be NULL. Tables may hold more columns than the seed (Django's
# is_staff, the SSN's keyed hash); they may not hold fewer.
SEED_TABLES: dict[str, dict[str, Column]] = {
    "users": {
        "id": _uuid(),
        "email": TEXT,
        "password_hash": TEXT,
        "phone_number": TEXT,
        "full_name": TEXT,
        "role": TEXT,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "patient_profiles": {
        "id": _uuid(),
        "user_id": _uuid(references="users.id"),
        "insurance_number": TEXT,
        "ssn": TEXT,
        "date_of_birth": DATE,
        "address": TEXT,
        "emergency_contact": TEXT,
        "emergency_contact_phone": TEXT,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "provider_profiles": {
        "id": _uuid(),
        "user_id": _uuid(references="users.id"),
        "credentials": TEXT,
        "specialization": TEXT,
        "license_number": TEXT,
        "department": TEXT,
        "office_location": TEXT,
        "working_hours": JSON,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "provider_patients": {
        "id": _uuid(),
        "provider_id": _uuid(references="provider_profiles.id"),
        "patient_id": _uuid(references="patient_profiles.id"),
        "relationship_start_date": DATE,
        "status": TEXT,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "appointments": {
        "id": _uuid(),
        "patient_id": _uuid(references="patient_profiles.id"),
        "provider_id": _uuid(references="provider_profiles.id"),
        "date_time": TIMESTAMP,
        "duration_minutes": INTEGER,
        "status": TEXT,
        "type": TEXT,
        "reason": TEXT,
        "notes": TEXT,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "medical_records": {
        "id": _uuid(),
        "patient_id": _uuid(references="patient_profiles.id"),
        "provider_id": _uuid(references="provider_profiles.id"),
        "appointment_id": _uuid(nullable=True, references="appointments.id"),
        "record_date": DATE,
        "diagnosis": TEXT,
        "symptoms": TEXT,
        "treatment": TEXT,
        "notes": TEXT,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "prescriptions": {
        "id": _uuid(),
        "patient_id": _uuid(references="patient_profiles.id"),
        "provider_id": _uuid(references="provider_profiles.id"),
        "medical_record_id": _uuid(nullable=True, references="medical_records.id"),
        "medication_name": TEXT,
        "dosage": TEXT,
        "frequency": TEXT,
        "duration": TEXT,
        "start_date": DATE,
        "end_date": DATE,
        "refills": INTEGER,
        "status": TEXT,
        "notes": TEXT,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "messages": {
        "id": _uuid(),
        "sender_id": _uuid(references="users.id"),
        "receiver_id": _uuid(references="users.id"),
        "content": TEXT,
        "read": BOOLEAN,
        "sent_at": TIMESTAMP,
        "read_at": Column("timestamp", nullable=True),
    },
    "ai_interactions": {
        "id": _uuid(),
        "user_id": _uuid(references="users.id"),
        "input_text": TEXT,
        "response_text": TEXT,
        "detected_intent": TEXT,
        "confidence_score": FLOAT,
        "resulted_in_appointment": BOOLEAN,
        "resulted_in_provider_transfer": BOOLEAN,
        "interaction_timestamp": TIMESTAMP,
    },
}

# The seed's seven indexes, column order included: an index or a unique
# constraint whose columns are exactly these, in this order.
SEED_INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("users", ("email",)),
    ("appointments", ("patient_id", "date_time")),
    ("appointments", ("provider_id", "date_time")),
    ("medical_records", ("patient_id", "record_date")),
    ("prescriptions", ("patient_id", "status")),
    ("messages", ("sender_id", "receiver_id", "sent_at")),
    ("messages", ("receiver_id", "read")),
)

# SQL type -> family, per engine. Timestamps must carry a time zone on
# PostgreSQL: the project stores aware UTC datetimes only.
_POSTGRES_FAMILIES = {
    "uuid": "uuid",
    "timestamp with time zone": "timestamp",
    "date": "date",
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "boolean": "boolean",
    "double precision": "float",
    "real": "float",
    "character varying": "text",
    "text": "text",
    "jsonb": "json",
}
_SQLITE_FAMILIES = {
    # Django keeps UUIDs as 32 hex characters on SQLite.
    "char(32)": "uuid",
    "datetime": "timestamp",
    "date": "date",
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "integer unsigned": "integer",
    "bool": "boolean",
    "real": "float",
    "varchar": "text",
    "text": "text",
}

SNAPSHOT_MARKER = "SCHEMA-SNAPSHOT:"


# --- Introspection (also run inside the subprocess, so keep it self-contained) ---


def _family(vendor: str, sql_type: str, has_json_constraint: bool) -> str | None:
    if vendor == "postgresql":
        return _POSTGRES_FAMILIES.get(sql_type)
    if vendor == "sqlite":
        if has_json_constraint and sql_type == "text":
            return "json"
        return _SQLITE_FAMILIES.get(re.sub(r"^varchar\(\d+\)$", "varchar", sql_type))
    return None


def _postgres_type_names(cursor: Any, oids: set[int]) -> dict[int, str]:
    cursor.execute(
        "SELECT oid, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(%s)", [sorted(oids)]
    )
    return {int(oid): name for oid, name in cursor.fetchall()}


def describe_schema(connection: BaseDatabaseWrapper) -> dict[str, Any]:
    """What the database holds for the seed tables, as plain JSON-able data."""
    introspection = connection.introspection
    vendor = connection.vendor
    snapshot: dict[str, Any] = {"vendor": vendor, "tables": {}}
    with connection.cursor() as cursor:
        present = {t.name for t in introspection.get_table_list(cursor) if t.type == "t"}
        for table in SEED_TABLES:
            if table not in present:
                continue
            description = introspection.get_table_description(cursor, table)
            type_names: dict[int, str] = {}
            if vendor == "postgresql":
                type_names = _postgres_type_names(cursor, {f.type_code for f in description})
            columns = {}
            for field in description:
                if vendor == "postgresql":
                    sql_type = type_names.get(field.type_code, str(field.type_code))
                else:
                    sql_type = str(field.type_code).strip().lower()
                json_check = bool(getattr(field, "has_json_constraint", False))
                columns[field.name] = {
                    "sql_type": sql_type,
                    "family": _family(vendor, sql_type, json_check),
                    "nullable": bool(field.null_ok),
                }
            constraints = introspection.get_constraints(cursor, table).values()
            snapshot["tables"][table] = {
                "columns": columns,
                "primary_key": [c["columns"] for c in constraints if c["primary_key"]],
                "indexes": [
                    list(c["columns"])
                    for c in constraints
                    if (c["index"] or c["unique"]) and not c["check"] and not c["primary_key"]
                ],
                "foreign_keys": {
                    column: f"{table_}.{column_}"
                    for column, (column_, table_) in introspection.get_relations(
                        cursor, table
                    ).items()
                },
            }
    return snapshot


# --- Checks shared by the live database and the subprocess one ---


def missing_tables(snapshot: dict[str, Any]) -> list[str]:
    return [table for table in SEED_TABLES if table not in snapshot["tables"]]


def column_problems(snapshot: dict[str, Any], table: str) -> list[str]:
    """Every way `table` differs from the seed; empty when it matches."""
    found = snapshot["tables"].get(table)
    if found is None:
        return [f"{table}: table is missing"]
    problems = []
    for name, expected in SEED_TABLES[table].items():
        column = found["columns"].get(name)
        if column is None:
            problems.append(f"{table}.{name}: column is missing")
            continue
        if column["family"] != expected.family:
            problems.append(
                f"{table}.{name}: expected a {expected.family} column, "
                f"found {column['sql_type']!r} ({column['family']})"
            )
        if column["nullable"] != expected.nullable:
            wanted = "NULL" if expected.nullable else "NOT NULL"
            problems.append(f"{table}.{name}: expected {wanted}")
        if expected.references and found["foreign_keys"].get(name) != expected.references:
            problems.append(
                f"{table}.{name}: expected a foreign key to {expected.references}, "
                f"found {found['foreign_keys'].get(name)}"
            )
    if found["primary_key"] != [["id"]]:
        problems.append(f"{table}: expected primary key (id), found {found['primary_key']}")
    return problems


def index_problems(snapshot: dict[str, Any]) -> list[str]:
    problems = []
    for table, columns in SEED_INDEXES:
        found = snapshot["tables"].get(table, {"indexes": []})["indexes"]
        if list(columns) not in found:
            problems.append(f"{table}({', '.join(columns)}): no such index; found {found}")
    return problems


# --- The live database (the engine this run uses) ---


@pytest.fixture
def live_schema(db) -> dict[str, Any]:
    return describe_schema(default_connection)


def test_every_seed_table_exists(live_schema: dict[str, Any]) -> None:
    assert missing_tables(live_schema) == []


@pytest.mark.parametrize("table", list(SEED_TABLES))
def test_seed_table_has_its_columns_with_types_and_nullability(
    live_schema: dict[str, Any], table: str
) -> None:
    assert column_problems(live_schema, table) == []


@pytest.mark.parametrize(
    ("table", "columns"), SEED_INDEXES, ids=[f"{t}({','.join(c)})" for t, c in SEED_INDEXES]
)
def test_seed_index_exists_with_its_column_order(
    live_schema: dict[str, Any], table: str, columns: tuple[str, ...]
) -> None:
    assert list(columns) in live_schema["tables"].get(table, {}).get("indexes", [])


def test_users_password_column_is_named_password_hash(live_schema: dict[str, Any]) -> None:
    columns = live_schema["tables"]["users"]["columns"]
    assert "password_hash" in columns
    assert "password" not in columns


def test_uuid_columns_use_the_engines_uuid_storage(live_schema: dict[str, Any]) -> None:
    expected = "uuid" if live_schema["vendor"] == "postgresql" else "char(32)"
    uuid_columns = [
        (table, name)
        for table, columns in SEED_TABLES.items()
        for name, column in columns.items()
        if column.family == "uuid"
    ]
    assert {
        (table, name): live_schema["tables"][table]["columns"][name]["sql_type"]
        for table, name in uuid_columns
    } == dict.fromkeys(uuid_columns, expected)


# --- The other engine, built from the migrations in a subprocess ---


def _manage(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env["DATABASE_URL"] = database_url
    # CI may provide the secrets through the environment only; pass on what this run uses.
    env.setdefault("SECRET_KEY", settings.SECRET_KEY)
    env.setdefault("FIELD_ENCRYPTION_KEY", ",".join(settings.FIELD_ENCRYPTION_KEY))
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    )
    return result


def _migrate_and_describe(database_url: str) -> dict[str, Any]:
    _manage(["migrate", "--no-input", "-v", "0"], database_url)
    script = (
        "import json; from django.db import connection; "
        "from tests.test_schema import SNAPSHOT_MARKER, describe_schema; "
        "print(SNAPSHOT_MARKER + json.dumps(describe_schema(connection)))"
    )
    result = _manage(["shell", "-v", "0", "-c", script], database_url)
    lines = [line for line in result.stdout.splitlines() if line.startswith(SNAPSHOT_MARKER)]
    assert len(lines) == 1, (
        f"no schema snapshot in the shell output:\n{result.stdout}\n{result.stderr}"
    )
    return json.loads(lines[0].removeprefix(SNAPSHOT_MARKER))


def _postgres_server() -> dict[str, Any]:
    """Connection parameters of a PostgreSQL server where a scratch database may be created."""
    live = settings.DATABASES["default"]
    if live["ENGINE"] == "django.db.backends.postgresql":
        return {
            "host": live.get("HOST") or "127.0.0.1",
            "port": int(live.get("PORT") or 5432),
            "user": live.get("USER") or "postgres",
            "password": live.get("PASSWORD") or None,
        }
    return {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": None}


def _postgres_url(server: dict[str, Any], name: str) -> str:
    password = f":{quote(server['password'], safe='')}" if server["password"] else ""
    user = quote(server["user"], safe="")
    return f"postgres://{user}{password}@{server['host']}:{server['port']}/{name}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def migrated_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A fresh database of each engine, migrated from scratch and introspected."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("schema_probe") / "schema_probe.sqlite3"
        yield _migrate_and_describe(f"sqlite:///{path}")
        return

    import psycopg

    server = _postgres_server()
    try:
        admin = psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **server)
    except psycopg.OperationalError:
        admin = None
    require_or_skip(admin is not None, "PostgreSQL")
    assert admin is not None
    name = f"schema_probe_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _migrate_and_describe(_postgres_url(server, name))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_migrations_build_every_seed_table_on_each_engine(migrated_schema: dict[str, Any]) -> None:
    assert missing_tables(migrated_schema) == []


def test_migrations_build_seed_columns_on_each_engine(migrated_schema: dict[str, Any]) -> None:
    problems = [p for table in SEED_TABLES for p in column_problems(migrated_schema, table)]
    assert problems == []


def test_migrations_build_seed_indexes_on_each_engine(migrated_schema: dict[str, Any]) -> None:
    assert index_problems(migrated_schema) == []


def test_migrations_store_uuids_natively_on_each_engine(migrated_schema: dict[str, Any]) -> None:
    expected = "uuid" if migrated_schema["vendor"] == "postgresql" else "char(32)"
    assert migrated_schema["tables"]["users"]["columns"]["id"]["sql_type"] == expected
    assert migrated_schema["tables"]["messages"]["columns"]["sender_id"]["sql_type"] == expected
