"""Reads for the provider portal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Page
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
)
from django.utils import timezone

from accounts.models import User
from healthcare.paging import counted_page
from messaging.models import Message
from patients.models import EmergencyAccess, PatientProfile
from patients.policy import patient_filter, provider_id_of, visible_patients
from providers.models import ProviderPatient, ProviderProfile, RelationshipStatus
from providers.working_hours import local_day_bounds
from scheduling.models import Appointment


def patients_of_provider(provider: ProviderProfile) -> QuerySet[PatientProfile]:
    """Patients in an active care relationship with the provider, by name."""
    return (
        PatientProfile.objects.filter(
            provider_links__provider=provider, provider_links__status=RelationshipStatus.ACTIVE
        )
        .select_related("user")
        .order_by("user__full_name")
    )


def patients_of_provider_matching(
    provider: ProviderProfile, query: str = ""
) -> QuerySet[PatientProfile]:
    """The provider's patients whose name contains every word of ``query`` (any case)."""
    patients = patients_of_provider(provider)
    for word in query.split():
        patients = patients.filter(user__full_name__icontains=word)
    # Namesakes need a stable order, or a patient could fall between two pages.
    return patients.order_by("user__full_name", "pk")


def patient_list_page(provider: ProviderProfile, query: str, number: object, size: int) -> Page:
    """A page of `patients_of_provider_matching`, with the total, in one query.

    Rows are dicts of what the list shows (pk, full_name, date_of_birth,
    phone_number, email): no model per row, and none of the encrypted columns
    decrypted for a list that never shows them.
    """
    rows = patients_of_provider_matching(provider, query).values(
        "pk",
        "date_of_birth",
        full_name=F("user__full_name"),
        phone_number=F("user__phone_number"),
        email=F("user__email"),
    )
    return counted_page(rows, number, size)


def recent_patients_of_provider(
    provider: ProviderProfile, *, limit: int = 5
) -> list[PatientProfile]:
    """The provider's patients whose care relationship began most recently."""
    links = (
        ProviderPatient.objects.filter(provider=provider, status=RelationshipStatus.ACTIVE)
        .select_related("patient__user")
        .order_by("-relationship_start_date", "patient__user__full_name")[:limit]
    )
    return [link.patient for link in links]


def chart_patient(user: User, patient_id: object) -> PatientProfile | None:
    """The patient if this user may open their chart, else None (the view answers 404).

    `patient.in_care` says whether the access is an active care relationship
    (not emergency access), read in the same query: the access log and the
    chart's write links both need it.
    """
    provider_id = provider_id_of(user)
    if provider_id is None:
        return None
    in_care = ProviderPatient.objects.filter(
        patient=OuterRef("pk"), provider_id=provider_id, status=RelationshipStatus.ACTIVE
    )
    # One row by its key: no ordering to plan (the model's is by name, through the user).
    found = list(
        visible_patients(user)
        .select_related("user")
        .annotate(in_care=Exists(in_care))
        .filter(pk=patient_id)
        .order_by()[:1]
    )
    return found[0] if found else None


def provider_timezone(provider: ProviderProfile) -> ZoneInfo:
    """The zone the provider works in; UTC until they have set working hours."""
    return provider.zone


