"""Twenty patients book one slot at once on a file SQLite database, as `make run` uses.

Run by test_sqlite_race.py in a subprocess: the test database of pytest-django
is SQLite's shared in-memory one, whose table locks fail at once instead of
queueing, so it cannot show what a real SQLite file does. Prints one line,
"RESULT:" + JSON of the response statuses and what the database holds.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor


def main(path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthcare.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from conftest import WORKING_HOURS
    from patients.services import patient_create
    from providers.services import provider_create
    from scheduling.models import Appointment
    from scheduling.selectors import available_slots

    call_command("migrate", verbosity=0)
    setup_test_environment()
    provider = provider_create(
        email="race.doctor@example.org", full_name="Race Doctor", working_hours=WORKING_HOURS
    )
    clients = []
    for n in range(20):
        patient = patient_create(
            email=f"racer{n}@example.org", full_name=f"Racer {n}", date_of_birth="1980-01-01"
        )
        client = Client()
        client.force_login(patient.user)
        clients.append(client)
    slot = available_slots(provider)[0]
    url = reverse("scheduling:patient-book-provider", kwargs={"provider_id": provider.pk})
    barrier = threading.Barrier(len(clients))

    def attempt(client: Client) -> tuple[int, bool]:
        try:
            barrier.wait(timeout=30)
            response = client.post(url, {"slot": slot.key, "type": "regular"}, secure=True)
            return response.status_code, "This slot was just taken" in response.content.decode()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        outcomes = list(pool.map(attempt, clients))
    print(
        "RESULT:"
        + json.dumps(
            {
                "vendor": connections["default"].vendor,
                "statuses": sorted(status for status, _ in outcomes),
                "taken_messages": sum(1 for _, taken in outcomes if taken),
                "appointments": Appointment.objects.filter(date_time=slot.starts_at).count(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
