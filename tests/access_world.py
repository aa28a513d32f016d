"""Every URL of the project, and one small world of data to fill their arguments.

The access-matrix and PHI-exposure tests are generated from the URL resolver,
so a page added by any later issue is tested without being listed. What they
need to know about a new URL is how to fill its arguments: `KWARGS` maps each
argument name to a builder that makes (lazily, through the apps' services) an
object of patient A, who has an active care relationship with provider P. A
URL whose argument has no builder fails the tests with a message saying where
to add one.

The world: patient A ("patient", Pat Jones) cared for by provider P
("provider"); unrelated patient B ("other patient") cared for by her own
provider Q ("other provider"). The personas are the root conftest's.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from patients.models import PatientProfile
from providers.models import ProviderProfile

ANONYMOUS = "anonymous"
PATIENT = "patient"  # A, the owner of every object of the world
PROVIDER = "provider"  # P, A's provider (active relationship, second factor verified)
OTHER_PATIENT = "other patient"  # B, unrelated to A and P
OTHER_PROVIDER = "other provider"  # Q, B's provider, unrelated to A
PERSONAS = (ANONYMOUS, PATIENT, PROVIDER, OTHER_PATIENT, OTHER_PROVIDER)
OUTSIDERS = (OTHER_PATIENT, OTHER_PROVIDER)

# Namespaces left out: the admin is staff-only and has its own tests.
EXCLUDED_NAMESPACES = frozenset({"admin"})

# The SSNs of the personas, in every spelling that would be a leak.
PATIENT_SSN = "123-45-6789"
PATIENT_SSN_MASKED = "***-**-6789"


def ssn_spellings(ssn: str) -> tuple[str, ...]:
    digits = ssn.replace("-", "")
    return (ssn, digits, f"{digits[:3]} {digits[3:5]} {digits[5:]}")


# --- Discovery --------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern of the project, with the route it is reached by."""

    name: str  # "namespace:name", or the route when the pattern has no name
    route: str  # e.g. "provider/patients/<uuid:patient_id>/"
    kwargs: tuple[str, ...]
    converters: dict[str, Any] = field(hash=False, compare=False)
    # The patterns from the root down, so the path can be built without reverse()
    # (which needs a name); regular-expression parts fall back to reverse() by name.
    parts: tuple[Any, ...] = field(hash=False, compare=False)

    def __str__(self) -> str:
        return self.name

    @property
    def token_kwargs(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if is_token_kwarg(k, self.converters.get(k)))

    @property
    def is_public_token_link(self) -> bool:
        """A link mailed or handed out (verification, invitation, reset, calendar feed)."""
        return bool(self.token_kwargs)

    @property
    def object_kwargs(self) -> tuple[str, ...]:
        """Arguments that name an object of someone (as opposed to a date or a page)."""
        return tuple(k for k in self.kwargs if k in KWARGS and KWARGS[k].identifies)

    @property
    def phi_kwargs(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k in KWARGS and KWARGS[k].phi)

    @property
    def missing_builders(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k not in KWARGS and k not in self.token_kwargs)


def is_token_kwarg(name: str, converter: Any) -> bool:
    """Secret-in-the-URL arguments: `token`, `<something>_token`, and Django's reset `uidb64`."""
    if name == "uidb64":
        return True
    named_like_token = name == "token" or name.endswith("_token")
    return named_like_token and isinstance(
        converter, StringConverter | SlugConverter | UUIDConverter
    )


_ROUTE_ARG = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _walk(
    patterns: list[URLPattern | URLResolver], namespace: str, parts: tuple[Any, ...]
) -> Iterator[Endpoint]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner_ns = namespace
            if entry.namespace:
                inner_ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            yield from _walk(entry.url_patterns, inner_ns, (*parts, entry.pattern))
            continue
        all_parts = (*parts, entry.pattern)
        converters: dict[str, Any] = {}
        kwargs: list[str] = []
        for part in all_parts:
            if isinstance(part, RoutePattern):
                converters.update(part.converters)
                kwargs.extend(m["name"] for m in _ROUTE_ARG.finditer(str(part)))
            else:
                kwargs.extend(part.regex.groupindex)
        route = "".join(str(p) for p in all_parts)
        name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or route)
        yield Endpoint(
            name=name, route=route, kwargs=tuple(kwargs), converters=converters, parts=all_parts
        )


