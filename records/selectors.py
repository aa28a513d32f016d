"""Reads of medical records, their history and the clinical chart, scoped to the user asking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from auditlog.models import LogEntry
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from healthcare.paging import counted_page
from patients.models import PatientProfile
from patients.policy import has_care_relationship, patient_filter
from patients.timezones import zone_of
from prescriptions.selectors import (
    PrescriptionListPage,
    PrescriptionLists,
    pending_refill_rows_of_patient,
    prescription_list_page,
    prescriptions_of_patient,
)
from providers.models import ProviderProfile
from providers.working_hours import local_day_bounds
from records.models import MedicalRecord
from records.services import LINKABLE_APPOINTMENT_STATUSES
from scheduling.models import Appointment, AppointmentStatus
from scheduling.selectors import appointments_visible_to

CHART_APPOINTMENTS = 10
LINKABLE_APPOINTMENTS = 20
# A patient's records grow by every visit for life: every list of them is paged.
RECORDS_PAGE_SIZE = 20
CHART_RECORDS_PAGE_SIZE = 10
# The chart shows a screenful of each section; the pages hold the rest.
CHART_PAST_PRESCRIPTIONS_PAGE_SIZE = 10
# What the chart shows of an appointment and of a record: plain values, no model per row.
CHART_APPOINTMENT_COLUMNS = (
    "pk",
    "date_time",
    "status",
    "type",
    "reason",
    "provider__user_id",
    "provider__credentials",
    "provider__user__full_name",
)
CHART_RECORD_COLUMNS = (
    "pk",
    "record_date",
    "diagnosis",
    "symptoms",
    "treatment",
    "provider__credentials",
    "provider__user__full_name",
    "appointment__date_time",
)


def medical_records_visible_to(user: User) -> QuerySet[MedicalRecord]:
    """Every record the user may read: their own as a patient, their patients' as a provider."""
    return MedicalRecord.objects.filter(patient_filter(user, path="patient")).select_related(
        "patient__user", "provider__user", "appointment"
    )


def medical_record_for_user(user: User, record_id: UUID) -> MedicalRecord | None:
    """The record if this user may read it, else None (the view answers 404)."""
    return medical_records_visible_to(user).filter(pk=record_id).first()


def records_of_patient(patient: PatientProfile) -> QuerySet[MedicalRecord]:
    """The patient's records, newest first, with author and linked appointment (page it)."""
    return (
        MedicalRecord.objects.filter(patient=patient)
        .select_related("provider__user", "appointment")
        .order_by("-record_date", "-created_at", "-pk")
    )


def record_list_page(
    patient: PatientProfile, number: object = 1, *, size: int = RECORDS_PAGE_SIZE
) -> Page:
    """One page of the patient's records as the list shows them, newest first, in one query.

    Plain values (the page's columns only, the total riding along as a window):
    the list shows no encrypted or clinical field but the diagnosis and treatment.
    """
    rows = MedicalRecord.objects.filter(patient=patient).order_by(
        "-record_date", "-created_at", "-pk"
    )
    return counted_page(
        rows.values(
            "pk",
            "record_date",
            "diagnosis",
            "treatment",
            "provider_id",
            "provider__credentials",
            "provider__working_hours",
            "provider__user__full_name",
            "appointment__date_time",
        ),
        number,
        size,
    )


def writable_patient(user: User, patient: PatientProfile) -> bool:
    """True when the provider may write to this patient's record (active relationship, not emergency)."""
    return user.is_provider and has_care_relationship(user, patient)


