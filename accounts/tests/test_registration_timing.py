"""Registration takes as long for an address that has an account as for a new one."""

from __future__ import annotations

import statistics
import time

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from accounts.models import User
from healthcare import settings as project_settings

TRIES = 30
FORM = {
    "full_name": "Jordan Rivera",
    "phone_number": "555-0199",
    "date_of_birth": "1985-04-12",
    "address": "9 Oak Lane, Springfield",
    "emergency_contact": "Casey Rivera",
    "emergency_contact_phone": "555-0198",
    "insurance_number": "",
    "ssn": "",
    "password1": "Granite-willow-orbit-55",
    "password2": "Granite-willow-orbit-55",
}


@pytest.mark.django_db(transaction=True)
def test_existing_and_new_addresses_take_the_same_time(settings, patient) -> None:
    # The real, deliberately slow hasher of the project (conftest swaps in MD5).
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert "Argon2" in django_settings.PASSWORD_HASHERS[0]
    # The limiter would refuse the 60 registrations; it is not what is measured.
    settings.RATELIMIT_ENABLE = False
    client = Client()
    timings: dict[str, list[float]] = {"existing": [], "new": []}

    def register(kind: str, n: int) -> None:
        email = patient.user.email if kind == "existing" else f"new.person{n}@example.org"
        started = time.perf_counter()
        response = client.post("/accounts/register/", {**FORM, "email": email})
        timings[kind].append(time.perf_counter() - started)
        assert response.status_code == 200
        assert "Check your email" in response.content.decode()

    register("new", -1)  # warm-up: templates, validators, the hasher's first call
    # Interleaved, and in alternating order, so a busy moment of the machine
    # falls on both kinds alike; medians ignore the odd stall.
    for n in range(TRIES):
        order = ("existing", "new") if n % 2 else ("new", "existing")
        for kind in order:
            register(kind, n)

    existing, new = statistics.median(timings["existing"]), statistics.median(timings["new"])
    assert abs(new - existing) / max(new, existing) < 0.10, (
        f"median existing {existing * 1000:.0f} ms, new {new * 1000:.0f} ms"
    )
    # Each attempt did its job: one account per new address, one email per attempt.
    assert User.objects.filter(email__startswith="new.person").count() == TRIES + 1
    assert len(mail.outbox) == 2 * TRIES + 1