def discover_endpoints() -> list[Endpoint]:
    """Every URL pattern of the project outside the admin, in resolver order."""
    return list(_walk(get_resolver().url_patterns, "", ()))


def endpoints_with_arguments() -> list[Endpoint]:
    return [e for e in discover_endpoints() if e.kwargs]


def build_path(endpoint: Endpoint, values: dict[str, Any]) -> str:
    """The path of `endpoint` with `values` put in, checked to resolve back to it."""
    if all(isinstance(p, RoutePattern) for p in endpoint.parts):
        route = "".join(str(p) for p in endpoint.parts)

        def fill(match: re.Match[str]) -> str:
            name = match["name"]
            converter = endpoint.converters.get(name)
            value = values[name]
            return converter.to_url(value) if converter is not None else str(value)

        path = "/" + _ROUTE_ARG.sub(fill, route)
    else:
        from django.urls import reverse

        if endpoint.name == endpoint.route:
            raise AssertionError(
                f"Give the regex URL {endpoint.route!r} a name so it can be tested."
            )
        path = reverse(endpoint.name, kwargs={k: values[k] for k in endpoint.kwargs})
    match = resolve(path)
    assert match.route == endpoint.route, (
        f"{path} (built for {endpoint.name}) resolves to {match.route!r}, not {endpoint.route!r}: "
        "an earlier pattern shadows it, or its converter does not accept the builder's value."
    )
    return path


def missing_builder_message(endpoint: Endpoint) -> str:
    missing = ", ".join(endpoint.missing_builders)
    return (
        f"URL {endpoint.name} ({endpoint.route}) takes {missing}, which the access tests cannot fill. "
        f"Add a builder for it to KWARGS in tests/access_world.py: a function (world, persona) -> value "
        f"returning an object of patient A or of her provider P, made through the app's services. "
        f"That is how every new URL gets the access-matrix and PHI tests."
    )


# --- The world --------------------------------------------------------------------


class World:
    """Personas A, P, B, Q with signed-in clients, and A's objects built on first use."""

    def __init__(
        self,
        *,
        patient: PatientProfile,
        provider: ProviderProfile,
        other_patient: PatientProfile,
        other_provider: ProviderProfile,
        clients: dict[str, Client],
    ) -> None:
        self.patient = patient
        self.provider = provider
        self.other_patient = other_patient
        self.other_provider = other_provider
        self.clients = clients
        self._objects: dict[str, Any] = {}

    def once(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._objects:
            self._objects[key] = build()
        return self._objects[key]

    def values_for(self, endpoint: Endpoint, persona: str) -> dict[str, Any]:
        """Every argument of `endpoint` as `persona` would fill it to reach A's objects."""
        values: dict[str, Any] = {}
        for name in endpoint.kwargs:
            if name in endpoint.token_kwargs:
                values[name] = garbage_token(name, endpoint.converters.get(name))
            else:
                values[name] = KWARGS[name].build(self, persona)
        return values

    def path_for(self, endpoint: Endpoint, persona: str) -> str:
        return build_path(endpoint, self.values_for(endpoint, persona))

    @property
    def ssns(self) -> tuple[str, ...]:
        return (self.patient.ssn, self.other_patient.ssn)


def make_world(
    patient: PatientProfile,
    provider: ProviderProfile,
    other_patient: PatientProfile,
    other_provider: ProviderProfile,
    client: Client,
    patient_client: Client,
    provider_client: Client,
    other_patient_client: Client,
    other_provider_client: Client,
) -> World:
    """The `world` fixture, from the root conftest's personas (test modules wrap it)."""
    return World(
        patient=patient,
        provider=provider,
        other_patient=other_patient,
        other_provider=other_provider,
        clients={
            ANONYMOUS: client,
            PATIENT: patient_client,
            PROVIDER: provider_client,
            OTHER_PATIENT: other_patient_client,
            OTHER_PROVIDER: other_provider_client,
        },
    )


def garbage_token(name: str, converter: Any) -> object:
    """A forged secret the converter accepts, so the view (not the resolver) answers."""
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if name == "uidb64":
        return "Zm9vYmFy"  # base64 of "foobar": not a user id
    return "not-a-real-token"


# --- Builders: one per URL argument name ------------------------------------------


def _next_weekday_at(hour: int, zone: str = "America/New_York", days_ahead: int = 3) -> dt.datetime:
    day = timezone.now().astimezone(ZoneInfo(zone)).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=ZoneInfo(zone))