def linkable_appointments(
    provider: ProviderProfile,
    patient: PatientProfile,
    *,
    include: object = None,
    limit: int = LINKABLE_APPOINTMENTS,
) -> QuerySet[Appointment]:
    """The patient's appointments with this provider that a record may document, newest first.

    Up to the end of today where the provider works: a visit is written up on
    its day or after, never before. `include` (an appointment id) is kept in
    the choices whatever its age, so amending a record keeps its link.
    """
    tz = zone_of(provider)
    _start, end_of_today = local_day_bounds(timezone.now().astimezone(tz).date(), tz)
    ids = (
        Appointment.objects.filter(
            patient=patient,
            provider=provider,
            status__in=LINKABLE_APPOINTMENT_STATUSES,
            date_time__lt=end_of_today,
        )
        .order_by("-date_time")
        .values("pk")[:limit]
    )
    # The limit in a subquery leaves a queryset the form can still filter by pk.
    chosen = Q(pk__in=ids)
    if include is not None:
        chosen |= Q(pk=include, patient=patient, provider=provider)
    return Appointment.objects.filter(chosen).select_related("provider").order_by("-date_time")


# --- History of a record (django-auditlog) ------------------------------------------

# Columns that are not the record's content: never shown as changes.
_HIDDEN_FIELDS = frozenset({"id", "created_at", "updated_at", "patient", "provider"})


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    timestamp: dt.datetime
    actor: User | None
    action: str  # "created" / "changed" / "deleted"
    changes: list[FieldChange]

    @property
    def actor_name(self) -> str:
        return self.actor.full_name if self.actor is not None else _("System")


def medical_record_history(record: MedicalRecord) -> list[HistoryEntry]:
    """Who changed what on this record and when, newest first (one query)."""
    entries = (
        LogEntry.objects.get_for_object(record)
        .select_related("actor")
        .order_by("-timestamp", "-pk")
    )
    actions = {
        LogEntry.Action.CREATE: "created",
        LogEntry.Action.UPDATE: "changed",
        LogEntry.Action.DELETE: "deleted",
    }
    history = []
    for entry in entries:
        action = actions.get(entry.action, "changed")
        changes = [] if action == "created" else _field_changes(entry.changes_dict)
        if action == "changed" and not changes:
            continue  # only bookkeeping columns moved
        history.append(HistoryEntry(entry.timestamp, entry.actor, action, changes))
    return history


def _field_changes(changes: dict[str, Any]) -> list[FieldChange]:
    result = []
    for name, values in changes.items():
        if name in _HIDDEN_FIELDS or not isinstance(values, list | tuple) or len(values) != 2:
            continue
        try:
            label = str(MedicalRecord._meta.get_field(name).verbose_name)
        except Exception:  # a column removed since: show its raw name
            label = name
        old, new = (_shown(name, v) for v in values)
        result.append(FieldChange(name, label[:1].upper() + label[1:], old, new))
    return result


def _shown(name: str, value: object) -> str:
    if value in (None, "None", ""):
        return "—"
    if name == "appointment":
        # The appointment's id means nothing to a reader; whether one was linked does.
        return _("linked to an appointment")
    return str(value)


# --- The clinical part of a provider's chart ----------------------------------------


@dataclass(frozen=True)
class ClinicalChart:
    # Plain values (CHART_APPOINTMENT_COLUMNS) of the next and the latest appointments.
    upcoming_appointments: list[dict[str, Any]]
    past_appointments: list[dict[str, Any]]
    # A page of plain values (CHART_RECORD_COLUMNS), and the current and a page
    # of past prescriptions as plain values (prescriptions.selectors.prescription_list_page).
    records: Page
    prescriptions: PrescriptionListPage
    # Plain values (prescriptions.selectors.pending_refill_rows_of_patient).
    pending_refills: list[dict[str, Any]]
    # Appointments of the signed-in provider that a record may document (see linkable_appointments).
    documentable_ids: frozenset[object]

    @property
    def appointments(self) -> list[dict[str, Any]]:
        """Upcoming first, then the recent past ones: the chart's one table."""
        return [*self.upcoming_appointments, *self.past_appointments]


