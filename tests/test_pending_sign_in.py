"""A session that has passed only the password reaches the code step, enrolment and sign-out; nothing else.

Every URL pattern of the project (the access matrix's discovery, plus the
admin) is opened with GET and POST by a session that typed the right password
but not yet a second factor: a provider, the administrator and a patient who
turned two-step sign-in on, each with a confirmed authenticator, and a new
provider who has none yet (who alone may reach enrolment). Anything that
answers 2xx or changes the database fails, and so does any websocket that
accepts such a session.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RoutePattern
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from conftest import PASSWORD
from providers.services import provider_create
from tests.access_world import (
    KWARGS,
    PATIENT,
    PROVIDER,
    Endpoint,
    World,
    _walk,
    build_path,
    discover_endpoints,
    garbage_token,
    make_world,
)

LOGIN = "/accounts/login/"
PENDING_KEY = "accounts_mfa_pending"

# What a password-only session may reach. Enrolment only without a confirmed authenticator.
ALWAYS_ALLOWED = frozenset({"accounts:login-otp", "accounts:logout"})
ENROLMENT = "accounts:mfa-setup"

world = pytest.fixture(make_world)


def all_endpoints() -> list[Endpoint]:
    """The access matrix's endpoints and the admin's, which the matrix leaves to its own tests."""
    endpoints = discover_endpoints()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "admin":
            endpoints.extend(_walk(entry.url_patterns, "admin", (entry.pattern,)))
    return endpoints


def _admin_model(endpoint: Endpoint) -> Any:
    """The model of an admin URL such as admin:records_medicalrecord_change, if any."""
    for model in apps.get_models():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if endpoint.name.startswith(prefix) or endpoint.route.startswith(
            f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        ):
            return model
    return None


def _value(world: World, endpoint: Endpoint, name: str, persona: str) -> Any:
    """A value that reaches a real object where one exists, so a leak would answer 2xx."""
    converter = endpoint.converters.get(name)
    if name in endpoint.token_kwargs:
        return garbage_token(name, converter)
    if name in KWARGS:
        return KWARGS[name].build(world, persona)
    model = _admin_model(endpoint)
    if name in ("object_id", "id", "pk") and model is not None:
        row = model._base_manager.order_by("pk").first()
        if row is not None:
            return str(row.pk)
    if name == "object_id":
        return str(world.patient.user.pk)
    if name == "content_type_id":
        return str(ContentType.objects.get_for_model(User).pk)
    if name == "app_label":
        return "accounts"
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, IntConverter):
        return 1
    return "x"


def path_for(world: World, endpoint: Endpoint, persona: str) -> str:
    values = {name: _value(world, endpoint, name, persona) for name in endpoint.kwargs}
    for name, value in values.items():
        # str and path converters (the admin's object ids) take text, whatever the builder made.
        if not isinstance(endpoint.converters.get(name), UUIDConverter | IntConverter):
            values[name] = str(value)
    if all(isinstance(part, RoutePattern) for part in endpoint.parts):
        return build_path(endpoint, values)
    if endpoint.name != endpoint.route:
        return reverse(endpoint.name, kwargs=values)
    # An unnamed regular expression (the admin's catch-all): fill it by hand.
    route = re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda m: str(values[m[1]]), endpoint.route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m[1]]).strip("/") + "/", route)
    path = "/" + route.replace("^", "").replace("$", "")
    resolve(path)
    return path


def database_state() -> dict[str, Any]:
    """Row count and last update of every table, and the sign-in tables in full.

    Sessions are left out (Django re-saves them on every request); the auditlog
    table is in, so an update of an audited row shows up as a new entry. One
    query for all the counts keeps the crawl fast.
    """
    from django.contrib.sessions.models import Session

    selects = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed or model is Session:
            continue
        fields = {f.name: f for f in model._meta.concrete_fields}
        latest = "NULL"
        if "updated_at" in fields:
            latest = f"MAX({connection.ops.quote_name(fields['updated_at'].column)})"
        table = connection.ops.quote_name(model._meta.db_table)
        # Table and column names come from the models, not from input.
        selects.append(
            f"SELECT '{model._meta.label}', COUNT(*), CAST({latest} AS TEXT) FROM {table}"  # noqa: S608
        )
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects))
        state: dict[str, Any] = {label: (n, str(latest)) for label, n, latest in cursor.fetchall()}
    for model in (TOTPDevice, StaticDevice, StaticToken, User):
        state[f"{model._meta.label} rows"] = list(model._base_manager.order_by("pk").values())
    return state


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def password_only_session(user: User) -> Client:
    """A client that typed the right password and owes the second factor."""
    client = Client()
    response = client.post(LOGIN, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, f"password step for {user.email}: {response.status_code}"
    assert PENDING_KEY in client.session
    assert "_auth_user_id" not in client.session
    return client


def with_authenticator(user: User) -> User:
    TOTPDevice.objects.get_or_create(user=user, confirmed=True, defaults={"name": "phone"})
    return user


@pytest.fixture
def new_provider(db) -> User:
    """A provider invited and with a password, who has not set up an authenticator yet."""
    profile = provider_create(
        email="dr.new@example.org",
        full_name="Nia New",
        password=PASSWORD,
        credentials="MD",
        specialization="Cardiology",
        license_number="MD-2002",
    )
    return profile.user


@pytest.fixture
def pending_personas(
    world: World, provider_client, admin_user, new_provider
) -> dict[str, tuple[User, str]]:
    """persona -> (user, the persona whose URL arguments they try)."""
    # provider_client gave P a confirmed authenticator; the admin and A get one here.
    return {
        "provider": (world.provider.user, PROVIDER),
        "staff": (with_authenticator(admin_user), PROVIDER),
        "patient with two-step sign-in": (with_authenticator(world.patient.user), PATIENT),
        "provider still to enrol": (new_provider, PROVIDER),
    }


def _allowed(endpoint: Endpoint, user: User) -> bool:
    if endpoint.name in ALWAYS_ALLOWED:
        return True
    if endpoint.name == ENROLMENT:
        return not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona", ["provider", "staff", "patient with two-step sign-in", "provider still to enrol"]
)
def test_password_only_session_reaches_nothing_but_the_second_factor(
    world: World, pending_personas, persona: str, settings
) -> None:
    settings.MFA_PENDING_SECONDS = 3600  # the crawl must not outlast the pending sign-in
    user, arguments_of = pending_personas[persona]
    endpoints = [e for e in all_endpoints() if e.name != "accounts:logout"]
    assert len(endpoints) > 100, "the discovery found too few URLs"
    assert any(e.name.startswith("admin:") for e in endpoints)
    # Build every object first, so the state compared below only moves if a request moves it.
    paths = {e: path_for(world, e, arguments_of) for e in endpoints}
    client = password_only_session(user)

    failures: list[str] = []
    for endpoint in endpoints:
        if PENDING_KEY not in client.session:
            failures.append(f"before {endpoint}: the pending sign-in was lost; starting it again")
            client = password_only_session(user)
        allowed = _allowed(endpoint, user)
        before = database_state()
        for method in ("get", "post"):
            response = getattr(client, method)(paths[endpoint])
            if not allowed and 200 <= response.status_code < 300:
                failures.append(
                    f"{method.upper()} {paths[endpoint]} ({endpoint}) answered {response.status_code}"
                )
        changed = changes(before, database_state())
        if changed and not allowed:
            failures.append(f"GET/POST {paths[endpoint]} ({endpoint}) changed {', '.join(changed)}")
        if "_auth_user_id" in client.session:
            failures.append(f"{paths[endpoint]} ({endpoint}) completed the sign-in")
            client = password_only_session(user)
    assert not failures, f"A password-only session of the {persona} got through:\n" + "\n".join(
        failures
    )


@pytest.mark.django_db
def test_enrolment_is_refused_to_a_password_only_session_with_an_authenticator(
    client, provider
) -> None:
    device = TOTPDevice.objects.create(user=provider.user, name="phone", confirmed=True)
    pending = password_only_session(provider.user)
    response = pending.get("/accounts/mfa/setup/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code/"
    assert list(TOTPDevice.objects.filter(user=provider.user)) == [device]
    pending.post("/accounts/mfa/setup/", {"code": "123456"})
    assert list(TOTPDevice.objects.filter(user=provider.user)) == [device]
    assert "_auth_user_id" not in pending.session


@pytest.mark.django_db
def test_password_only_session_may_sign_out(provider) -> None:
    TOTPDevice.objects.create(user=provider.user, name="phone", confirmed=True)
    pending = password_only_session(provider.user)
    response = pending.post("/accounts/logout/")
    assert response.status_code == 302
    assert PENDING_KEY not in pending.session
    # Signed out, the visitor is an ordinary anonymous one again.
    assert pending.get(LOGIN).status_code == 200


@pytest.mark.django_db
def test_an_expired_pending_sign_in_is_an_anonymous_visitor(provider, settings) -> None:
    TOTPDevice.objects.create(user=provider.user, name="phone", confirmed=True)
    pending = password_only_session(provider.user)
    settings.MFA_PENDING_SECONDS = -1
    assert pending.get(LOGIN).status_code == 200
    assert pending.get("/provider/")["Location"].startswith(LOGIN)


WEBSOCKETS = ("/ws/session/", "/ws/messages/", "/ws/assistant/")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("path", WEBSOCKETS)
async def test_websockets_refuse_a_password_only_session(
    provider, patient, admin_user, path: str
) -> None:
    from healthcare.asgi import application

    def sessions() -> list[str]:
        keys = []
        for user in (provider.user, patient.user, admin_user):
            with_authenticator(user)
            keys.append(password_only_session(user).session.session_key)
        return keys

    for key in await database_sync_to_async(sessions)():
        headers = [
            (b"origin", b"http://127.0.0.1:8000"),
            (b"host", b"127.0.0.1:8000"),
            (b"cookie", f"sessionid={key}".encode()),
        ]
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _code = await communicator.connect()
        if connected:
            await communicator.disconnect()
        assert not connected, f"{path} accepted a password-only session"