def appointment(world: World) -> Any:
    from scheduling.services import appointment_create

    return world.once(
        "appointment",
        lambda: appointment_create(
            patient=world.patient,
            provider=world.provider,
            date_time=_next_weekday_at(10),
            reason="Persistent cough",
        ),
    )


def medical_record(world: World) -> Any:
    from records.services import medical_record_create

    return world.once(
        "medical_record",
        lambda: medical_record_create(
            patient=world.patient,
            provider=world.provider,
            record_date=timezone.localdate() - dt.timedelta(days=7),
            diagnosis="Seasonal allergic rhinitis",
            symptoms="Sneezing, itchy eyes",
            treatment="Cetirizine 10 mg daily",
        ),
    )


def prescription(world: World) -> Any:
    from prescriptions.services import prescription_create

    today = timezone.localdate()
    return world.once(
        "prescription",
        lambda: prescription_create(
            patient=world.patient,
            provider=world.provider,
            medication_name="Cetirizine",
            dosage="10 mg",
            frequency="once daily",
            start_date=today - dt.timedelta(days=10),
            end_date=today + dt.timedelta(days=20),
            refills=2,
        ),
    )


def refill_request(world: World) -> Any:
    """A's pending request to refill the prescription P wrote."""
    from prescriptions.services import refill_request_create

    return world.once(
        "refill_request",
        lambda: refill_request_create(
            prescription=prescription(world), requested_by=world.patient.user, note="Running low"
        ),
    )


def messages_between_patient_and_provider(world: World) -> tuple[Any, Any]:
    """A conversation A <-> P: (P's message to A, A's reply)."""
    from messaging.services import message_create

    def build() -> tuple[Any, Any]:
        first = message_create(
            sender=world.provider.user,
            receiver=world.patient.user,
            content="Your blood test results are normal.",
            sent_at=timezone.now() - dt.timedelta(hours=2),
        )
        reply = message_create(
            sender=world.patient.user,
            receiver=world.provider.user,
            content="Thank you, doctor.",
            sent_at=timezone.now() - dt.timedelta(hours=1),
        )
        return first, reply

    return world.once("messages", build)


def counterpart_user_id(world: World, persona: str) -> Any:
    """The other side of a conversation, as each persona would address it.

    A talks to P and P to A (with messages on file). The outsiders try the
    side of the relationship they are not part of: B (a patient) addresses P,
    Q (a provider) addresses A; both must be refused.
    """
    messages_between_patient_and_provider(world)
    if persona in (PATIENT, OTHER_PATIENT, ANONYMOUS):
        return world.provider.user.pk
    return world.patient.user.pk


def time_off(world: World) -> Any:
    """A block of P's own calendar: P's object, not A's."""
    from scheduling.services import time_off_create

    starts = _next_weekday_at(14, days_ahead=8)
    return world.once(
        "time_off",
        lambda: time_off_create(
            provider=world.provider,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            by=world.provider.user,
            reason="Training",
        ),
    )


