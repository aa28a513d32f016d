"""Scheduling at a realistic volume on PostgreSQL: how fast are slot search and the calendar?

Creates (or reuses) a separate PostgreSQL database, migrates it, loads 200
providers, 20,000 patients and 500,000 appointments with COPY, then times:

  * slot search: the selector that builds a provider's free slots for the
    28-day horizon (one query for appointments, one for time off), and the
    patient's booking page that shows them (HTTP, through the whole stack);
  * the provider's calendar page, week view (HTTP).

It prints the median and 95th percentile of each, and the queries per page.

    .venv/bin/python bench/bench_scheduling.py                # load once, then measure
    .venv/bin/python bench/bench_scheduling.py --reset        # drop and reload the data
    DATABASE_URL=postgres://u:p@host:5432/hc_bench .venv/bin/python bench/bench_scheduling.py

DATABASE_URL names a PostgreSQL database used only by benchmarks (default:
hc_bench on localhost). DEBUG is forced off, as in production.

Speed goals live here, not in the test suite: this prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hc_bench"
PROVIDERS = 200
PATIENTS = 20_000
APPOINTMENTS = 500_000
PAST_DAYS = 420
FUTURE_DAYS = 42
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
]
SPECIALIZATIONS = [
    ("Family Medicine", "Primary Care"),
    ("Cardiology", "Heart Center"),
    ("Dermatology", "Dermatology"),
    ("Pediatrics", "Children's Health"),
    ("Pulmonology", "Respiratory"),
    ("Orthopedics", "Musculoskeletal"),
]
REASONS = ["Check-up", "Follow-up visit", "Medication review", "Lab results", "Back pain", "Cough"]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _ensure_database(url: str, *, reset: bool) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}")


def _column_defaults(table: str, given: list[str]) -> dict[str, Any]:
    """The table's other columns with their model defaults, so a column added later loads too."""
    from django.apps import apps
    from django.db import connection
    from django.utils import timezone

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    defaults: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.column in given:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.column] = timezone.now()
        elif f.has_default() or not f.null:
            # Without a default, a NOT NULL text column gets "" (Django's own blank).
            defaults[f.column] = f.get_db_prep_save(f.get_default(), connection)
        else:
            defaults[f.column] = None
    return defaults


def _copy(cursor: Any, table: str, columns: list[str], rows: Iterator[tuple]) -> int:
    extra = _column_defaults(table, columns)
    names = [*columns, *extra]
    tail = tuple(extra.values())
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, *tail))
            count += 1
    return count


@contextmanager
def indexes_built_after(cursor: Any, tables: Sequence[str]) -> Iterator[None]:
    """Bulk-load `tables` in one transaction with their indexes and keys built after the COPY.

    Row by row, COPY grows every index of the table and queues one lookup per
    foreign key; built once over the loaded rows, an index is one sort and a
    foreign key one join. So the tables' indexes, primary keys, unique,
    exclusion and foreign-key constraints (and the foreign keys of other tables
    that point at them) are dropped here and re-created on the way out, each
    from its own definition read from pg_catalog (`pg_get_indexdef`,
    `pg_get_constraintdef`) just before the drop: nothing is spelled out here,
    so a constraint a migration adds later is kept too, and the schema ends
    identical to the migrated one. Re-creating a constraint checks every row
    (ADD CONSTRAINT fails the load on a duplicate, an overlap or a dangling
    key), so the loaded data holds under every constraint exactly as if it had
    been inserted with them in place. CHECK and NOT NULL stay on during the
    COPY: they are checked on each row at no extra cost. All of it is one
    transaction, so a failed load leaves the schema (and the tables) as they were.
    """
    from django.db import transaction

    with transaction.atomic():
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), contype, pg_get_constraintdef(oid)"
            " FROM pg_constraint"
            " WHERE contype IN ('p', 'u', 'x', 'f')"
            "   AND (conrelid = ANY(%(t)s::regclass[])"
            "        OR (contype = 'f' AND confrelid = ANY(%(t)s::regclass[])))"
            # Foreign keys first: they depend on the unique indexes they reference.
            " ORDER BY contype <> 'f', conrelid::regclass::text, conname",
            {"t": list(tables)},
        )
        constraints = cursor.fetchall()
        # Indexes of their own, not the ones that back a constraint (dropped with it).
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i"
            " WHERE indrelid = ANY(%(t)s::regclass[]) AND NOT EXISTS ("
            "   SELECT 1 FROM pg_constraint c"
            "   WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid"
            "     AND c.contype IN ('p', 'u', 'x'))",
            {"t": list(tables)},
        )
        indexes = cursor.fetchall()
        for table, name, _kind, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        yield
        for _name, definition in indexes:
            cursor.execute(definition)
        # Keys and exclusions, then the foreign keys that need them.
        for table, name, _kind, definition in reversed(constraints):
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def _working_hours(n: int) -> dict[str, Any]:
    return {
        "timezone": ZONES[n % len(ZONES)],
        "slot_minutes": 30,
        "weekly": {
            day: [["09:00", "12:00"], ["13:00", "17:00"]]
            for day in ("mon", "tue", "wed", "thu", "fri")
        },
    }