def clinical_chart(
    user: User,
    patient: PatientProfile,
    *,
    now: dt.datetime | None = None,
    records_page: object = 1,
    prescriptions_page: object = 1,
) -> ClinicalChart:
    """Appointments, records, prescriptions and open refill requests of a patient.

    A fixed number of queries however long the patient's history: the
    appointments are the latest few, records and past prescriptions are pages
    (each page's rows and total in one query).

    The caller has already checked that `user` may open the patient's chart.
    """
    now = now or timezone.now()
    upcoming, past = _chart_appointments(patient, now)
    records = _chart_records_page(patient, records_page)
    return ClinicalChart(
        upcoming_appointments=upcoming,
        past_appointments=past,
        records=records,
        prescriptions=prescription_list_page(
            patient, past_page=prescriptions_page, page_size=CHART_PAST_PRESCRIPTIONS_PAGE_SIZE
        ),
        pending_refills=pending_refill_rows_of_patient(patient),
        documentable_ids=frozenset(
            a["pk"] for a in [*upcoming, *past] if _documentable_by(a, user, now)
        ),
    )


# The chart's appointments: the next few scheduled ones and the latest others, in
# one statement (a UNION ALL of the two, each part ordered and limited in its own
# subquery, which both PostgreSQL and SQLite accept). Written out rather than
# built with the ORM: compiling the two querysets and their joins cost several
# times what the database takes to answer them.
_CHART_APPOINTMENTS_SQL = """
SELECT * FROM (
  SELECT a.id, CAST(a.date_time AS TEXT), a.status, a.type, a.reason,
         p.user_id, p.credentials, u.full_name, 1
  FROM appointments a
  JOIN provider_profiles p ON p.id = a.provider_id
  JOIN users u ON u.id = p.user_id
  WHERE a.patient_id = %(patient)s AND a.status = %(scheduled)s AND a.date_time >= %(now)s
  ORDER BY a.date_time LIMIT %(limit)s
) upcoming
UNION ALL
SELECT * FROM (
  SELECT a.id, CAST(a.date_time AS TEXT), a.status, a.type, a.reason,
         p.user_id, p.credentials, u.full_name, 0
  FROM appointments a
  JOIN provider_profiles p ON p.id = a.provider_id
  JOIN users u ON u.id = p.user_id
  WHERE a.patient_id = %(patient)s AND NOT (a.status = %(scheduled)s AND a.date_time >= %(now)s)
  ORDER BY a.date_time DESC LIMIT %(limit)s
) past
"""


