"""Rate limits: each limited endpoint answers 429 past its rate, changes nothing, and counts in the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from assistant.models import AIInteraction
from conftest import PASSWORD, login_verified, require_or_skip
from patients.models import EmergencyAccess
from providers.models import EmergencyLookupFailure, EmergencyLookupOutcome

REPO = Path(__file__).resolve().parent.parent

REGISTRATION = {
    "full_name": "Jordan Rivera",
    "phone_number": "555-0199",
    "date_of_birth": "1985-04-12",
    "address": "9 Oak Lane, Springfield",
    "emergency_contact": "Casey Rivera",
    "emergency_contact_phone": "555-0198",
    "insurance_number": "",
    "password1": "Granite-willow-orbit-55",
    "password2": "Granite-willow-orbit-55",
}
REASON = "Unconscious in the emergency department, allergies unknown."


@pytest.fixture
def rates(settings):
    """Set some limits low for a test; the others keep their configured rates.

    Tests use daily rates: django-ratelimit counts in fixed windows, and a window
    that ended half-way through a test would restart its count.
    """

    def set_rates(**changes: str) -> None:
        settings.RATELIMITS = {
            **settings.RATELIMITS,
            **{name.replace("_", "-"): rate for name, rate in changes.items()},
        }

    return set_rates


def _is_429_page(response) -> bool:
    return response.status_code == 429 and "Too many attempts" in response.content.decode()


# --- Registration, password reset, verification resend ------------------------------------------


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """client.post that also runs what the request left for after commit (its emails)."""

    def send(url: str, data: dict, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)

    return send


@pytest.mark.django_db
def test_registration_is_limited_per_client_address(client, post, rates) -> None:
    rates(register="2/d", register_email="50/d")
    for n in range(2):
        data = {**REGISTRATION, "email": f"person{n}@example.org", "ssn": f"345-67-890{n}"}
        assert post("/accounts/register/", data, REMOTE_ADDR="198.51.100.1").status_code == 200

    blocked = post(
        "/accounts/register/",
        {**REGISTRATION, "email": "person9@example.org", "ssn": "345-67-8909"},
        REMOTE_ADDR="198.51.100.1",
    )

    assert _is_429_page(blocked)
    assert not User.objects.filter(email="person9@example.org").exists()
    # Another address is not held back by the first one's count.
    other = post(
        "/accounts/register/",
        {**REGISTRATION, "email": "person8@example.org", "ssn": "345-67-8908"},
        REMOTE_ADDR="198.51.100.2",
    )
    assert other.status_code == 200
    assert User.objects.filter(email="person8@example.org").exists()


@pytest.mark.django_db
def test_registration_is_limited_per_email_typed_from_any_address(post, rates) -> None:
    rates(register="50/d", register_email="2/d")
    for n in range(2):
        post(
            "/accounts/register/",
            {**REGISTRATION, "email": "Victim@Example.org", "ssn": f"345-67-890{n}"},
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )
    sent = len(mail.outbox)

    blocked = post(
        "/accounts/register/",
        {**REGISTRATION, "email": " victim@example.ORG ", "ssn": "345-67-8907"},
        REMOTE_ADDR="198.51.100.77",
    )

    assert _is_429_page(blocked)
    assert len(mail.outbox) == sent


def test_reading_a_limited_form_is_never_limited(client, rates) -> None:
    rates(register="1/d", sign_in="1/d")
    for _ in range(3):
        assert client.get("/accounts/register/").status_code == 200
        assert client.get("/accounts/login/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "limit"),
    [
        ("/accounts/password/reset/", "password_reset"),
        ("/accounts/verify/resend/", "verify_resend"),
    ],
)
def test_emailing_endpoints_are_limited_per_address_and_per_recipient(
    post, rates, patient, url, limit
) -> None:
    User.objects.filter(pk=patient.user.pk).update(email_verified_at=None)
    rates(**{limit: "3/d", f"{limit}_email": "2/d"})
    email = patient.user.email

    # Per recipient: one inbox, from three client addresses.
    answers = [
        post(url, {"email": email}, REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(1, 4)
    ]
    assert answers == [302, 302, 429]
    assert len(mail.outbox) == 2

    # Per client address: three other recipients pass, the fourth from that address is refused.
    for n in range(3):
        answer = post(url, {"email": f"nobody{n}@example.org"}, REMOTE_ADDR="198.51.100.50")
        assert answer.status_code == 302
    blocked = post(url, {"email": "nobody9@example.org"}, REMOTE_ADDR="198.51.100.50")
    assert _is_429_page(blocked)
    assert len(mail.outbox) == 2


# --- Sign-in -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_posts_are_limited_per_client_address(client, rates, patient) -> None:
    rates(sign_in="3/d")
    for n in range(3):
        client.post(
            "/accounts/login/",
            {"username": f"someone{n}@example.org", "password": "wrong"},
            REMOTE_ADDR="198.51.100.9",
        )

    blocked = client.post(
        "/accounts/login/",
        {"username": patient.user.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.9",
    )

    assert _is_429_page(blocked)
    assert "_auth_user_id" not in client.session
    fresh = Client()
    signed_in = fresh.post(
        "/accounts/login/",
        {"username": patient.user.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.10",
    )
    assert signed_in.status_code == 302
    assert "_auth_user_id" in fresh.session


# --- Break the glass ---------------------------------------------------------------------------


def _break_glass(client: Client, **changes: str):
    data = {"full_name": "Riley Other", "date_of_birth": "1992-02-03", "reason": REASON}
    data.update(changes)
    return client.post(reverse("providers:emergency-access"), data, REMOTE_ADDR="203.0.113.7")


@pytest.mark.django_db
def test_guessing_dates_of_birth_is_limited_per_provider_and_every_miss_is_kept_for_review(
    rates, provider, other_patient
) -> None:
    rates(emergency_lookup="5/d")
    client = login_verified(Client(), provider.user)
    for day in range(1, 6):
        response = _break_glass(client, date_of_birth=f"1992-02-{day + 10:02d}")
        assert response.status_code == 200
        assert "No patient matches" in response.content.decode()

    # The right date of birth, after the limit: refused, and no chart opens.
    blocked = _break_glass(client)

    assert _is_429_page(blocked)
    assert not EmergencyAccess.objects.exists()
    assert (
        client.get(reverse("providers:patient-chart", args=[other_patient.pk])).status_code == 404
    )
    misses = EmergencyLookupFailure.objects.filter(provider=provider)
    assert misses.count() == 5
    assert set(misses.values_list("outcome", "reason", "ip_address").distinct()) == {
        (EmergencyLookupOutcome.NOT_FOUND, REASON, "203.0.113.7")
    }
    # What was typed (name, date of birth) is PHI and is not kept.
    assert "Riley" not in str(list(misses.values()))


@pytest.mark.django_db
def test_each_provider_has_their_own_break_the_glass_count(rates, provider, other_provider) -> None:
    rates(emergency_lookup="1/d")
    first = login_verified(Client(), provider.user)
    second = login_verified(Client(), other_provider.user)
    _break_glass(first, full_name="Nobody Known")
    assert _break_glass(first, full_name="Nobody Known").status_code == 429
    assert _break_glass(second, full_name="Nobody Known").status_code == 200


@pytest.mark.django_db
def test_failed_lookups_are_listed_for_staff_review(staff_client, provider) -> None:
    from providers.services import emergency_lookup_failure_record

    failure = emergency_lookup_failure_record(
        provider=provider, outcome=EmergencyLookupOutcome.AMBIGUOUS, reason=REASON
    )
    index = staff_client.get("/admin/")
    assert "Failed emergency lookups to review" in index.content.decode()
    listing = staff_client.get(reverse("admin:providers_emergencylookupfailure_changelist"))
    assert listing.status_code == 200
    assert "several patients matched" in listing.content.decode()

    staff_client.post(
        reverse("admin:providers_emergencylookupfailure_changelist"),
        {"action": "mark_reviewed", "_selected_action": [str(failure.pk)]},
    )

    failure.refresh_from_db()
    assert failure.reviewed_at is not None
    assert failure.reviewed_by.email == "admin@example.org"


# --- Assistant: the page's endpoints and the websocket share one count per user --------------


@pytest.mark.django_db
def test_assistant_questions_over_http_are_limited_per_user(
    rates, patient, provider, patient_client
) -> None:
    rates(assistant_utterance="3/d")
    url = reverse("assistant:utterance-text")
    for _ in range(3):
        assert patient_client.post(url, {"text": "what are your hours"}).status_code in (200, 302)
    rows = AIInteraction.objects.count()

    page = patient_client.post(url, {"text": "what are your hours"})
    as_json = patient_client.post(
        url, {"text": "what are your hours"}, HTTP_ACCEPT="application/json"
    )

    assert _is_429_page(page)
    assert as_json.status_code == 429
    assert "Too many attempts" in as_json.json()["errors"]["__all__"][0]
    assert AIInteraction.objects.count() == rows
    # Another user is not held back.
    other = login_verified(Client(), provider.user)
    assert other.post(url, {"text": "what are your hours"}).status_code in (200, 302)


# --- One count across processes, through Redis -----------------------------------------------


def _redis_url() -> str:
    return os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def _redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


# Run in a second Python process: counts one action of user `pk` against the same Redis.
_OTHER_PROCESS = """
import json, sys
import django
from django.conf import settings
django.setup()
from django.test.utils import override_settings
url, prefix, pk, rate = sys.argv[1:5]