def _slots_between(hours: Any, first: dt.date, last: dt.date) -> list[dt.datetime]:
    found = []
    day = first
    while day <= last:
        found += [start.astimezone(dt.UTC) for start, _end in hours.slots_on(day)]
        day += dt.timedelta(days=1)
    return found


def _load(now: dt.datetime) -> None:
    from django.db import connection

    from patients.crypto import encrypt
    from providers.working_hours import parse_working_hours

    rng = random.Random(2026)  # noqa: S311 - benchmark data
    started = time.perf_counter()
    unusable = "!bench-no-password"
    empty_ssn = encrypt("")  # one valid token for "no SSN given"
    provider_users = [uuid.uuid4() for _ in range(PROVIDERS)]
    provider_ids = [uuid.uuid4() for _ in range(PROVIDERS)]
    patient_users = [uuid.uuid4() for _ in range(PATIENTS)]
    patient_ids = [uuid.uuid4() for _ in range(PATIENTS)]
    user_columns = [
        "id",
        "created_at",
        "updated_at",
        "email",
        "password_hash",
        "phone_number",
        "full_name",
        "role",
        "is_active",
        "is_staff",
        "is_superuser",
        "session_epoch",
        "email_verified_at",
    ]

    def users() -> Iterator[tuple]:
        for n, pk in enumerate(provider_users):
            yield (
                pk,
                now,
                now,
                f"dr{n}@bench.example.org",
                unusable,
                "",
                f"Doctor Bench{n:03d}",
                "provider",
                True,
                False,
                False,
                0,
                now,
            )
        for n, pk in enumerate(patient_users):
            yield (
                pk,
                now,
                now,
                f"patient{n}@bench.example.org",
                unusable,
                "",
                f"Patient Bench{n:05d}",
                "patient",
                True,
                False,
                False,
                0,
                now,
            )

    per_provider = PATIENTS // PROVIDERS
    appointments_each = APPOINTMENTS // PROVIDERS
    today = now.date()
    loaded_tables = [
        "users",
        "provider_profiles",
        "patient_profiles",
        "provider_patients",
        "appointments",
        "provider_time_off",
    ]
    with (
        connection.cursor() as django_cursor,
        indexes_built_after(django_cursor.cursor, loaded_tables),
    ):
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        _copy(cursor, "users", user_columns, users())
        _copy(
            cursor,
            "provider_profiles",
            [
                "id",
                "created_at",
                "updated_at",
                "user_id",
                "credentials",
                "specialization",
                "license_number",
                "department",
                "office_location",
                "working_hours",
            ],
            (
                (
                    pk,
                    now,
                    now,
                    provider_users[n],
                    "MD",
                    SPECIALIZATIONS[n % 6][0],
                    f"LIC-{n:05d}",
                    SPECIALIZATIONS[n % 6][1],
                    f"Building {n % 9}, Room {100 + n}",
                    json.dumps(_working_hours(n)),
                )
                for n, pk in enumerate(provider_ids)
            ),
        )
        _copy(
            cursor,
            "patient_profiles",
            [
                "id",
                "created_at",
                "updated_at",
                "user_id",
                "insurance_number",
                "ssn",
                "ssn_hash",
                "date_of_birth",
                "address",
                "emergency_contact",
                "emergency_contact_phone",
            ],
            (
                (
                    pk,
                    now,
                    now,
                    patient_users[n],
                    f"INS-{n:06d}",
                    empty_ssn,
                    "",
                    dt.date(1940, 1, 1) + dt.timedelta(days=(n * 7) % 25_000),
                    f"{n} Bench Street",
                    "",
                    "",
                )
                for n, pk in enumerate(patient_ids)
            ),
        )
        # Each provider has a panel of 100 patients of their own, so no patient is
        # booked with two providers at once (the database would refuse it).
        _copy(
            cursor,
            "provider_patients",
            [
                "id",
                "created_at",
                "updated_at",
                "relationship_start_date",
                "status",
                "patient_id",
                "provider_id",
            ],
            (
                (
                    uuid.uuid4(),
                    now,
                    now,
                    today - dt.timedelta(days=500),
                    "active",
                    pk,
                    provider_ids[n // per_provider],
                )
                for n, pk in enumerate(patient_ids)
            ),
        )
        print(f"  people loaded in {time.perf_counter() - started:.1f} s")

        def appointments() -> Iterator[tuple]:
            for n, provider in enumerate(provider_ids):
                hours = parse_working_hours(_working_hours(n))
                slots = _slots_between(
                    hours,
                    today - dt.timedelta(days=PAST_DAYS),
                    today + dt.timedelta(days=FUTURE_DAYS),
                )
                panel = patient_ids[n * per_provider : (n + 1) * per_provider]
                for start in sorted(rng.sample(slots, appointments_each)):
                    if start < now:
                        status = rng.choices(["completed", "cancelled", "no-show"], [85, 8, 7])[0]
                    else:
                        status = rng.choices(["scheduled", "cancelled"], [90, 10])[0]
                    yield (
                        uuid.uuid4(),
                        now,
                        now,
                        start,
                        30,
                        status,
                        rng.choices(["regular", "follow-up", "emergency"], [70, 28, 2])[0],
                        rng.choice(REASONS),
                        "",
                        rng.choice(panel),
                        provider,
                        "Patient called" if status == "cancelled" else "",
                        now if status == "cancelled" else None,
                        None,
                        None,
                    )

        loaded = _copy(
            cursor,
            "appointments",
            [
                "id",
                "created_at",
                "updated_at",
                "date_time",
                "duration_minutes",
                "status",
                "type",
                "reason",
                "notes",
                "patient_id",
                "provider_id",
                "cancellation_reason",
                "cancelled_at",
                "reminder_sent_at",
                "rescheduled_from_id",
            ],
            appointments(),
        )
        print(f"  {loaded:,} appointments loaded in {time.perf_counter() - started:.1f} s")

        def time_off() -> Iterator[tuple]:
            for provider in provider_ids:
                for _ in range(10):
                    start = dt.datetime.combine(
                        today + dt.timedelta(days=rng.randint(-300, FUTURE_DAYS)),
                        dt.time(13),
                        tzinfo=dt.UTC,
                    )
                    yield (
                        uuid.uuid4(),
                        now,
                        now,
                        start,
                        start + dt.timedelta(hours=rng.choice([2, 4, 24])),
                        rng.choice(["Meeting", "Holiday", "Training"]),
                        provider,
                    )

        _copy(
            cursor,
            "provider_time_off",
            ["id", "created_at", "updated_at", "starts_at", "ends_at", "reason", "provider_id"],
            time_off(),
        )
        copied = time.perf_counter()
    print(f"  indexes and constraints built in {time.perf_counter() - copied:.1f} s")
    with connection.cursor() as django_cursor:
        # After the indexes: ANALYZE also gathers statistics on their expressions.
        django_cursor.execute("ANALYZE")
    print(f"Loaded in {time.perf_counter() - started:.1f} s")


def _timed(label: str, samples: list[Any], run: Callable[[Any], Any]) -> dict[str, float]:
    for sample in samples[:5]:  # warm caches (templates, content types, connections)
        run(sample)
    durations = []
    for sample in samples:
        started = time.perf_counter()
        run(sample)
        durations.append((time.perf_counter() - started) * 1000)
    result = {
        "median": statistics.median(durations),
        "p95": _percentile(durations, 0.95),
        "max": max(durations),
    }
    print(
        f"{label:<44} median {result['median']:7.1f} ms   p95 {result['p95']:7.1f} ms   (n={len(samples)})"
    )
    return result


def _measure(samples: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from patients.models import PatientProfile
    from providers.models import ProviderPatient, ProviderProfile
    from scheduling.models import Appointment
    from scheduling.selectors import available_slots

    # The test client's host. Not setup_test_environment(): it instruments every
    # template render with a signal, which production does not run.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rng = random.Random(7)  # noqa: S311 - benchmark sampling
    providers = list(ProviderProfile.objects.select_related("user").order_by("pk"))
    chosen = [rng.choice(providers) for _ in range(samples)]
    print(
        f"\nData: {ProviderProfile.objects.count():,} providers, {PatientProfile.objects.count():,} patients, "
        f"{Appointment.objects.count():,} appointments "
        f"({Appointment.objects.filter(status='scheduled').count():,} scheduled)\n"
    )

    # Each provider's own patient books, so their existing appointments count too.
    patients = {
        link.provider_id: link.patient
        for link in ProviderPatient.objects.filter(
            provider__in={p.pk for p in chosen}
        ).select_related("patient__user")
    }
    slot_counts: list[int] = []

    def slot_search(provider: ProviderProfile) -> None:
        slot_counts.append(len(available_slots(provider, patient=patients[provider.pk])))

    slot_stats = _timed("Slot search (selector, 28 days)", chosen, slot_search)

    patient_clients: dict[Any, Client] = {}
    for provider in set(chosen):
        client = Client()
        client.force_login(patients[provider.pk].user)
        patient_clients[provider.pk] = client

    def slot_page(provider: ProviderProfile) -> None:
        response = patient_clients[provider.pk].get(
            reverse("scheduling:patient-book-provider", kwargs={"provider_id": provider.pk}),
            secure=True,
        )
        assert response.status_code == 200, response.status_code

    page_stats = _timed("Slot page, patient (HTTP)", chosen, slot_page)

    provider_clients: dict[Any, Client] = {}
    for provider in set(chosen):
        client = Client()
        client.force_login(provider.user)
        device = TOTPDevice.objects.filter(user=provider.user).first() or TOTPDevice.objects.create(
            user=provider.user, name="bench", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        provider_clients[provider.pk] = client

    def calendar_page(provider: ProviderProfile) -> None:
        response = provider_clients[provider.pk].get(
            reverse("scheduling:provider-calendar"), secure=True
        )
        assert response.status_code == 200, response.status_code

    calendar_stats = _timed("Calendar page, provider week (HTTP)", chosen, calendar_page)

    def calendar_day(provider: ProviderProfile) -> None:
        response = provider_clients[provider.pk].get(
            reverse("scheduling:provider-calendar"), {"view": "day"}, secure=True
        )
        assert response.status_code == 200, response.status_code

    _timed("Calendar page, provider day (HTTP)", chosen, calendar_day)

    sample = chosen[0]
    with CaptureQueriesContext(connection) as slot_queries:
        slot_page(sample)
    with CaptureQueriesContext(connection) as calendar_queries:
        calendar_page(sample)
    print(
        f"\nQueries: slot page {len(slot_queries)}, calendar page {len(calendar_queries)}; "
        f"free slots per provider: median {statistics.median(slot_counts):.0f}"
    )
    print(
        "\nSUMMARY "
        + json.dumps(
            {
                "slot_search_ms": {k: round(v, 1) for k, v in slot_stats.items()},
                "slot_page_ms": {k: round(v, 1) for k, v in page_stats.items()},
                "calendar_page_ms": {k: round(v, 1) for k, v in calendar_stats.items()},
            }
        )
    )


def open_benchmark_database(
    parser: argparse.ArgumentParser, *, default_url: str, reset: bool
) -> str:
    """The benchmark's PostgreSQL database (DATABASE_URL, else `default_url`), created or
    reloaded, and Django started on it with production settings. Shared by every bench script."""
    url = os.environ.get("DATABASE_URL") or default_url
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("the benchmark runs on PostgreSQL: DATABASE_URL must be a postgres:// URL")
    _ensure_database(url, reset=reset)
    os.environ["DATABASE_URL"] = url
    # Production settings: the dev .env turns DEBUG on, which records every query.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthcare.settings")
    import logging

    import django

    django.setup()
    # Every sign-in of the benchmark's clients would print a line.
    logging.getLogger("axes").setLevel(logging.WARNING)
    return url


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reset", action="store_true", help="drop the benchmark database and load it again"
    )
    parser.add_argument(
        "--samples", type=int, default=200, help="requests timed per figure (default 200)"
    )
    args = parser.parse_args()

    open_benchmark_database(parser, default_url=DEFAULT_URL, reset=args.reset)
    from django.core.management import call_command
    from django.utils import timezone

    from scheduling.models import Appointment

    call_command("migrate", verbosity=0)
    if Appointment.objects.count() < APPOINTMENTS:
        if Appointment.objects.exists():
            parser.error("the benchmark database holds partial data; run again with --reset")
        print(
            f"Loading {PROVIDERS} providers, {PATIENTS:,} patients, {APPOINTMENTS:,} appointments …"
        )
        _load(timezone.now())
    _measure(args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
