"""Reads of prescriptions and refill requests, scoped to the user asking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Window,
)
from django.utils import timezone

from accounts.models import User
from patients.models import PatientProfile
from patients.policy import patient_filter
from patients.timezones import zone_of
from prescriptions.models import (
    Prescription,
    PrescriptionStatus,
    RefillRequest,
    RefillStatus,
    status_shown,
)
from providers.models import ProviderProfile, RelationshipStatus


def prescriptions_visible_to(user: User) -> QuerySet[Prescription]:
    return Prescription.objects.filter(patient_filter(user, path="patient")).select_related(
        "patient__user", "provider__user"
    )


def active_prescriptions_for_patient(
    patient: PatientProfile, *, limit: int | None = None
) -> list[Prescription]:
    """The patient's current prescriptions by name: active and not past their end date.

    The end date is judged on the prescriber's calendar day, so the database
    narrows to rows ending no earlier than yesterday (UTC) and each row decides.
    """
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    qs = (
        Prescription.objects.filter(
            patient=patient, status=PrescriptionStatus.ACTIVE, end_date__gte=yesterday
        )
        .select_related("provider__user")
        .order_by("medication_name")
    )
    current = [p for p in qs if p.is_current]
    return current[:limit] if limit else current


def active_prescription_values_for_patient(
    patient: PatientProfile, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """As `active_prescriptions_for_patient`, as plain values of the shown columns (with the
    prescriber's name and credentials), not whole rows."""
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    rows = (
        Prescription.objects.filter(
            patient=patient, status=PrescriptionStatus.ACTIVE, end_date__gte=yesterday
        )
        .order_by("medication_name")
        .values(
            "medication_name",
            "dosage",
            "frequency",
            "end_date",
            "refills",
            "provider_id",
            provider_name=F("provider__user__full_name"),
            provider_credentials=F("provider__credentials"),
            provider_hours=F("provider__working_hours"),
        )
    )
    today: dict[Any, dt.date] = {}
    current = []
    for row in rows:
        if row["provider_id"] not in today:
            hours = row["provider_hours"]
            zone = zone_of(hours.get("timezone") if isinstance(hours, dict) else None)
            today[row["provider_id"]] = timezone.now().astimezone(zone).date()
        # As Prescription.is_current: an active one is current until its end date has passed.
        if row["end_date"] >= today[row["provider_id"]]:
            current.append(row)
    return current[:limit] if limit else current


def prescription_for_user(user: User, prescription_id: UUID) -> Prescription | None:
    """The prescription if this user may read it (owner, or a provider with access), else None."""
    return (
        prescriptions_visible_to(user)
        .select_related("medical_record")
        .filter(pk=prescription_id)
        .first()
    )


# Past prescriptions accumulate for life: they are shown a page at a time.
PAST_PRESCRIPTIONS_PAGE_SIZE = 20


@dataclass(frozen=True)
class PrescriptionLists:
    """A patient's prescriptions: current (active, not ended) and past, each newest first.

    `past` is one page of the past ones (all of them when not paged);
    `past_page` is that page, for the links to the others.
    """

    current: list[Prescription]
    past: list[Prescription]
    past_page: Page | None = None


def prescriptions_of_patient(
    patient: PatientProfile,
    *,
    past_page: object = 1,
    page_size: int = PAST_PRESCRIPTIONS_PAGE_SIZE,
    every_past: bool = False,
) -> PrescriptionLists:
    """The patient's current prescriptions and a page of their past ones (`every_past`: all).

    `past_page` is the page number as given (a missing or bad one is the first page).

    The database splits them: rows active and ending no earlier than yesterday
    (UTC) may be current, and each decides on its prescriber's calendar day;
    those that have just ended lead the first page of the past ones.
    `prescription.refill_pending` says whether a refill request awaits a decision.
    """
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    maybe_current = Q(status=PrescriptionStatus.ACTIVE, end_date__gte=yesterday)
    pending = RefillRequest.objects.filter(prescription=OuterRef("pk"), status=RefillStatus.PENDING)
    rows = (
        Prescription.objects.filter(patient=patient)
        .select_related("provider__user")
        .annotate(refill_pending=Exists(pending))
        .order_by("-start_date", "-created_at", "-pk")
    )
    recent = list(rows.filter(maybe_current))
    current = [p for p in recent if p.is_current]
    just_ended = [p for p in recent if not p.is_current]
    older = rows.exclude(maybe_current)
    if every_past:
        return PrescriptionLists(current=current, past=[*just_ended, *older])
    page = Paginator(older, page_size).get_page(past_page)
    past = list(page.object_list)
    if page.number == 1:
        past = [*just_ended, *past]
    return PrescriptionLists(current=current, past=past, past_page=page)


@dataclass(frozen=True)
class PrescriptionListPage:
    """The patient's prescription list as plain values: current ones, then a page of past ones
    (just-ended ones lead the first page), each a dict of the shown columns and `shown_status`."""

    current: list[dict[str, Any]]
    past: list[dict[str, Any]]
    past_page: Page


_LIST_COLUMNS = (
    "pk",
    "medication_name",
    "dosage",
    "frequency",
    "duration",
    "start_date",
    "end_date",
    "refills",
    "status",
    "provider_id",
    "provider__credentials",
    "provider__working_hours",
    "provider__user__full_name",
)


# The rows that may be current (active, ending no earlier than yesterday) and
# the asked page of the others, each part numbered and counted by a window over
# the same rows; the prescriber's name is joined to the shown rows only.
# Written by hand: the ORM's version (window annotations filtered through a
# wrapping subquery) took ~3 ms to compile, twice the query's own time.
_LIST_PAGE_SQL = """
SELECT p.id, p.medication_name, p.dosage, p.frequency, p.duration, p.start_date, p.end_date,
       p.refills, p.status, p.provider_id, pp.credentials, pp.working_hours, u.full_name,
       p.maybe_current, p.refill_pending, p.in_part
FROM (
    SELECT *,
           ROW_NUMBER() OVER (PARTITION BY maybe_current
                              ORDER BY start_date DESC, created_at DESC, id DESC) AS number,
           COUNT(*) OVER (PARTITION BY maybe_current) AS in_part
    FROM (
        SELECT id, medication_name, dosage, frequency, duration, start_date, end_date, refills,
               status, provider_id, created_at,
               (status = %(active)s AND end_date >= %(yesterday)s) AS maybe_current,
               EXISTS (SELECT 1 FROM refill_requests r
                       WHERE r.prescription_id = prescriptions.id AND r.status = %(pending)s)
                   AS refill_pending
        FROM prescriptions
        WHERE patient_id = %(patient)s
    ) AS own
) AS p
JOIN provider_profiles pp ON pp.id = p.provider_id
JOIN users u ON u.id = pp.user_id
WHERE p.maybe_current OR (p.number > %(offset)s AND p.number <= %(last)s)
ORDER BY p.start_date DESC, p.created_at DESC, p.id DESC
"""


def _list_page_rows(
    patient: PatientProfile, *, yesterday: dt.date, offset: int, size: int
) -> list[dict[str, Any]]:
    """`_LIST_PAGE_SQL`'s rows as the dicts `.values(*_LIST_COLUMNS, ...)` made, typed alike on every database."""
    fields = Prescription._meta
    uuid_of, date_of = fields.pk.to_python, fields.get_field("start_date").to_python
    hours = ProviderProfile._meta.get_field("working_hours")
    ops = connection.ops
    params = {
        "active": str(PrescriptionStatus.ACTIVE),
        "yesterday": ops.adapt_datefield_value(yesterday),
        "pending": str(RefillStatus.PENDING),
        "patient": fields.pk.get_db_prep_value(patient.pk, connection),
        "offset": offset,
        "last": offset + size,
    }
    with connection.cursor() as cursor:
        cursor.execute(_LIST_PAGE_SQL, params)
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        row = dict(zip(_LIST_COLUMNS, values[:13], strict=True))
        row["pk"], row["provider_id"] = uuid_of(row["pk"]), uuid_of(row["provider_id"])
        row["start_date"], row["end_date"] = date_of(row["start_date"]), date_of(row["end_date"])
        row["provider__working_hours"] = hours.from_db_value(
            row["provider__working_hours"], None, connection
        )
        row["maybe_current"], row["refill_pending"] = bool(values[13]), bool(values[14])
        row["in_part"] = values[15]
        rows.append(row)
    return rows


def prescription_list_page(
    patient: PatientProfile,
    *,
    past_page: object = 1,
    page_size: int = PAST_PRESCRIPTIONS_PAGE_SIZE,
) -> PrescriptionListPage:
    """The patient's current prescriptions and a page of past ones, as plain values, in one query.

    The rows that may be current and the asked page of the others come together:
    each part is numbered and counted by a window over the same rows, so the page
    carries its total. A page past the end falls back to the last one (as
    Paginator.get_page answers), at the cost of a count.
    """
    try:
        wanted = int(str(past_page)) if past_page is not None else 1
    except ValueError:
        wanted = 1
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    maybe_current = Q(status=PrescriptionStatus.ACTIVE, end_date__gte=yesterday)
    rows = Prescription.objects.filter(patient=patient)
    if wanted < 1:
        wanted = Paginator(rows.exclude(maybe_current), page_size).get_page(past_page).number
    offset = (wanted - 1) * page_size
    shown = _list_page_rows(patient, yesterday=yesterday, offset=offset, size=page_size)
    recent = [row for row in shown if row["maybe_current"]]
    older = [row for row in shown if not row["maybe_current"]]
    if not older and wanted > 1:
        last = Paginator(rows.exclude(maybe_current), page_size).get_page(wanted).number
        return prescription_list_page(patient, past_page=last, page_size=page_size)
    today: dict[Any, dt.date] = {}
    for row in shown:
        if row["provider_id"] not in today:
            hours = row["provider__working_hours"]
            zone = zone_of(hours.get("timezone") if isinstance(hours, dict) else None)
            today[row["provider_id"]] = timezone.now().astimezone(zone).date()
        row["shown_status"] = status_shown(
            row["status"], ended=row["end_date"] < today[row["provider_id"]]
        )
    current = [row for row in recent if row["shown_status"] == PrescriptionStatus.ACTIVE]
    paginator = Paginator(older, page_size)
    # Paginator.count is a cached property: the total known, it never counts again.
    paginator.count = older[0]["in_part"] if older else 0
    page = Page(older, wanted, paginator)
    past = older
    if wanted == 1:
        past = [row for row in recent if row["shown_status"] != PrescriptionStatus.ACTIVE] + past
    return PrescriptionListPage(current=current, past=past, past_page=page)


def refill_requests_of_prescription(prescription: Prescription) -> list[RefillRequest]:
    """The prescription's refill requests, newest first, with who decided and any renewal."""
    return list(
        prescription.refill_requests.select_related("decided_by", "renewal").order_by("-created_at")
    )


def pending_refill_of(prescription: Prescription) -> RefillRequest | None:
    return prescription.refill_requests.filter(status=RefillStatus.PENDING).first()


def _pending_for_provider(provider: ProviderProfile) -> QuerySet[RefillRequest]:
    # The provider's patients only (active relationship): emergency access does not decide refills.
    return RefillRequest.objects.filter(
        status=RefillStatus.PENDING,
        patient__provider_links__provider=provider,
        patient__provider_links__status=RelationshipStatus.ACTIVE,
    )


def pending_refills_for_provider(
    provider: ProviderProfile, *, limit: int | None = None
) -> list[RefillRequest]:
    """Pending requests of the provider's patients, oldest first (the order to answer them in)."""
    qs = (
        _pending_for_provider(provider)
        .select_related("patient__user", "prescription__provider__user")
        .order_by("created_at", "pk")
    )
    return list(qs[:limit] if limit else qs)


def pending_refill_rows_and_count_for_provider(
    provider: ProviderProfile, *, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The oldest `limit` of `pending_refills_for_provider` and how many there are in all,
    in one query (the count is a window over the same rows: COUNT(*) OVER ()).

    Plain values of what a summary shows (pk, created_at, patient_name,
    medication_name, dosage): no model per row, and the names through two joins
    where models of every row's patient, prescription and prescriber take five.
    """
    rows = list(
        _pending_for_provider(provider)
        .annotate(total=Window(Count("pk")))
        .order_by("created_at", "pk")
        .values(
            "pk",
            "created_at",
            "total",
            patient_name=F("patient__user__full_name"),
            medication_name=F("prescription__medication_name"),
            dosage=F("prescription__dosage"),
        )[:limit]
    )
    return rows, rows[0]["total"] if rows else 0


def pending_refill_count_for_provider(provider: ProviderProfile) -> int:
    return _pending_for_provider(provider).count()


def pending_refill_rows_of_patient(patient: PatientProfile) -> list[dict[str, Any]]:
    """The patient's open requests, oldest first, for their chart: plain values of what it
    shows (pk, created_at, note, medication_name, dosage, refills), no model per row."""
    return list(
        RefillRequest.objects.filter(patient=patient, status=RefillStatus.PENDING)
        .order_by("created_at", "pk")
        .values(
            "pk",
            "created_at",
            "note",
            medication_name=F("prescription__medication_name"),
            dosage=F("prescription__dosage"),
            refills=F("prescription__refills"),
        )
    )


def refill_for_user(user: User, refill_id: UUID) -> RefillRequest | None:
    """A refill request the user may read (the patient's own, or a provider with access), else None."""
    return (
        RefillRequest.objects.filter(patient_filter(user, path="patient"), pk=refill_id)
        .select_related(
            "patient__user",
            "prescription__provider__user",
            "prescription__medical_record",
            "requested_by",
            "decided_by",
            "renewal",
        )
        .first()
    )
