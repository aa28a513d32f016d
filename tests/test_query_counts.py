"""Every portal page costs the same number of queries with little data and with more.

Each page is requested once with a small history and once after the history
has grown several times over (appointments, records, prescriptions, refill
requests, messages, conversations, assistant exchanges of more patients). The
counts must be equal, so a query per row (an N+1) fails here, and at most the
pinned figure, so a new query on a page is a decision someone makes on purpose.
Timing lives in bench/bench_pages.py, not here.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assistant.models import AIInteraction
from conftest import PASSWORD, login_verified
from messaging.services import message_create
from patients.models import PatientProfile
from patients.services import patient_create
from prescriptions.services import refill_request_create
from providers.models import ProviderProfile
from providers.services import relationship_activate
from records.tests.fixtures import make_appointments, make_prescriptions, make_records

pytestmark = pytest.mark.django_db

# The most queries each page may take (session, user with their profile, second factor,
# the page's own reads, the PHI access log where it applies, the badge, the session save).
PATIENT_PAGES = {
    "patient dashboard": 8,
    "appointments list": 8,
    "booking page": 8,
    "records list": 7,
    "prescriptions list": 7,
    "inbox": 6,
    # Opening a conversation reads it: on PostgreSQL one statement marks the
    # messages read, updates the conversation's unread count, writes their audit
    # entries and counts what is left for the badge (10 queries there); elsewhere
    # a SELECT, an UPDATE of each table, one INSERT and the badge's count.
    "conversation": 14,
    "assistant": 6,
}
PROVIDER_PAGES = {
    "provider dashboard": 10,
    "week calendar": 9,
    "patient list": 8,
    "patient chart": 13,
    "conversation": 16,
    "inbox": 7,
    "refill requests": 8,
    # The provider's patients (one query), the figures, and the PHI access log of
    # every patient whose words are shown (one INSERT).
    "assistant analytics": 11,
}
STAFF_PAGES = {"assistant analytics": 13}

_numbers = itertools.count()


def _new_patient_of(provider: ProviderProfile) -> PatientProfile:
    n = next(_numbers)
    profile = patient_create(
        email=f"count{n}@example.org",
        full_name=f"Count Patient{n:03d}",
        password=PASSWORD,
        date_of_birth=dt.date(1975, 1, 1),
        email_verified=True,
    )
    relationship_activate(provider=provider, patient=profile)
    return profile


def _grow(patient: PatientProfile, provider: ProviderProfile, step: int, size: int) -> None:
    """Add `size` of everything a page lists; `step` keeps rows of each call apart."""
    start = step * size
    make_appointments(patient, provider, size, start=start, days=-1)
    make_appointments(patient, provider, size, start=start, days=2)
    make_records(patient, provider, size, start=start)
    current = make_prescriptions(patient, provider, size, start=start)
    make_prescriptions(patient, provider, size, start=start, ended=True)
    for prescription in current:
        refill_request_create(prescription=prescription, requested_by=patient.user)
    now = timezone.now()
    for n in range(size):
        message_create(sender=patient.user, receiver=provider.user, content=f"q{start + n}")
        message_create(sender=provider.user, receiver=patient.user, content=f"a{start + n}")
        # More people in the provider's inbox and in the analytics' low-confidence list.
        other = _new_patient_of(provider)
        message_create(sender=other.user, receiver=provider.user, content="Hello")
        for who in (patient.user, other.user):
            AIInteraction.objects.create(
                user=who,
                input_text="something unclear",
                response_text="Could you say that another way?",
                detected_intent="unknown",
                confidence_score=0.2,
                interaction_timestamp=now - dt.timedelta(hours=n + 1),
            )


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _counts(pages: dict[str, tuple[Client, str]]) -> dict[str, int]:
    return {name: _count(client, url) for name, (client, url) in pages.items()}


def _assert_flat(
    pages: dict[str, tuple[Client, str]], pins: dict[str, int], grow: callable
) -> None:
    grow(0, 2)
    small = _counts(pages)
    grow(1, 8)
    large = _counts(pages)
    assert large == small, f"queries grew with the data: {small} -> {large}"
    over = {name: (count, pins[name]) for name, count in large.items() if count > pins[name]}
    assert not over, f"more queries than pinned (count, pin): {over}; all: {large}"


def test_patient_pages_cost_the_same_with_ten_times_the_data(patient, provider) -> None:
    client = Client()
    client.force_login(patient.user)
    pages = {
        "patient dashboard": reverse("patients:dashboard"),
        "appointments list": reverse("scheduling:patient-appointments"),
        "booking page": reverse("scheduling:patient-book-provider", args=[provider.pk]),
        "records list": reverse("records:patient-record-list"),
        "prescriptions list": reverse("prescriptions:patient-prescription-list"),
        "inbox": reverse("messaging:inbox"),
        "conversation": reverse("messaging:conversation", args=[provider.user.pk]),
        "assistant": reverse("assistant:chat"),
    }
    _assert_flat(
        {name: (client, url) for name, url in pages.items()},
        PATIENT_PAGES,
        lambda step, size: _grow(patient, provider, step, size),
    )


def test_provider_pages_cost_the_same_with_ten_times_the_data(patient, provider) -> None:
    client = login_verified(Client(), provider.user)
    pages = {
        "provider dashboard": reverse("providers:dashboard"),
        "week calendar": reverse("scheduling:provider-calendar"),
        "patient list": reverse("providers:patient-list"),
        "patient chart": reverse("providers:patient-chart", args=[patient.pk]),
        "conversation": reverse("messaging:conversation", args=[patient.user.pk]),
        "inbox": reverse("messaging:inbox"),
        "refill requests": reverse("prescriptions:provider-refill-list"),
        "assistant analytics": reverse("assistant:analytics"),
    }
    _assert_flat(
        {name: (client, url) for name, url in pages.items()},
        PROVIDER_PAGES,
        lambda step, size: _grow(patient, provider, step, size),
    )


def test_staff_analytics_costs_the_same_with_ten_times_the_data(
    patient, provider, admin_user
) -> None:
    client = login_verified(Client(), admin_user)
    _assert_flat(
        {"assistant analytics": (client, reverse("assistant:analytics"))},
        STAFF_PAGES,
        lambda step, size: _grow(patient, provider, step, size),
    )