def active_emergency_access(user: User, patient: PatientProfile) -> EmergencyAccess | None:
    """The user's unexpired break-the-glass grant for this patient that lasts longest, if any."""
    provider_id = provider_id_of(user)
    if provider_id is None:
        return None
    return (
        EmergencyAccess.objects.filter(
            provider_id=provider_id, patient=patient, expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .first()
    )


def patients_by_identity(
    *, full_name: str, date_of_birth: dt.date, insurance_number: str = "", limit: int = 2
) -> list[PatientProfile]:
    """Patients whose full name (any case) and date of birth match exactly, for break-the-glass.

    Deliberately not scoped by care relationship: finding a patient the
    provider has no relationship with is the point. Callers never show the
    results; they act only on a single, unambiguous match. ``limit`` keeps the
    read to what that decision needs.
    """
    name = " ".join(full_name.split())
    if not name:
        return []
    patients = PatientProfile.objects.filter(
        user__full_name__iexact=name, date_of_birth=date_of_birth
    ).select_related("user")
    if insurance_number.strip():
        patients = patients.filter(insurance_number__iexact=insurance_number.strip())
    return list(patients.order_by("pk")[:limit])


@dataclass(frozen=True)
class ProviderDashboard:
    tz: ZoneInfo
    today: dt.date
    # Plain values, no model per row (building models of select_related rows, and
    # compiling their wide column lists, cost more than the queries themselves):
    # appointments: pk, date_time, type, reason, status, patient_id, patient_name, chartable;
    appointments: list[dict[str, Any]]
    chartable_patient_ids: frozenset[object]
    patient_count: int
    # recent_patients: pk, full_name; unread_messages: sender_name, sent_at, content.
    recent_patients: list[dict[str, Any]]
    unread_count: int
    unread_messages: list[dict[str, Any]]


def provider_dashboard(
    provider: ProviderProfile,
    *,
    now: dt.datetime | None = None,
    recent_limit: int = 5,
    unread: int | None = None,
) -> ProviderDashboard:
    """Everything on the provider's dashboard, in a fixed number of queries.

    Today is the provider's local calendar day. ``chartable_patient_ids`` are
    the patients on today's schedule whose chart the provider may open now
    (a relationship may have ended since the appointment was booked).
    ``unread`` is the unread count when the caller has it already (the nav badge's);
    else it comes with the latest unread messages, in the same query.
    """
    tz = provider_timezone(provider)
    today = (now or timezone.now()).astimezone(tz).date()
    start, end = local_day_bounds(today, tz)
    appointments = _appointments_with_chart_access(provider, start, end)
    recent, patient_count = _recent_patients_and_count(provider, recent_limit)
    if unread is None:
        unread_messages, unread_total = _latest_unread_and_count(provider.user)
    else:
        unread_messages, unread_total = _latest_unread(provider.user), unread
    return ProviderDashboard(
        tz=tz,
        today=today,
        appointments=appointments,
        chartable_patient_ids=frozenset(a["patient_id"] for a in appointments if a["chartable"]),
        patient_count=patient_count,
        recent_patients=recent,
        unread_count=unread_total,
        unread_messages=unread_messages,
    )


def _appointments_with_chart_access(
    provider: ProviderProfile, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """The provider's appointments in [start, end), in time order, as the dashboard shows them;
    `chartable` on each says whether the provider may open the patient's chart now (the
    access policy, in the same query)."""
    chartable = ExpressionWrapper(
        patient_filter(provider.user, path="patient"), output_field=BooleanField()
    )
    return list(
        Appointment.objects.filter(provider=provider, date_time__gte=start, date_time__lt=end)
        .order_by("date_time")
        .values(
            "pk",
            "date_time",
            "type",
            "reason",
            "status",
            "patient_id",
            patient_name=F("patient__user__full_name"),
            chartable=chartable,
        )
    )


# The dashboard's two summaries are written out: each is a plain query on a
# couple of indexed tables, and building and compiling their querysets cost
# more than the database takes to answer them.
_RECENT_PATIENTS_SQL = """
SELECT pp.patient_id, u.full_name, COUNT(*) OVER ()
FROM provider_patients pp
JOIN patient_profiles p ON p.id = pp.patient_id
JOIN users u ON u.id = p.user_id
WHERE pp.provider_id = %(provider)s AND pp.status = %(active)s
ORDER BY pp.relationship_start_date DESC, u.full_name
LIMIT %(limit)s
"""


def _recent_patients_and_count(
    provider: ProviderProfile, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """As `recent_patients_of_provider` (pk and full_name of each), with the number of all the
    provider's patients (COUNT(*) OVER () of the same rows) in the same query."""
    uuid = ProviderPatient._meta.pk
    params = {
        "provider": uuid.get_db_prep_value(provider.pk, connection),
        "active": str(RelationshipStatus.ACTIVE),
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(_RECENT_PATIENTS_SQL, params)
        rows = cursor.fetchall()
    recent = [{"pk": uuid.to_python(pk), "full_name": name} for pk, name, _total in rows]
    return recent, rows[0][2] if rows else 0


_UNREAD_COLUMNS = {"sender_name": F("sender__full_name")}


def _latest_unread(user: User, limit: int = 5) -> list[dict[str, Any]]:
    """As messaging's `latest_unread`, as the dashboard shows them (sender_name, sent_at, content)."""
    return list(
        Message.objects.filter(receiver=user, read=False)
        .order_by("-sent_at")
        .values("sent_at", "content", **_UNREAD_COLUMNS)[:limit]
    )


_LATEST_UNREAD_SQL = """
SELECT CAST(m.sent_at AS TEXT), m.content, u.full_name,
       (SELECT COUNT(*) FROM messages c WHERE c.receiver_id = %(user)s AND NOT c."read")
FROM messages m
JOIN users u ON u.id = m.sender_id
WHERE m.receiver_id = %(user)s AND NOT m."read"
ORDER BY m.sent_at DESC
LIMIT %(limit)s
"""


def _latest_unread_and_count(user: User, limit: int = 5) -> tuple[list[dict[str, Any]], int]:
    """As `_latest_unread`, with messaging's `unread_count` in the same query.

    The count is an uncorrelated scalar subquery, which the database works out
    once from the receiver/read index; with no unread message there is no row,
    and the count is 0.
    """
    params = {"user": Message._meta.pk.get_db_prep_value(user.pk, connection), "limit": limit}
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_UNREAD_SQL, params)
        rows = cursor.fetchall()
    latest = [
        {"sent_at": _aware(sent_at), "content": content, "sender_name": sender}
        for sent_at, content, sender, _total in rows
    ]
    return latest, rows[0][3] if rows else 0


def _aware(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    # PostgreSQL writes the offset ("+00"); SQLite keeps UTC without one.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
