"""Every write to the nine seed tables leaves an audit entry naming who did it, and none holds an SSN."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.forms import BaseForm, CheckboxInput, MultiWidget
from django.test import Client
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import user_create
from assistant.models import AIInteraction
from assistant.services import interaction_log
from messaging.models import Message
from messaging.services import message_create, message_mark_read
from patients.models import PatientProfile
from patients.services import patient_create, patient_set_ssn
from prescriptions.models import Prescription
from prescriptions.services import prescription_create
from providers.models import ProviderPatient, ProviderProfile
from providers.services import provider_create, relationship_activate, relationship_deactivate
from records.models import MedicalRecord
from records.services import medical_record_create
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_create

CREATE, UPDATE, DELETE = LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.DELETE
CLIENT_ADDR = "203.0.113.7"
FORGED_FORWARDED_FOR = "198.51.100.23"

# A private admin site, so one real HTTP round trip through the middleware is
# tested whatever the project's own admin registers. Mounted by @pytest.mark.urls.
audit_test_site = AdminSite(name="audit_test_admin")
audit_test_site.register(ProviderProfile)
urlpatterns = [path("audit-test-admin/", audit_test_site.urls)]


def _entries_for(model: type[models.Model], pk: Any) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_pk=str(pk)
        ).order_by("timestamp", "pk")
    )


# --- Create, change, delete: one recipe per seed model ----------------------------------


@dataclass(frozen=True)
class Personas:
    patient: PatientProfile
    other_patient: PatientProfile
    provider: ProviderProfile


@dataclass(frozen=True)
class Lifecycle:
    """How to make a throwaway row of `model` (with no dependents) and change one of its fields."""

    model: type[models.Model]
    make: Callable[[Personas], models.Model]
    change: Callable[[models.Model], None]
    changed_field: str


def _save_with(**values: Any) -> Callable[[models.Model], None]:
    def change(obj: models.Model) -> None:
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()

    return change


def _today() -> dt.date:
    return timezone.localdate()


LIFECYCLES = [
    Lifecycle(
        User,
        lambda p: user_create(
            email="throwaway@example.org", full_name="Throw Away", role=Role.PATIENT
        ),
        _save_with(full_name="Thrown Away"),
        "full_name",
    ),
    Lifecycle(
        PatientProfile,
        lambda p: patient_create(
            email="brief.patient@example.org",
            full_name="Brief Patient",
            date_of_birth=dt.date(1970, 1, 1),
        ),
        _save_with(address="1 New Road"),
        "address",
    ),
    Lifecycle(
        ProviderProfile,
        lambda p: provider_create(email="brief.provider@example.org", full_name="Brief Provider"),
        _save_with(office_location="Annex 3"),
        "office_location",
    ),
    Lifecycle(
        ProviderPatient,
        lambda p: relationship_activate(provider=p.provider, patient=p.other_patient),
        lambda link: relationship_deactivate(link=link),
        "status",
    ),
    Lifecycle(
        Appointment,
        lambda p: appointment_create(
            patient=p.patient,
            provider=p.provider,
            date_time=timezone.now().replace(microsecond=0) + dt.timedelta(days=2),
        ),
        _save_with(status=AppointmentStatus.CANCELLED),
        "status",
    ),
    Lifecycle(
        MedicalRecord,
        lambda p: medical_record_create(
            patient=p.patient, provider=p.provider, record_date=_today(), diagnosis="Cough"
        ),
        _save_with(diagnosis="Bronchitis"),
        "diagnosis",
    ),
    Lifecycle(
        Prescription,
        lambda p: prescription_create(
            patient=p.patient,
            provider=p.provider,
            medication_name="Ibuprofen",
            dosage="200 mg",
            frequency="as needed",
            start_date=_today(),
            end_date=_today() + dt.timedelta(days=7),
        ),
        _save_with(refills=1),
        "refills",
    ),
    Lifecycle(
        Message,
        lambda p: message_create(sender=p.patient.user, receiver=p.provider.user, content="Hello"),
        lambda message: message_mark_read(message=message),
        "read",
    ),
    Lifecycle(
        AIInteraction,
        lambda p: interaction_log(
            user=p.patient.user,
            input_text="I need a refill",
            response_text="I can help with that.",
            detected_intent="refill_request",
            confidence_score=0.8,
        ),
        _save_with(detected_intent="prescription_refill"),
        "detected_intent",
    ),
]
SEED_MODELS = [lifecycle.model for lifecycle in LIFECYCLES]


@pytest.fixture
def personas(patient, other_patient, provider) -> Personas:
    return Personas(patient=patient, other_patient=other_patient, provider=provider)


@pytest.mark.parametrize("model", SEED_MODELS, ids=lambda m: m.__name__)
def test_seed_model_is_registered_with_auditlog(model: type[models.Model]) -> None:
    assert auditlog.contains(model)


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.model.__name__)
def test_create_change_and_delete_are_audited_with_the_actor(
    personas: Personas, admin_user: User, lifecycle: Lifecycle
) -> None:
    with set_actor(admin_user):
        obj = lifecycle.make(personas)
        pk = obj.pk
        lifecycle.change(obj)
        obj.delete()

    entries = _entries_for(lifecycle.model, pk)
    assert [entry.action for entry in entries] == [CREATE, UPDATE, DELETE]
    assert [entry.actor_id for entry in entries] == [admin_user.pk] * 3
    assert lifecycle.changed_field in entries[1].changes_dict
    assert not lifecycle.model.objects.filter(pk=pk).exists()


def test_writes_without_an_actor_are_still_audited(personas: Personas) -> None:
    record = medical_record_create(
        patient=personas.patient, provider=personas.provider, record_date=_today(), diagnosis="Flu"
    )
    entries = _entries_for(MedicalRecord, record.pk)
    assert [(entry.action, entry.actor_id) for entry in entries] == [(CREATE, None)]


def test_deleting_a_protected_patient_is_audited_once_dependents_are_gone(
    personas: Personas, admin_user: User
) -> None:
    patient, pk = personas.patient, personas.patient.pk
    with set_actor(admin_user):
        ProviderPatient.objects.filter(patient=patient).delete()
        patient.delete()
    entries = _entries_for(PatientProfile, pk)
    assert [(entry.action, entry.actor_id) for entry in entries][-1] == (DELETE, admin_user.pk)
    assert not PatientProfile.objects.filter(pk=pk).exists()


# --- Through a real HTTP request ----------------------------------------------------------


def _post_data(form: BaseForm) -> dict[str, Any]:
    """The data a browser would submit for `form` as rendered, unchanged."""
    data: dict[str, Any] = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        widget = bound.field.widget
        widget = getattr(widget, "widget", widget)  # admin's RelatedFieldWidgetWrapper
        if isinstance(widget, MultiWidget):
            parts = value if isinstance(value, list | tuple) else widget.decompress(value)
            for suffix, part in zip(widget.widgets_names, parts, strict=False):
                data[bound.html_name + suffix] = "" if part is None else part
        elif isinstance(widget, CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif value is None:
            data[bound.html_name] = ""
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        else:
            data[bound.html_name] = value
    return data


def _admin_change_form_data(response: Any) -> dict[str, Any]:
    data = _post_data(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets") or []:
        formset = inline.formset
        data.update(_post_data(formset.management_form))
        for form in formset.forms:
            data.update(_post_data(form))
    return data


def _change_through_admin(client: Client, url: str, field: str, value: str) -> None:
    """Submit the admin change form at `url` as shown, with only `field` changed."""
    page = client.get(url, secure=True)
    assert page.status_code == 200, f"GET {url} answered {page.status_code}"
    data = _admin_change_form_data(page)
    assert field in data, f"{field} is not editable on {url}"
    data[field] = value
    response = client.post(
        url,
        data,
        secure=True,
        REMOTE_ADDR=CLIENT_ADDR,
        HTTP_X_FORWARDED_FOR=FORGED_FORWARDED_FOR,
    )
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == 302, f"admin refused the change: {errors}"


def _assert_http_change_audited(
    model: type[models.Model], pk: Any, field: str, actor: User
) -> None:
    update = _entries_for(model, pk)[-1]
    assert update.action == UPDATE
    assert field in update.changes_dict
    assert update.actor_id == actor.pk
    # The client's own address; a forged X-Forwarded-For is not believed without a trusted proxy.
    assert update.remote_addr == CLIENT_ADDR


@pytest.mark.urls(__name__)
def test_change_through_an_admin_request_is_audited_with_actor_and_address(
    staff_client: Client, admin_user: User, provider: ProviderProfile
) -> None:
    url = reverse("audit_test_admin:providers_providerprofile_change", args=[provider.pk])

    _change_through_admin(staff_client, url, "office_location", "Building B, Room 202")

    provider.refresh_from_db()
    assert provider.office_location == "Building B, Room 202"
    _assert_http_change_audited(ProviderProfile, provider.pk, "office_location", admin_user)


def test_change_through_the_project_admin_is_audited_with_actor_and_address(
    staff_client: Client, admin_user: User, provider: ProviderProfile
) -> None:
    candidates: list[tuple[models.Model, str, str]] = [
        (provider, "office_location", "Building C, Room 303"),
        (provider.user, "full_name", "Anika Patel-Shah"),
    ]
    registered = [c for c in candidates if admin.site.is_registered(type(c[0]))]
    if not registered:
        pytest.skip(
            "The project admin registers neither ProviderProfile nor User yet (no admin.py)."
        )
    obj, field, value = registered[0]
    opts = obj._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        pytest.skip(f"The project admin has no change view for {opts.label}.")

    _change_through_admin(staff_client, url, field, value)

    obj.refresh_from_db()
    assert getattr(obj, field) == value
    _assert_http_change_audited(type(obj), obj.pk, field, admin_user)


# --- No SSN in the audit trail ------------------------------------------------------------


def _raw_patient_column(column: str) -> list[str]:
    table = connection.ops.quote_name(PatientProfile._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table}")  # noqa: S608
        return [value for (value,) in cursor.fetchall() if value]


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _keys(item)
    elif isinstance(value, str):
        # changes may be stored as a JSON string (AUDITLOG_STORE_JSON_CHANGES off).
        try:
            decoded = json.loads(value)
        except ValueError:
            return
        if isinstance(decoded, dict | list):
            yield from _keys(decoded)


def _audit_leaks(secrets: set[str]) -> list[str]:
    leaks = []
    for entry in LogEntry.objects.all():
        for name in (
            "changes",
            "changes_text",
            "serialized_data",
            "additional_data",
            "object_repr",
        ):
            value = getattr(entry, name)
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            leaks += [
                f"{entry} {name}: contains {secret!r}" for secret in secrets if secret in text
            ]
            leaks += [
                f"{entry} {name}: has key {key!r}"
                for key in _keys(value)
                if key in {"ssn", "ssn_hash"}
            ]
    return leaks


def test_audit_trail_never_holds_an_ssn(personas: Personas, admin_user: User) -> None:
    secrets = {"123-45-6789", "123456789", "234-56-7890", "234567890"}
    secrets |= {"345-67-8901", "345678901", "456-78-9012", "456789012"}
    with set_actor(admin_user):
        leaving = patient_create(
            email="leaving@example.org",
            full_name="Lee Ving",
            date_of_birth=dt.date(1999, 9, 9),
            ssn="345-67-8901",
        )
        secrets |= set(_raw_patient_column("ssn")) | set(_raw_patient_column("ssn_hash"))
        patient_set_ssn(profile=personas.patient, ssn="456 78 9012")
        patient_set_ssn(profile=personas.other_patient, ssn="")
        secrets |= set(_raw_patient_column("ssn")) | set(_raw_patient_column("ssn_hash"))
        leaving.delete()

    # The scan must have looked at the entries that could leak.
    profile_actions = {entry.action for entry in LogEntry.objects.get_for_model(PatientProfile)}
    assert profile_actions >= {CREATE, DELETE}
    assert _audit_leaks(secrets) == []


def test_ssn_change_is_audited_with_the_actor(personas: Personas, admin_user: User) -> None:
    # Who changed a patient's SSN, and when, belongs in the audit trail even
    # though the number itself never does.
    profile = personas.patient
    before = {entry.pk for entry in _entries_for(PatientProfile, profile.pk)}
    with set_actor(admin_user):
        patient_set_ssn(profile=profile, ssn="456-78-9012")
    new_entries = [e for e in _entries_for(PatientProfile, profile.pk) if e.pk not in before]
    assert [(entry.action, entry.actor_id) for entry in new_entries] == [(UPDATE, admin_user.pk)]
