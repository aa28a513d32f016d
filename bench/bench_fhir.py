"""Patient/$everything through the FHIR API, on PostgreSQL, for a patient with a long record.

Builds (once) a database with one patient who has 200 visit records (each a
Condition), 100 prescriptions, 100 appointments and 2,000 messages with their
provider, beside 200 other patients with a little data each, then walks the
patient's $everything page by page (as an app follows the `next` links) with a
real access token, in rounds, and prints the median time of one page and of
the whole walk, with the queries per page.

    .venv/bin/python bench/bench_fhir.py
    .venv/bin/python bench/bench_fhir.py --reset --rounds 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hc_fhirbench .venv/bin/python bench/bench_fhir.py

DATABASE_URL must name a PostgreSQL database used only by this benchmark (it is
created, and with --reset dropped); the default is hc_fhirbench on localhost.
DEBUG is forced off, as in production. It prints figures and asserts nothing
but status 200 and a complete walk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scheduling import open_benchmark_database  # noqa: E402 - after the path set-up above

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hc_fhirbench"
RECORDS, PRESCRIPTIONS, APPOINTMENTS, MESSAGES = 200, 100, 100, 2_000
OTHER_PATIENTS = 200
SUBJECT_EMAIL = "fhir.subject@bench.example"


def _load() -> None:
    from django.utils import timezone

    from messaging.models import Message
    from patients.services import patient_create
    from prescriptions.models import Prescription
    from providers.services import provider_create, relationship_activate
    from records.models import MedicalRecord
    from scheduling.models import Appointment

    now = timezone.now()
    provider = provider_create(
        email="fhir.doctor@bench.example", full_name="Bench Doctor", password="Bench-password-2026!"
    )
    patients = [
        patient_create(
            email=SUBJECT_EMAIL if i == 0 else f"fhir.other{i}@bench.example",
            full_name="Subject Patient" if i == 0 else f"Other Patient {i}",
            password="Bench-password-2026!",
            date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=i * 37),
        )
        for i in range(OTHER_PATIENTS + 1)
    ]
    for patient in patients:
        relationship_activate(provider=provider, patient=patient)
    for index, patient in enumerate(patients):
        scale = 1 if index == 0 else 20  # the subject has twenty times everyone else's data
        records = MedicalRecord.objects.bulk_create(
            MedicalRecord(
                patient=patient,
                provider=provider,
                record_date=(now - dt.timedelta(days=7 * n)).date(),
                diagnosis=f"Diagnosis {n}",
                symptoms="Cough and fever",
                treatment="Rest and fluids",
            )
            for n in range(RECORDS // scale)
        )
        Prescription.objects.bulk_create(
            Prescription(
                patient=patient,
                provider=provider,
                medical_record=records[n % len(records)],
                medication_name="Amoxicillin",
                dosage="500 mg",
                frequency="three times daily",
                start_date=(now - dt.timedelta(days=14 * n)).date(),
                end_date=(now - dt.timedelta(days=14 * n - 7)).date(),
                refills=n % 3,
            )
            for n in range(PRESCRIPTIONS // scale)
        )
        Appointment.objects.bulk_create(
            Appointment(
                patient=patient,
                provider=provider,
                date_time=now - dt.timedelta(days=7 * n, hours=index % 8),
                status="completed",
            )
            for n in range(APPOINTMENTS // scale)
        )
        Message.objects.bulk_create(
            Message(
                sender=patient.user if n % 2 else provider.user,
                receiver=provider.user if n % 2 else patient.user,
                content=f"Message number {n}",
                sent_at=now - dt.timedelta(hours=n),
            )
            for n in range(MESSAGES // scale)
        )


def _measure(rounds: int, count: int) -> None:
    import secrets

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application, set_token_value

    from patients.models import PatientProfile

    subject = PatientProfile.objects.get(user__email=SUBJECT_EMAIL)
    app, _created = Application.objects.get_or_create(
        name="Bench app",
        defaults={
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": "https://bench.example/callback",
        },
    )
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        user=subject.user,
        application=app,
        scope="openid launch/patient patient/*.rs",
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    set_token_value(token, raw)
    token.save()
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")

    page_ms: list[float] = []
    walk_ms: list[float] = []
    queries: list[int] = []
    total = 0
    for _round in range(rounds):
        url: str | None = f"/fhir/r4/Patient/{subject.pk}/$everything?_count={count}"
        walk_start = time.perf_counter()
        seen = 0
        while url:
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, secure=True)
            page_ms.append((time.perf_counter() - start) * 1000)
            queries.append(len(captured))
            assert response.status_code == 200, response.content[:300]
            body: dict[str, Any] = response.json()
            total = body["total"]
            seen += len(body.get("entry", []))
            url = next((link["url"] for link in body["link"] if link["relation"] == "next"), None)
        walk_ms.append((time.perf_counter() - walk_start) * 1000)
        assert seen == total, (seen, total)
    pages = len(page_ms) // rounds
    print(
        f"_count={count}: {total} resources in {pages} pages | page median {statistics.median(page_ms):.1f} ms "
        f"(p95 {sorted(page_ms)[int(len(page_ms) * 0.95) - 1]:.1f} ms), queries per page "
        f"{min(queries)}-{max(queries)} | whole walk median {statistics.median(walk_ms):.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reset", action="store_true", help="drop the benchmark database and load it again"
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="walks of the whole record per figure"
    )
    args = parser.parse_args()

    open_benchmark_database(parser, default_url=DEFAULT_URL, reset=args.reset)
    from django.core.management import call_command

    from patients.models import PatientProfile

    call_command("migrate", verbosity=0)
    if not PatientProfile.objects.filter(user__email=SUBJECT_EMAIL).exists():
        print(
            f"Loading one patient with {RECORDS} records and {MESSAGES:,} messages, and {OTHER_PATIENTS} others …"
        )
        _load()
    for count in (50, 200):
        _measure(args.rounds, count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