class Person:
    is_authenticated = True
    def __init__(self, pk):
        self.pk = pk

caches = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}}
with override_settings(CACHES=caches, RATELIMITS={**settings.RATELIMITS, "assistant-utterance": rate}):
    from healthcare import ratelimits
    print(json.dumps(ratelimits.allow_user_action("assistant-utterance", Person(pk))))
"""


@pytest.mark.redis
@pytest.mark.django_db
def test_the_count_is_shared_by_every_process_through_redis(
    settings, rates, patient, patient_client
) -> None:
    url = _redis_url()
    require_or_skip(_redis_available(url), f"Redis at {url}")
    # Our own key prefix: other test runs may share this Redis database.
    prefix = f"hc-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    rates(assistant_utterance="3/d")

    def other_process_allows() -> bool:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "healthcare.settings"}
        result = subprocess.run(
            [sys.executable, "-c", _OTHER_PROCESS, url, prefix, str(patient.user.pk), "3/d"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    url_say = reverse("assistant:utterance-text")
    try:
        # Two questions here and one in another process use up the three allowed...
        for _ in range(2):
            assert patient_client.post(url_say, {"text": "what are your hours"}).status_code != 429
        assert other_process_allows() is True
        # ...so this process refuses the fourth, and so does the other process.
        assert patient_client.post(url_say, {"text": "what are your hours"}).status_code == 429
        assert other_process_allows() is False
    finally:
        import redis

        connection = redis.Redis.from_url(url)
        for key in connection.scan_iter(f"{prefix}:*"):
            connection.delete(key)


@pytest.mark.django_db
def test_the_test_cache_increments_atomically(settings) -> None:
    # django-ratelimit's count is cache.add then cache.incr; a backend that reads then
    # writes would let parallel requests slip past the limit.
    from concurrent.futures import ThreadPoolExecutor

    from django.core.cache import cache

    key = f"atomic-{uuid.uuid4().hex}"
    cache.add(key, 0, 60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _n: cache.incr(key), range(400)))
    assert cache.get(key) == 400


def test_every_limit_has_a_valid_rate(settings) -> None:
    from django_ratelimit.core import _split_rate

    for name, rate in settings.RATELIMITS.items():
        if rate:
            count, seconds = _split_rate(rate)
            assert count > 0 and seconds > 0, name