def interaction(world: World) -> Any:
    from assistant.services import interaction_log

    return world.once(
        "interaction",
        lambda: interaction_log(
            user=world.patient.user,
            input_text="When is my next appointment?",
            response_text="You have no upcoming appointments.",
            detected_intent="appointment_query",
            confidence_score=0.92,
        ),
    )


@dataclass(frozen=True)
class Kwarg:
    build: Callable[[World, str], Any]
    # Names an object that belongs to someone (outsiders must get 404).
    identifies: bool = True
    # Opening it as a provider reads A's PHI (must write an access-log row).
    phi: bool = True


def _day(world: World, persona: str) -> dt.date:
    return _next_weekday_at(10).date()


KWARGS: dict[str, Kwarg] = {
    "patient_id": Kwarg(lambda w, p: w.patient.pk),
    "provider_id": Kwarg(lambda w, p: w.provider.pk, phi=False),
    "appointment_id": Kwarg(lambda w, p: appointment(w).pk),
    "record_id": Kwarg(lambda w, p: medical_record(w).pk),
    "medical_record_id": Kwarg(lambda w, p: medical_record(w).pk),
    "prescription_id": Kwarg(lambda w, p: prescription(w).pk),
    "refill_id": Kwarg(lambda w, p: refill_request(w).pk),
    "refill_request_id": Kwarg(lambda w, p: refill_request(w).pk),
    # P's message to A: A received it, P sent it.
    "message_id": Kwarg(lambda w, p: messages_between_patient_and_provider(w)[0].pk),
    "user_id": Kwarg(counterpart_user_id),
    "other_user_id": Kwarg(counterpart_user_id),
    "counterpart_id": Kwarg(counterpart_user_id),
    "interaction_id": Kwarg(lambda w, p: interaction(w).pk),
    "time_off_id": Kwarg(lambda w, p: time_off(w).pk, phi=False),
    # Calendar-style parameters: they scope a page of the viewer's own data.
    "date": Kwarg(_day, identifies=False, phi=False),
    "day": Kwarg(_day, identifies=False, phi=False),
    "year": Kwarg(lambda w, p: _day(w, p).year, identifies=False, phi=False),
    "month": Kwarg(lambda w, p: _day(w, p).month, identifies=False, phi=False),
    "week": Kwarg(lambda w, p: _day(w, p).isocalendar().week, identifies=False, phi=False),
    "page": Kwarg(lambda w, p: 1, identifies=False, phi=False),
}


# --- Helpers for assertions -------------------------------------------------------


def body_of(response: HttpResponse) -> str:
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        raw = response.content
    return raw.decode("utf-8", errors="replace")


def row_counts() -> dict[str, int]:
    """Rows of every concrete model; auditlog entries reveal updates too.

    Sessions are left out: Django re-saves them on every request (SESSION_SAVE_EVERY_REQUEST).
    """
    counts = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed or model is Session:
            continue
        counts[model._meta.label] = model._base_manager.count()
    return counts


def changed_counts(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {
        k: (before.get(k, 0), after.get(k, 0))
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k)
    }


@contextmanager
def urlconf_installed(
    settings: Any, module_name: str, patterns: list[Any]
) -> Iterator[dict[str, Endpoint]]:
    """Serve `patterns` (under "selftest/", beside the project's own URLs) for one test.

    Used to prove the checks catch deliberately broken views. Yields the new
    endpoints by name, without the "selftest:" namespace.
    """
    from django.urls import include, path

    from healthcare import urls as project_urls

    module = types.ModuleType(module_name)
    # The project's URLs too: error pages and sign-in link to them.
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("selftest/", include((patterns, "selftest"))),
        *project_urls.urlpatterns,
    ]
    sys.modules[module_name] = module
    settings.ROOT_URLCONF = module_name
    try:
        yield {
            e.name.removeprefix("selftest:"): e
            for e in discover_endpoints()
            if e.name.startswith("selftest:")
        }
    finally:
        del sys.modules[module_name]


def describe(response: HttpResponse) -> str:
    where = f" -> {response['Location']}" if response.has_header("Location") else ""
    return f"{response.status_code}{where}"
