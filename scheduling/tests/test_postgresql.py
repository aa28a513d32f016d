"""What PostgreSQL itself guarantees: no overlapping scheduled appointments, even under a race.

These tests need PostgreSQL. When the suite runs on SQLite (the default),
`test_the_postgresql_tests_pass_on_postgresql` runs them in a subprocess
against a scratch PostgreSQL database, so both runs prove them; a missing
PostgreSQL skips that on a laptop and fails under CI (conftest.require_or_skip).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import WORKING_HOURS, require_or_skip
from providers.services import provider_create
from scheduling.exceptions import PatientDoubleBooked, SlotUnavailable
from scheduling.models import Appointment, AppointmentStatus
from scheduling.selectors import available_slots
from scheduling.services import appointment_create
from scheduling.tests.conftest import at, make_patients, next_weekday

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RACERS = 20


@pytest.fixture
def on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL; on SQLite the suite runs these in a subprocess against PostgreSQL"
        )


def _server() -> dict[str, object]:
    live = settings.DATABASES["default"]
    if live["ENGINE"] == "django.db.backends.postgresql":
        return {
            "host": live.get("HOST") or "127.0.0.1",
            "port": int(live.get("PORT") or 5432),
            "user": live.get("USER") or "postgres",
            "password": live.get("PASSWORD") or "",
        }
    return {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": ""}


def test_the_postgresql_tests_pass_on_postgresql() -> None:
    # On PostgreSQL the root conftest leaves this test out: the tests below run in this process.
    import psycopg

    server = _server()
    try:
        psycopg.connect(dbname="postgres", connect_timeout=5, **server).close()
        reachable = True
    except psycopg.OperationalError:
        reachable = False
    require_or_skip(reachable, "PostgreSQL")
    password = f":{server['password']}" if server["password"] else ""
    # A name of its own: pytest-django creates and drops test_<name>, and other runs may be going.
    url = f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/hc_sched_{uuid.uuid4().hex[:10]}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "postgres",
            __file__,
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_refuses_overlapping_appointments_of_a_provider(
    on_postgresql, provider, patient, other_patient
) -> None:
    day = next_weekday(3)
    appointment_create(
        patient=patient, provider=provider, date_time=at(day, 10), duration_minutes=60
    )

    # appointment_create does no overlap check of its own: this is the constraint speaking.
    with pytest.raises(SlotUnavailable):
        appointment_create(patient=other_patient, provider=provider, date_time=at(day, 10, 30))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            patient=other_patient, provider=provider, date_time=at(day, 10, 59)
        )

    # Touching is not overlapping, and cancelled or finished appointments hold no time.
    appointment_create(patient=other_patient, provider=provider, date_time=at(day, 11))
    appointment_create(
        patient=other_patient,
        provider=provider,
        date_time=at(day, 10),
        status=AppointmentStatus.CANCELLED,
    )
    appointment_create(
        patient=other_patient,
        provider=provider,
        date_time=at(day, 10, 15),
        status=AppointmentStatus.NO_SHOW,
    )
    assert (
        Appointment.objects.filter(provider=provider, status=AppointmentStatus.SCHEDULED).count()
        == 2
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_refuses_a_double_booked_patient(
    on_postgresql, provider, other_provider, patient
) -> None:
    day = next_weekday(3)
    appointment_create(patient=patient, provider=provider, date_time=at(day, 10))

    with pytest.raises(PatientDoubleBooked):
        appointment_create(patient=patient, provider=other_provider, date_time=at(day, 10, 15))


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_reopened_appointment_may_not_take_a_rebooked_slot(
    on_postgresql, provider, patient, other_patient
) -> None:
    day = next_weekday(3)
    first = appointment_create(
        patient=patient,
        provider=provider,
        date_time=at(day, 10),
        status=AppointmentStatus.CANCELLED,
    )
    appointment_create(patient=other_patient, provider=provider, date_time=at(day, 10))

    # Even a raw update cannot bring the cancelled one back over the new booking.
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=first.pk).update(status=AppointmentStatus.SCHEDULED)


def _race(clients: list[Client], url: str, data: dict[str, str]) -> list:
    """Every client posts at once (a barrier); each thread closes its own connection."""
    barrier = threading.Barrier(len(clients))

    def attempt(client: Client):
        try:
            barrier.wait(timeout=30)
            return client.post(url, data)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(attempt, clients))


def _patient_clients(patients) -> list[Client]:
    clients = []
    for patient in patients:
        client = Client()
        client.force_login(patient.user)
        clients.append(client)
    return clients


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_patients_racing_for_one_slot_get_one_appointment(on_postgresql, provider) -> None:
    patients = make_patients(RACERS)
    slot = available_slots(provider)[0]
    url = reverse("scheduling:patient-book-provider", kwargs={"provider_id": provider.pk})

    responses = _race(
        _patient_clients(patients), url, {"slot": slot.key, "type": "regular", "reason": "Race"}
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302] + [409] * (RACERS - 1)
    for response in responses:
        if response.status_code == 409:
            page = response.content.decode()
            assert "This slot was just taken" in page
            # A fresh list: the taken time is no longer offered, the next one is.
            assert f'value="{slot.key}"' not in page
            assert 'name="slot"' in page
    assert (
        Appointment.objects.filter(
            provider=provider, date_time=slot.starts_at, status=AppointmentStatus.SCHEDULED
        ).count()
        == 1
    )
    assert Appointment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_patient_racing_for_twenty_providers_at_one_time_gets_one_appointment(
    on_postgresql,
) -> None:
    patient = make_patients(1)[0]
    providers = [
        provider_create(
            email=f"racer{n}@example.org",
            full_name=f"Racer Doctor{n:02d}",
            working_hours=WORKING_HOURS,
        )
        for n in range(RACERS)
    ]
    slot = available_slots(providers[0])[0]
    clients = _patient_clients([patient] * RACERS)
    barrier = threading.Barrier(RACERS)

    def attempt(pair):
        client, provider = pair
        try:
            barrier.wait(timeout=30)
            url = reverse("scheduling:patient-book-provider", kwargs={"provider_id": provider.pk})
            return client.post(url, {"slot": slot.key, "type": "regular"})
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        responses = list(pool.map(attempt, zip(clients, providers, strict=True)))

    assert sorted(r.status_code for r in responses) == [302] + [409] * (RACERS - 1)
    assert all(
        "already have an appointment at that time" in r.content.decode()
        or "just taken" in r.content.decode()
        for r in responses
        if r.status_code == 409
    )
    assert (
        Appointment.objects.filter(patient=patient, status=AppointmentStatus.SCHEDULED).count() == 1
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_range_is_exact_whatever_the_session_time_zone(
    on_postgresql, provider, patient, other_patient
) -> None:
    day = next_weekday(3)
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Pacific/Auckland'")
    try:
        appointment_create(
            patient=patient, provider=provider, date_time=at(day, 10), duration_minutes=30
        )
        appointment_create(patient=other_patient, provider=provider, date_time=at(day, 10, 30))
        with pytest.raises(SlotUnavailable):
            appointment_create(
                patient=other_patient,
                provider=provider,
                date_time=at(day, 10, 29) + dt.timedelta(seconds=59),
            )
    finally:
        connection.close()
    assert timezone.now()  # the connection reopens cleanly


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deadlock_between_two_bookings_is_a_taken_slot_for_the_loser(on_postgresql) -> None:
    # Each transaction books with one provider, then with the other's: each waits for
    # the other's index entry, and PostgreSQL breaks the cycle with `deadlock detected`.
    w, x, y, z = make_patients(4)
    p = provider_create(email="p@example.org", full_name="Doctor P", working_hours=WORKING_HOURS)
    q = provider_create(email="q@example.org", full_name="Doctor Q", working_hours=WORKING_HOURS)
    when = at(next_weekday(3), 10)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def booking(name: str, first: tuple, second: tuple) -> None:
        try:
            with transaction.atomic():
                appointment_create(patient=first[0], provider=first[1], date_time=when)
                barrier.wait(timeout=30)
                appointment_create(patient=second[0], provider=second[1], date_time=when)
            outcomes[name] = "booked"
        except SlotUnavailable:
            outcomes[name] = "taken"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=booking, args=("one", (x, p), (z, q))),
        threading.Thread(target=booking, args=("two", (y, q), (w, p))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) == ["booked", "taken"]
    assert Appointment.objects.filter(status=AppointmentStatus.SCHEDULED).count() == 2