def _chart_appointments(
    patient: PatientProfile, now: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The next few scheduled appointments (soonest first) and the latest others (newest first),
    as dicts of CHART_APPOINTMENT_COLUMNS, in one query."""
    # The caller has checked that the user may open this patient's chart, and
    # every appointment of a visible patient is visible: no need to plan the
    # policy's subqueries again, nor to read the patient on every row.
    uuid = Appointment._meta.pk
    params = {
        "patient": uuid.get_db_prep_value(patient.pk, connection),
        "scheduled": str(AppointmentStatus.SCHEDULED),
        "now": connection.ops.adapt_datetimefield_value(now),
        "limit": CHART_APPOINTMENTS,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CHART_APPOINTMENTS_SQL, params)
        rows = cursor.fetchall()
    upcoming: list[dict[str, Any]] = []
    past: list[dict[str, Any]] = []
    for pk, when, status, kind, reason, user_id, credentials, full_name, is_upcoming in rows:
        (upcoming if is_upcoming else past).append(
            {
                "pk": uuid.to_python(pk),
                "date_time": _aware(when),
                "status": status,
                "type": kind,
                "reason": reason,
                "provider__user_id": uuid.to_python(user_id),
                "provider__credentials": credentials,
                "provider__user__full_name": full_name,
            }
        )
    # UNION ALL keeps each part's order in practice, but SQL does not promise it.
    upcoming.sort(key=lambda a: a["date_time"])
    past.sort(key=lambda a: a["date_time"], reverse=True)
    return upcoming, past


# A page of the chart's records with the patient's number of records. Written out
# for the same reason as the appointments' query; the total is a scalar subquery
# (worked out once from the patient/date index) rather than COUNT(*) OVER (),
# which would join every one of the patient's records to its author before the
# page is cut.
_CHART_RECORDS_SQL = """
SELECT r.id, CAST(r.record_date AS TEXT), r.diagnosis, r.symptoms, r.treatment,
       p.credentials, u.full_name, CAST(a.date_time AS TEXT),
       (SELECT COUNT(*) FROM medical_records c WHERE c.patient_id = %(patient)s)
FROM medical_records r
JOIN provider_profiles p ON p.id = r.provider_id
JOIN users u ON u.id = p.user_id
LEFT JOIN appointments a ON a.id = r.appointment_id
WHERE r.patient_id = %(patient)s
ORDER BY r.record_date DESC, r.created_at DESC, r.id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""


def _chart_records_page(patient: PatientProfile, number: object) -> Page:
    """The page `number` (as given in the URL) of the patient's records, newest first, as
    dicts of CHART_RECORD_COLUMNS, in one query; as healthcare.paging.counted_page answers
    (a bad number is the first page, one past the end or below one goes through Paginator)."""
    size = CHART_RECORDS_PAGE_SIZE
    try:
        wanted = int(str(number)) if number is not None else 1
    except ValueError:
        wanted = 1
    if wanted < 1:
        return counted_page(records_of_patient(patient).values(*CHART_RECORD_COLUMNS), number, size)
    uuid = MedicalRecord._meta.pk
    params = {
        "patient": uuid.get_db_prep_value(patient.pk, connection),
        "limit": size,
        "offset": (wanted - 1) * size,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CHART_RECORDS_SQL, params)
        fetched = cursor.fetchall()
    if not fetched and wanted > 1:
        return counted_page(records_of_patient(patient).values(*CHART_RECORD_COLUMNS), wanted, size)
    rows = [
        {
            "pk": uuid.to_python(pk),
            "record_date": dt.date.fromisoformat(day),
            "diagnosis": diagnosis,
            "symptoms": symptoms,
            "treatment": treatment,
            "provider__credentials": credentials,
            "provider__user__full_name": full_name,
            "appointment__date_time": _aware(when) if when is not None else None,
        }
        for pk, day, diagnosis, symptoms, treatment, credentials, full_name, when, _total in fetched
    ]
    paginator = Paginator(rows, size)
    # Paginator.count is a cached property: the total known, it never counts again.
    paginator.count = fetched[0][-1] if fetched else 0
    return Page(rows, wanted, paginator)


def _aware(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    # PostgreSQL writes the offset ("+00"); SQLite keeps UTC without one.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _documentable_by(appointment: dict[str, Any], user: User, now: dt.datetime) -> bool:
    if (
        appointment["provider__user_id"] != user.pk
        or appointment["status"] not in LINKABLE_APPOINTMENT_STATUSES
    ):
        return False
    # The appointment is the user's own: their zone is the one of the appointment's provider.
    tz = zone_of(user.provider_profile)
    return appointment["date_time"].astimezone(tz).date() <= now.astimezone(tz).date()


# --- The patient's printable summary -------------------------------------------------


@dataclass(frozen=True)
class HealthSummary:
    patient: PatientProfile
    generated_at: dt.datetime
    records: list[MedicalRecord]
    prescriptions: PrescriptionLists
    upcoming_appointments: list[Appointment]


def health_summary(user: User) -> HealthSummary:
    """The signed-in patient's own health record on one page: visits, medication, next appointments."""
    patient = user.patient_profile
    now = timezone.now()
    upcoming = (
        appointments_visible_to(user)
        .filter(patient=patient, status=AppointmentStatus.SCHEDULED, date_time__gte=now)
        .order_by("date_time")[:CHART_APPOINTMENTS]
    )
    return HealthSummary(
        patient=patient,
        generated_at=now,
        # The printable summary is the whole record, on purpose.
        records=list(records_of_patient(patient)),
        prescriptions=prescriptions_of_patient(patient, every_past=True),
        upcoming_appointments=list(upcoming),
    )
