"""Every portal page at clinic scale on PostgreSQL, side by side with the floor and the admin.

Builds (once) a PostgreSQL database with 200 providers, 20,000 patients,
500,000 appointments, 1,000,000 messages, 194,000 medical records, 97,000
prescriptions and 200,000 assistant interactions, loaded with COPY (the
tables' indexes and constraints are built after it and check every row, so
the data holds under each of them; 40 to 60 s on a shared 2-core machine),
then times each portal page in rounds, interleaved with

  * the floor: a trivial signed-in ``HttpResponse("ok")`` view behind the same
    middleware, by the same client (it exists only in this script's URLconf);
  * the admin changelist that lists the same rows.

and prints one table: page, queries with the small and the large subject (the
large one has ten times the data: records, prescriptions, messages), median
ms, SQL ms, render ms, and the ratios to the floor and to the admin.

    .venv/bin/python bench/bench_pages.py                 # load once, then measure
    .venv/bin/python bench/bench_pages.py --reset         # drop and reload the data
    DATABASE_URL=postgres://u:p@host:5432/hc_bench .venv/bin/python bench/bench_pages.py

DATABASE_URL must name a PostgreSQL database used only by benchmarks (it is
created, and with --reset dropped); the default is hc_bench on localhost.
DEBUG is forced off, as in production. Speed goals live here, not in the test
suite: this prints figures, it asserts nothing but status 200.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scheduling import (  # noqa: E402 - after the path set-up above
    APPOINTMENTS,
    DEFAULT_URL,
    PATIENTS,
    PROVIDERS,
    indexes_built_after,
    open_benchmark_database,
)
from bench_scheduling import _load as load_people_and_appointments  # noqa: E402

MESSAGES = 1_000_000
RECORDS = 194_000
PRESCRIPTIONS = 97_000
INTERACTIONS = 200_000
# The two subjects of provider 0's panel: "small" has a tenth of "large"'s data.
LARGE = {"records": 200, "prescriptions": 100, "messages": 2_000}
SMALL = {"records": 20, "prescriptions": 10, "messages": 200}
INTENTS = [
    "book_appointment",
    "cancel_appointment",
    "next_appointment",
    "refill_request",
    "symptom_question",
    "transfer_to_provider",
    "greeting",
    "unknown",
]
MEDICATIONS = ["Lisinopril", "Metformin", "Atorvastatin", "Amoxicillin", "Omeprazole", "Sertraline"]
DIAGNOSES = ["Hypertension", "Type 2 diabetes", "Upper respiratory infection", "Back strain"]


# --- Loading ----------------------------------------------------------------------


def _copy_model(cursor: Any, model: Any, rows: Iterator[dict[str, Any]], now: dt.datetime) -> int:
    """COPY dicts of column values into the model's table.

    Columns a row leaves out get the model field's default, so a column another
    part of the code adds later (with a default) does not break the loader.
    """
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    columns = [f.column for f in fields]
    fill: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fill[f.column] = now
        elif f.has_default() or not f.null:
            # Without a default, a NOT NULL text column gets "" (Django's own blank).
            fill[f.column] = f.get_db_prep_save(f.get_default(), connection)
        else:
            fill[f.column] = None
    count = 0
    with cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] if c in row else fill[c] for c in columns])
            count += 1
    return count


def _load_clinical(now: dt.datetime) -> None:
    """Records, prescriptions, messages and assistant interactions on top of the scheduling data."""
    from django.db import connection

    from assistant.models import AIInteraction
    from messaging.models import Message
    from prescriptions.models import Prescription
    from records.models import MedicalRecord

    rng = random.Random(2027)  # noqa: S311 - benchmark data
    started = time.perf_counter()
    with (
        connection.cursor() as django_cursor,
        indexes_built_after(
            django_cursor.cursor,
            [
                model._meta.db_table
                for model in (MedicalRecord, Prescription, Message, AIInteraction)
            ],
        ),
    ):
        cursor = django_cursor.cursor
        cursor.execute(
            "SELECT pp.provider_id, pp.patient_id, pa.user_id, pr.user_id, pr.license_number"
            " FROM provider_patients pp"
            " JOIN patient_profiles pa ON pa.id = pp.patient_id"
            " JOIN provider_profiles pr ON pr.id = pp.provider_id"
            " ORDER BY pr.license_number, pa.insurance_number"
        )
        links = cursor.fetchall()
        large, small = links[0], links[1]  # provider 0's first two patients
        today = now.date()
        others = links[2:]
        per_other_records = (RECORDS - LARGE["records"] - SMALL["records"]) / len(others)
        per_other_rx = (PRESCRIPTIONS - LARGE["prescriptions"] - SMALL["prescriptions"]) / len(
            others
        )
        per_other_msgs = (MESSAGES - LARGE["messages"] - SMALL["messages"]) / len(others)

        def spread(total: float, index: int) -> int:
            # Whole numbers per patient that add up to the total over all of them.
            return int((index + 1) * total) - int(index * total)

        def plan() -> Iterator[tuple[tuple, dict[str, int]]]:
            yield large, LARGE
            yield small, SMALL
            for n, link in enumerate(others):
                yield (
                    link,
                    {
                        "records": spread(per_other_records, n),
                        "prescriptions": spread(per_other_rx, n),
                        "messages": spread(per_other_msgs, n),
                    },
                )

        record_ids: dict[Any, list[uuid.UUID]] = {}

        def records() -> Iterator[dict[str, Any]]:
            for (provider_id, patient_id, *_rest), counts in plan():
                ids = record_ids.setdefault(patient_id, [])
                for k in range(counts["records"]):
                    pk = uuid.uuid4()
                    ids.append(pk)
                    yield {
                        "id": pk,
                        "patient_id": patient_id,
                        "provider_id": provider_id,
                        "record_date": today - dt.timedelta(days=3 * k + rng.randint(0, 2)),
                        "diagnosis": rng.choice(DIAGNOSES),
                        "symptoms": "Reported at the visit.",
                        "treatment": "Rest, fluids and review in two weeks.",
                        "notes": "",
                    }

        loaded = _copy_model(cursor, MedicalRecord, records(), now)
        print(f"  {loaded:,} medical records in {time.perf_counter() - started:.1f} s")

        def prescriptions() -> Iterator[dict[str, Any]]:
            for (provider_id, patient_id, *_rest), counts in plan():
                linked = record_ids.get(patient_id, [])
                for k in range(counts["prescriptions"]):
                    start = today - dt.timedelta(days=20 * k + rng.randint(0, 10))
                    current = k < 3
                    yield {
                        "id": uuid.uuid4(),
                        "patient_id": patient_id,
                        "provider_id": provider_id,
                        "medical_record_id": linked[k] if k < len(linked) else None,
                        "medication_name": rng.choice(MEDICATIONS),
                        "dosage": "10 mg",
                        "frequency": "once daily",
                        "duration": "90 days",
                        "start_date": start,
                        "end_date": start + dt.timedelta(days=90 if current else 14),
                        "refills": rng.randint(0, 3),
                        "status": "active" if current else "completed",
                        "notes": "",
                    }

        loaded = _copy_model(cursor, Prescription, prescriptions(), now)
        print(f"  {loaded:,} prescriptions in {time.perf_counter() - started:.1f} s")

        def messages() -> Iterator[dict[str, Any]]:
            for (_provider_id, _patient_id, patient_user, provider_user, _lic), counts in plan():
                n = counts["messages"]
                for k in range(n):
                    from_patient = k % 2 == 0
                    sent = now - dt.timedelta(minutes=37 * (n - k) + rng.randint(0, 30))
                    # The newest message of each conversation is still unread.
                    read = k < n - 1
                    yield {
                        "id": uuid.uuid4(),
                        "sender_id": patient_user if from_patient else provider_user,
                        "receiver_id": provider_user if from_patient else patient_user,
                        "content": "Thank you, see you at the next visit.",
                        "read": read,
                        "sent_at": sent,
                        "read_at": sent + dt.timedelta(minutes=5) if read else None,
                    }

        loaded = _copy_model(cursor, Message, messages(), now)
        print(f"  {loaded:,} messages in {time.perf_counter() - started:.1f} s")

        patient_users = [link[2] for link in links]

        def interactions() -> Iterator[dict[str, Any]]:
            for k in range(INTERACTIONS):
                intent = rng.choice(INTENTS)
                yield {
                    "id": uuid.uuid4(),
                    "user_id": patient_users[k % len(patient_users)],
                    "input_text": "I would like to see my doctor next week",
                    "response_text": "Here are the next free times.",
                    "detected_intent": intent,
                    "confidence_score": round(rng.random(), 3),
                    "resulted_in_appointment": intent == "book_appointment" and k % 3 == 0,
                    "resulted_in_provider_transfer": intent == "transfer_to_provider",
                    "interaction_timestamp": now - dt.timedelta(seconds=rng.randint(0, 60 * 86400)),
                }

        loaded = _copy_model(cursor, AIInteraction, interactions(), now)
        print(f"  {loaded:,} assistant interactions in {time.perf_counter() - started:.1f} s")
        copied = time.perf_counter()
    print(f"  indexes and constraints built in {time.perf_counter() - copied:.1f} s")

    from messaging.services import conversations_rebuild

    conversations_rebuild()
    print(f"  conversations rebuilt in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"Clinical data loaded in {time.perf_counter() - started:.1f} s")


# --- Measuring --------------------------------------------------------------------


@dataclass
class Timing:
    """Per-request figures, collected by wrapping the database cursor and the template engine."""

    sql: float = 0.0
    render: float = 0.0
    sql_in_render: float = 0.0
    queries: int = 0
    rendering: bool = False

    def reset(self) -> None:
        self.sql = self.render = self.sql_in_render = 0.0
        self.queries = 0


TIMING = Timing()


def _sql_timer(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        spent = time.perf_counter() - started
        TIMING.sql += spent
        TIMING.queries += 1
        if TIMING.rendering:
            TIMING.sql_in_render += spent


def _instrument_templates() -> None:
    from django.template.backends.django import Template

    original = Template.render

    def render(self: Any, context: Any = None, request: Any = None) -> Any:
        if TIMING.rendering:  # a template rendered inside another: counted by the outer one
            return original(self, context, request)
        TIMING.rendering = True
        started = time.perf_counter()
        try:
            return original(self, context, request)
        finally:
            TIMING.render += time.perf_counter() - started
            TIMING.rendering = False

    Template.render = render  # type: ignore[method-assign]


def _install_floor_urlconf() -> None:
    """The project's URLs plus the floor view, in a URLconf that exists only in this process."""
    from django.conf import settings
    from django.contrib.auth.decorators import login_required
    from django.http import HttpRequest, HttpResponse
    from django.urls import clear_url_caches, include, path

    @login_required
    def floor(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    module = types.ModuleType("bench_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("bench/floor/", floor, name="bench-floor"),
        path("", include(settings.ROOT_URLCONF)),
    ]
    sys.modules["bench_urls"] = module
    settings.ROOT_URLCONF = "bench_urls"
    clear_url_caches()


@dataclass
class Page:
    name: str
    client: Any
    url: str
    small_url: str
    admin_url: str | None
    samples: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    render: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    admin: list[float] = field(default_factory=list)
    queries: tuple[int, int] = (0, 0)


def _signed_in(user: Any, *, verified: bool) -> Any:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if verified:
        device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
            user=user, name="bench", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def _get(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url, secure=True)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def _pages() -> tuple[list[Page], Any]:
    from django.urls import reverse

    from accounts.models import Role, User
    from providers.models import ProviderPatient, ProviderProfile

    provider = ProviderProfile.objects.select_related("user").get(license_number="LIC-00000")
    light_provider = ProviderProfile.objects.select_related("user").get(license_number="LIC-00001")
    panel = list(
        ProviderPatient.objects.filter(provider=provider)
        .select_related("patient__user")
        .order_by("patient__insurance_number")[:2]
    )
    large, small = panel[0].patient, panel[1].patient
    staff = User.objects.filter(email="staff@bench.example.org").first()
    if staff is None:
        staff = User.objects.create_superuser(
            email="staff@bench.example.org", password=None, full_name="Bench Staff"
        )
    patient_client = _signed_in(large.user, verified=False)
    small_client = _signed_in(small.user, verified=False)
    provider_client = _signed_in(provider.user, verified=True)
    light_client = _signed_in(light_provider.user, verified=True)
    staff_client = _signed_in(staff, verified=True)
    assert staff.role == Role.PROVIDER or staff.is_staff

    def admin(model: str, **filters: Any) -> str:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return f"{reverse(f'admin:{model}_changelist')}?{query}"

    chart = reverse("providers:patient-chart", args=[large.pk])
    small_chart = reverse("providers:patient-chart", args=[small.pk])
    # (name, client, url, url for the small subject, admin url, small subject's client)
    spec = [
        (
            "patient dashboard",
            patient_client,
            reverse("patients:dashboard"),
            None,
            admin("scheduling_appointment", patient__id__exact=large.pk),
        ),
        (
            "appointments list",
            patient_client,
            reverse("scheduling:patient-appointments"),
            None,
            admin("scheduling_appointment", patient__id__exact=large.pk),
        ),
        (
            "booking / slot page",
            patient_client,
            reverse("scheduling:patient-book-provider", args=[provider.pk]),
            None,
            admin("scheduling_appointment", provider__id__exact=provider.pk),
        ),
        (
            "records list",
            patient_client,
            reverse("records:patient-record-list"),
            None,
            admin("records_medicalrecord", patient__id__exact=large.pk),
        ),
        (
            "prescriptions list",
            patient_client,
            reverse("prescriptions:patient-prescription-list"),
            None,
            admin("prescriptions_prescription", patient__id__exact=large.pk),
        ),
        (
            "patient inbox",
            patient_client,
            reverse("messaging:inbox"),
            None,
            admin("messaging_message", receiver__id__exact=large.user.pk),
        ),
        (
            "conversation (patient)",
            patient_client,
            reverse("messaging:conversation", args=[provider.user.pk]),
            None,
            admin("messaging_message", sender__id__exact=large.user.pk),
        ),
        (
            "assistant page",
            patient_client,
            reverse("assistant:chat"),
            None,
            admin("assistant_aiinteraction", user__id__exact=large.user.pk),
        ),
        (
            "provider dashboard",
            provider_client,
            reverse("providers:dashboard"),
            None,
            admin("scheduling_appointment", provider__id__exact=provider.pk),
        ),
        (
            "week calendar",
            provider_client,
            reverse("scheduling:provider-calendar"),
            None,
            admin("scheduling_appointment", provider__id__exact=provider.pk),
        ),
        (
            "patient list",
            provider_client,
            reverse("providers:patient-list"),
            None,
            admin("providers_providerpatient", provider__id__exact=provider.pk),
        ),
        (
            "patient chart",
            provider_client,
            chart,
            small_chart,
            admin("records_medicalrecord", patient__id__exact=large.pk),
        ),
        (
            "conversation (provider)",
            provider_client,
            reverse("messaging:conversation", args=[large.user.pk]),
            reverse("messaging:conversation", args=[small.user.pk]),
            admin("messaging_message", receiver__id__exact=large.user.pk),
        ),
        (
            "provider inbox",
            provider_client,
            reverse("messaging:inbox"),
            None,
            admin("messaging_message", receiver__id__exact=provider.user.pk),
        ),
        (
            "refill requests",
            provider_client,
            reverse("prescriptions:provider-refill-list"),
            None,
            admin("prescriptions_refillrequest", status__exact="pending"),
        ),
        (
            "analytics (provider)",
            provider_client,
            reverse("assistant:analytics"),
            None,
            admin("assistant_aiinteraction"),
        ),
        (
            "analytics (staff)",
            staff_client,
            reverse("assistant:analytics"),
            None,
            admin("assistant_aiinteraction"),
        ),
    ]
    pages = []
    for name, client, url, small_url, admin_url in spec:
        page = Page(name, client, url, small_url or url, admin_url)
        # The small subject: the other patient, or the provider with fewer messages.
        page.small_client = (  # type: ignore[attr-defined]
            small_client
            if client is patient_client
            else light_client
            if client is provider_client and small_url is None
            else client
        )
        pages.append(page)
    return pages, staff_client


def _queries(client: Any, url: str) -> int:
    TIMING.reset()
    _get(client, url)
    return TIMING.queries


def _measure(rounds: int) -> list[Page]:
    from django.db import connection

    with connection.execute_wrapper(_sql_timer):
        return _measure_timed(rounds)


def _measure_timed(rounds: int) -> list[Page]:
    from django.urls import reverse

    pages, staff_client = _pages()
    floor_url = reverse("bench-floor")
    for page in pages:  # warm up: templates compiled, content types cached, plans made
        for _ in range(3):
            _get(page.client, page.url)
            _get(page.client, floor_url)
            if page.admin_url:
                _get(staff_client, page.admin_url)
        page.queries = (
            _queries(page.small_client, page.small_url),  # type: ignore[attr-defined]
            _queries(page.client, page.url),
        )
    for _round in range(rounds):
        for page in pages:
            # Floor, page and admin one after the other, so a busy moment hits all three.
            TIMING.reset()
            page.floor.append(_get(page.client, floor_url))
            TIMING.reset()
            page.samples.append(_get(page.client, page.url))
            page.sql.append(TIMING.sql * 1000)
            page.render.append((TIMING.render - TIMING.sql_in_render) * 1000)
            if page.admin_url:
                page.admin.append(_get(staff_client, page.admin_url))
    return pages


def _print_table(pages: list[Page], rounds: int) -> None:
    header = (
        "| page | queries 1x | queries 10x | median ms | SQL ms | render ms | / trivial | / admin |"
    )
    print(f"\n{rounds} interleaved rounds; medians. Trivial view median per page's client.\n")
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for page in pages:
        median = statistics.median(page.samples)
        floor = statistics.median(page.floor)
        admin = f"{median / statistics.median(page.admin):.2f}" if page.admin else "—"
        print(
            f"| {page.name} | {page.queries[0]} | {page.queries[1]} | {median:.1f} "
            f"| {statistics.median(page.sql):.1f} | {statistics.median(page.render):.1f} "
            f"| {median / floor:.2f} | {admin} |"
        )
    floors = [statistics.median(p.floor) for p in pages]
    print(f"\nTrivial signed-in view: median {statistics.median(floors):.1f} ms")


def _slot_search(samples: int) -> None:
    from providers.models import ProviderPatient, ProviderProfile
    from scheduling.selectors import available_slots

    rng = random.Random(7)  # noqa: S311 - benchmark sampling
    providers = list(ProviderProfile.objects.order_by("pk"))
    chosen = [rng.choice(providers) for _ in range(samples)]
    patients = {
        link.provider_id: link.patient
        for link in ProviderPatient.objects.filter(provider__in={p.pk for p in chosen})
        .select_related("patient__user")
        .order_by("patient__insurance_number")
    }
    for provider in chosen[:5]:
        available_slots(provider, patient=patients[provider.pk])
    durations = []
    for provider in chosen:
        started = time.perf_counter()
        available_slots(provider, patient=patients[provider.pk])
        durations.append((time.perf_counter() - started) * 1000)
    print(
        f"Slot search (selector, one provider, 28 days): median "
        f"{statistics.median(durations):.1f} ms over {samples} providers"
    )


def _counts() -> str:
    from django.db import connection

    tables = [
        "provider_profiles",
        "patient_profiles",
        "appointments",
        "messages",
        "medical_records",
        "prescriptions",
        "ai_interactions",
    ]
    with connection.cursor() as cursor:
        found = []
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            found.append(f"{cursor.fetchone()[0]:,} {table}")
    return ", ".join(found)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reset", action="store_true", help="drop the database and load again")
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds (default 40)")
    args = parser.parse_args()

    open_benchmark_database(parser, default_url=DEFAULT_URL, reset=args.reset)
    from django.conf import settings

    settings.DEBUG = False
    from django.core.management import call_command
    from django.utils import timezone

    from messaging.models import Message
    from scheduling.models import Appointment

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if Appointment.objects.count() < APPOINTMENTS:
        if Appointment.objects.exists():
            parser.error("the benchmark database holds partial data; run again with --reset")
        print(
            f"Loading {PROVIDERS} providers, {PATIENTS:,} patients, {APPOINTMENTS:,} appointments"
        )
        load_people_and_appointments(timezone.now())
    if not Message.objects.exists():
        _load_clinical(timezone.now())
    print(f"Data ready in {time.perf_counter() - started:.0f} s: {_counts()}")
    # What the hourly scheduled task keeps done in production: closed days counted once.
    from assistant.services import interactions_roll_up

    interactions_roll_up()

    # The test client's host. Not setup_test_environment(): it instruments every
    # template render with a signal, which is not what production runs.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    _install_floor_urlconf()
    _instrument_templates()
    _slot_search(200)
    pages = _measure(args.rounds)
    _print_table(pages, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
