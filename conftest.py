"""Shared personas and test settings for every app's tests."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from patients.models import PatientProfile
from patients.services import patient_create
from providers.models import ProviderProfile
from providers.services import provider_create, relationship_activate

PASSWORD = "Quiet-harbor-lantern-42"

WORKING_HOURS = {
    "timezone": "America/New_York",
    "slot_minutes": 30,
    "weekly": {day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_or_skip(available: bool, what: str) -> None:
    """Skip with the reason on a laptop that lacks `what`; under CI a missing piece is a failure."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{what} is required under CI but is not available")
    pytest.skip(f"{what} is not available on this machine")


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_inline():
    """Tasks run inside the call that queues them (django-q2's "sync"), so tests see the
    email in Django's locmem outbox. django-q2 reads Q_CLUSTER once at import, hence the
    patch of its Conf rather than a settings override. Tests of the real worker start
    `manage.py qcluster` in a process of its own, which this does not touch."""
    from django_q.conf import Conf

    previous, Conf.SYNC = Conf.SYNC, True
    yield
    Conf.SYNC = previous


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    # A file, not SQLite's shared in-memory database: the in-process browser
    # server and its websockets write concurrently, which an in-memory database
    # answers with "table is locked" instead of waiting.
    import tempfile
    from pathlib import Path

    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(
            Path(tempfile.gettempdir()) / f"healthcare-test-{os.getpid()}.sqlite3"
        )


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate-limit counters live in the cache; each test starts with none, as a new window would.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests that check the hasher set it back themselves.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def provider(db) -> ProviderProfile:
    return provider_create(
        email="dr.patel@example.org",
        full_name="Anika Patel",
        password=PASSWORD,
        credentials="MD",
        specialization="Family Medicine",
        department="Primary Care",
        office_location="Building A, Room 101",
        license_number="MD-1001",
        working_hours=WORKING_HOURS,
    )


@pytest.fixture
def other_provider(db) -> ProviderProfile:
    return provider_create(
        email="dr.other@example.org",
        full_name="Omar Other",
        password=PASSWORD,
        credentials="DO",
        specialization="Dermatology",
        department="Dermatology",
        working_hours=WORKING_HOURS,
    )


@pytest.fixture
def patient(db, provider) -> PatientProfile:
    profile = patient_create(
        email="pat.jones@example.org",
        full_name="Pat Jones",
        password=PASSWORD,
        date_of_birth=dt.date(1980, 5, 17),
        phone_number="555-0100",
        address="12 Elm Street, Springfield",
        emergency_contact="Sam Jones",
        emergency_contact_phone="555-0101",
        insurance_number="INS-778899",
        ssn="123-45-6789",
        email_verified=True,
    )
    relationship_activate(provider=provider, patient=profile)
    return profile


@pytest.fixture
def other_patient(db, other_provider) -> PatientProfile:
    profile = patient_create(
        email="riley.other@example.org",
        full_name="Riley Other",
        password=PASSWORD,
        date_of_birth=dt.date(1992, 2, 3),
        ssn="234-56-7890",
        email_verified=True,
    )
    relationship_activate(provider=other_provider, patient=profile)
    return profile


@pytest.fixture
def admin_user(db):
    from accounts.models import User

    return User.objects.create_superuser(email="admin@example.org", password=PASSWORD, full_name="Ada Admin")


def login_verified(client, user):
    """Sign `user` in on `client` with a confirmed second factor, as the real sign-in would.

    Providers and staff are refused by the portal and the admin without one.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test authenticator", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def patient_client(patient):
    from django.test import Client

    client = Client()
    client.force_login(patient.user)
    return client


@pytest.fixture
def other_patient_client(other_patient):
    from django.test import Client

    client = Client()
    client.force_login(other_patient.user)
    return client


@pytest.fixture
def provider_client(provider):
    from django.test import Client

    return login_verified(Client(), provider.user)


@pytest.fixture
def other_provider_client(other_provider):
    from django.test import Client

    return login_verified(Client(), other_provider.user)


@pytest.fixture
def staff_client(admin_user):
    from django.test import Client

    return login_verified(Client(), admin_user)


def pytest_collection_modifyitems(config, items) -> None:
    """Browser tests last; and no subprocess re-run of the PostgreSQL tests on PostgreSQL.

    Playwright's synchronous API keeps its event loop marked as running in this
    thread until the session ends, and Django then refuses plain ORM calls: tests
    after the first browser test would fail for that alone. On PostgreSQL the
    PostgreSQL tests run in this process, so their re-run in a subprocess is left out.
    """
    from django.conf import settings

    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return
    rerun = [item for item in items if item.name == "test_the_postgresql_tests_pass_on_postgresql"]
    if rerun:
        config.hook.pytest_deselected(items=rerun)
        items[:] = [item for item in items if item not in rerun]


@pytest.fixture(scope="session", autouse=True)
def _no_connection_outlives_the_session(django_db_setup, django_db_blocker):
    """Close every other connection to the test database before it is dropped.

    A thread of the in-process servers (a refused websocket, a request cut off at
    the end of a browser test) may still hold a PostgreSQL connection when the
    session ends; PostgreSQL then refuses to drop the database and it is left behind.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
