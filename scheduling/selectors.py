"""Reads of appointments, slots and time off, scoped to the user asking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from patients.models import PatientProfile
from patients.policy import patient_filter
from providers.models import ProviderProfile
from providers.working_hours import WorkingHours, local_day_bounds
from scheduling import conf
from scheduling.models import (
    MAX_DURATION_MINUTES,
    Appointment,
    AppointmentStatus,
    CalendarFeedToken,
    ProviderTimeOff,
    hash_feed_token,
)
from scheduling.slots import Interval, Slot, free_slots, hours_of, window_for

UTC = ZoneInfo("UTC")
# Lists of appointments never show the SSN; loading it would decrypt it once per row.
PATIENT_SECRETS = ("patient__ssn", "patient__ssn_hash")


def appointments_visible_to(user: User) -> QuerySet[Appointment]:
    """Every appointment the user may see: their own as a patient, their patients' as a provider."""
    return Appointment.objects.filter(patient_filter(user, path="patient")).select_related(
        "patient__user", "provider__user"
    )


def upcoming_appointments_for_patient(
    patient: PatientProfile, *, limit: int = 5
) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            patient=patient, status=AppointmentStatus.SCHEDULED, date_time__gte=timezone.now()
        )
        .select_related("provider__user")
        .order_by("date_time")[:limit]
    )


def upcoming_appointment_values_for_patient(
    patient: PatientProfile, *, limit: int = 5
) -> list[dict[str, Any]]:
    """As `upcoming_appointments_for_patient`, as plain values of the shown columns: the
    provider's name, credentials, office and working hours (for their zone), not whole rows."""
    return list(
        Appointment.objects.filter(
            patient=patient, status=AppointmentStatus.SCHEDULED, date_time__gte=timezone.now()
        )
        .order_by("date_time")
        .values(
            "date_time",
            "duration_minutes",
            "type",
            "reason",
            provider_name=F("provider__user__full_name"),
            provider_credentials=F("provider__credentials"),
            provider_office=F("provider__office_location"),
            provider_hours=F("provider__working_hours"),
        )[:limit]
    )


def appointments_of_provider_between(
    provider: ProviderProfile, start: dt.datetime, end: dt.datetime
) -> list[Appointment]:
    """The provider's appointments starting in [start, end), any status, in time order."""
    return list(
        Appointment.objects.filter(provider=provider, date_time__gte=start, date_time__lt=end)
        .select_related("patient__user")
        .defer(*PATIENT_SECRETS)
        .order_by("date_time")
    )


# --- Finding a provider and their slots --------------------------------------------


def bookable_providers(query: str = "") -> QuerySet[ProviderProfile]:
    """Active providers with working hours whose name, specialization or department
    contains every word of ``query`` (any case). Not PHI: the practice's directory."""
    providers = (
        ProviderProfile.objects.filter(user__is_active=True)
        .exclude(working_hours={})
        .select_related("user")
    )
    for word in query.split():
        providers = providers.filter(
            Q(user__full_name__icontains=word)
            | Q(specialization__icontains=word)
            | Q(department__icontains=word)
        )
    return providers.order_by("user__full_name", "pk")


def bookable_provider(provider_id: UUID | str) -> ProviderProfile | None:
    """The provider at this id if `bookable_providers` lists them, else None."""
    # By primary key, with no ordering, and "has working hours" asked of the
    # row: compiling the directory's query (its JSON comparison and order) for
    # one row cost more than reading it.
    found = list(
        ProviderProfile.objects.filter(pk=provider_id, user__is_active=True)
        .select_related("user")
        .order_by()[:1]
    )
    return found[0] if found and found[0].working_hours != {} else None


def provider_hours(provider: ProviderProfile) -> WorkingHours | None:
    """The provider's working hours, or None when they offer no slots (none set)."""
    return hours_of(provider.working_hours)


def provider_zone(provider: ProviderProfile) -> ZoneInfo:
    """The zone the provider works in; UTC until they set working hours."""
    return provider.zone


def booking_window(
    hours: WorkingHours, *, now: dt.datetime, by_provider: bool = False
) -> tuple[dt.datetime, dt.datetime]:
    """Where slots may start: patients from now + the minimum lead time to the horizon;
    providers from now to their (longer) horizon."""
    if by_provider:
        return window_for(
            hours.tz, now=now, lead=dt.timedelta(0), days=conf.provider_horizon_days()
        )
    return window_for(hours.tz, now=now, lead=conf.min_lead(), days=conf.horizon_days())


# The busy-time query, written out: it runs on every booking page and in every
# booking, and building it with the ORM (two filtered querysets and their union)
# cost more CPU than the database spends answering it. Tables and columns are the
# models' (Appointment, ProviderTimeOff); the tests run it on SQLite and PostgreSQL.
# Times come back as text, parsed by _aware: Django's loader for timestamptz values
# is psycopg's pure-Python parser (about 9 µs a value, and a busy month is hundreds
# of them); fromisoformat takes under 1 µs.
_BUSY_APPOINTMENTS_SQL = (
    "SELECT CAST(date_time AS TEXT), duration_minutes, NULL FROM appointments"
    " WHERE ({whose}) AND status = %s AND date_time < %s AND date_time > %s{exclude}"
)
_BUSY_TIME_OFF_SQL = (
    " UNION ALL SELECT CAST(starts_at AS TEXT), 0, CAST(ends_at AS TEXT) FROM provider_time_off"
    " WHERE provider_id = %s AND starts_at < %s AND ends_at > %s"
)


def busy_intervals(
    provider: ProviderProfile,
    start: dt.datetime,
    end: dt.datetime,
    *,
    patient: PatientProfile | None = None,
    exclude_appointment_id: object = None,
    include_time_off: bool = True,
) -> list[Interval]:
    """Time in [start, end) taken by the provider's (or the patient's) scheduled
    appointments or the provider's time off, in one query (a UNION ALL of the two
    tables: a round trip to the database costs more than reading both)."""
    ops = connection.ops
    uuid = Appointment._meta.pk
    provider_id = uuid.get_db_prep_value(provider.pk, connection)
    whose, params = "provider_id = %s", [provider_id]
    if patient is not None:
        whose += " OR patient_id = %s"
        params.append(uuid.get_db_prep_value(patient.pk, connection))
    params += [
        str(AppointmentStatus.SCHEDULED),
        ops.adapt_datetimefield_value(end),
        # An appointment that began up to the longest allowed duration ago may still run.
        ops.adapt_datetimefield_value(start - dt.timedelta(minutes=MAX_DURATION_MINUTES)),
    ]
    exclude = ""
    if exclude_appointment_id is not None:
        exclude = " AND id <> %s"
        params.append(uuid.get_db_prep_value(exclude_appointment_id, connection))
    sql = _BUSY_APPOINTMENTS_SQL.format(whose=whose, exclude=exclude)
    if include_time_off:
        sql += _BUSY_TIME_OFF_SQL
        params += [
            provider_id,
            ops.adapt_datetimefield_value(end),
            ops.adapt_datetimefield_value(start),
        ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    busy: list[Interval] = []
    # (start, minutes, end): an appointment has a length, a block of time off an end.
    for begins, minutes, ends in rows:
        starts_at = _aware(begins)
        busy.append(
            (starts_at, _aware(ends) if ends else starts_at + dt.timedelta(minutes=minutes))
        )
    return busy


def _aware(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    # PostgreSQL writes the offset ("+00"); SQLite keeps UTC without one.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def available_slots(
    provider: ProviderProfile,
    *,
    now: dt.datetime | None = None,
    patient: PatientProfile | None = None,
    exclude_appointment_id: object = None,
    by_provider: bool = False,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[Slot]:
    """The provider's free slots, in time order, in one query.

    Working hours, minus scheduled appointments (the provider's, and the
    patient's with anyone when ``patient`` is given), minus time off; never
    in the past and, for patients, never sooner than the minimum lead time
    nor beyond the horizon. ``start``/``end`` narrow the window further (a
    week of the calendar, or the one slot being booked).
    """
    hours = provider_hours(provider)
    if hours is None:
        return []
    now = now or timezone.now()
    earliest, until = booking_window(hours, now=now, by_provider=by_provider)
    # UTC from here on: adding minutes to a zoned datetime is wall-clock arithmetic.
    earliest, until = earliest.astimezone(dt.UTC), until.astimezone(dt.UTC)
    if start is not None:
        earliest = max(earliest, start.astimezone(dt.UTC))
    if end is not None:
        until = min(until, end.astimezone(dt.UTC))
    if until <= earliest:
        return []
    busy = busy_intervals(
        provider,
        earliest,
        until + dt.timedelta(minutes=hours.slot_minutes),
        patient=patient,
        exclude_appointment_id=exclude_appointment_id,
    )
    return free_slots(hours, busy=busy, earliest=earliest, until=until)


def offered_slot(
    provider: ProviderProfile,
    starts_at: dt.datetime,
    *,
    now: dt.datetime | None = None,
    by_provider: bool = False,
    exclude_appointment_id: object = None,
) -> Slot | None:
    """The free slot starting exactly at ``starts_at``, or None when it is not offered."""
    slots = available_slots(
        provider,
        now=now,
        by_provider=by_provider,
        exclude_appointment_id=exclude_appointment_id,
        start=starts_at,
        end=starts_at + dt.timedelta(seconds=1),
    )
    return next((slot for slot in slots if slot.starts_at == starts_at), None)


# --- A patient's appointments ----------------------------------------------------------


@dataclass(frozen=True)
class PatientAppointments:
    upcoming: list[Appointment]
    past: QuerySet[Appointment]


def appointments_of_patient(user: User, *, now: dt.datetime | None = None) -> PatientAppointments:
    """The patient's own upcoming (scheduled, not yet started) and past appointments.

    ``past`` is everything else, newest first, as a queryset for paging.
    """
    now = now or timezone.now()
    own = Appointment.objects.filter(patient__user=user).select_related("provider__user")
    upcoming_q = Q(status=AppointmentStatus.SCHEDULED, date_time__gte=now)
    return PatientAppointments(
        upcoming=list(own.filter(upcoming_q).order_by("date_time")),
        past=own.exclude(upcoming_q).order_by("-date_time", "-pk"),
    )


@dataclass(frozen=True)
class AppointmentLine:
    """One row of the patient's list: plain values, no model instances (three per
    row, with every column of the provider and their user, cost more than the page)."""

    pk: UUID
    date_time: dt.datetime
    created_at: dt.datetime
    duration_minutes: int
    type: str
    status: str
    reason: str
    provider_name: str
    # For pages shown outside a request (no viewer zone): the provider's, as `zoned` does.
    provider_zone: str


@dataclass(frozen=True)
class PatientAppointmentPage:
    upcoming: list[AppointmentLine]
    past: list[AppointmentLine]
    page: int
    has_older: bool


_LINE_FIELDS = (
    "pk",
    "date_time",
    "created_at",
    "duration_minutes",
    "type",
    "status",
    "reason",
    "provider__user__full_name",
    "provider__credentials",
    "provider__working_hours__timezone",
)


def _lines(rows: Iterable[tuple]) -> list[AppointmentLine]:
    return [
        AppointmentLine(
            pk=pk,
            date_time=date_time,
            created_at=created_at,
            duration_minutes=minutes,
            type=kind,
            status=status,
            reason=reason,
            # As ProviderProfile.display_name.
            provider_name=f"{name}, {credentials}" if credentials else name,
            provider_zone=zone if isinstance(zone, str) else "",
        )
        for (
            pk,
            date_time,
            created_at,
            minutes,
            kind,
            status,
            reason,
            name,
            credentials,
            zone,
        ) in rows
    ]


def patient_appointment_page(
    patient: PatientProfile, *, now: dt.datetime, page: int = 1, size: int = 20
) -> PatientAppointmentPage:
    """The patient's upcoming appointments (scheduled, not yet started; all of them,
    soonest first) and one page of the rest, newest first.

    Two queries, both on the (patient, date_time) index. The past page is a
    window (``size`` + 1 rows tell whether older ones exist), not a count of
    the whole history.
    """
    own = Appointment.objects.filter(patient=patient).values_list(*_LINE_FIELDS)
    upcoming_q = Q(status=AppointmentStatus.SCHEDULED, date_time__gte=now)
    page = max(page, 1)
    offset = (page - 1) * size
    past = _lines(own.exclude(upcoming_q).order_by("-date_time", "-pk")[offset : offset + size + 1])
    return PatientAppointmentPage(
        upcoming=_lines(own.filter(upcoming_q).order_by("date_time", "pk")),
        past=past[:size],
        page=page,
        has_older=len(past) > size,
    )


def appointment_for_patient(user: User, appointment_id: UUID) -> Appointment | None:
    """The user's own appointment as a patient, or None (the view answers 404)."""
    return (
        Appointment.objects.filter(patient__user=user, pk=appointment_id)
        .select_related("patient__user", "provider__user", "rescheduled_from")
        .defer(*PATIENT_SECRETS)
        .first()
    )


def appointment_for_provider(user: User, appointment_id: UUID) -> Appointment | None:
    """An appointment on this provider's own calendar, or None (the view answers 404)."""
    return (
        Appointment.objects.filter(provider__user=user, pk=appointment_id)
        .select_related("patient__user", "provider__user", "rescheduled_from")
        .defer(*PATIENT_SECRETS)
        .first()
    )


# --- The provider's calendar -------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    """One appointment on the provider's calendar: plain values, no model instances
    (a busy week is dozens, each with its patient and their user)."""

    pk: UUID
    date_time: dt.datetime
    duration_minutes: int
    status: str
    type: str
    reason: str
    patient_name: str

    @property
    def ends_at(self) -> dt.datetime:
        return self.date_time + dt.timedelta(minutes=self.duration_minutes)


@dataclass
class CalendarDay:
    day: dt.date
    appointments: list[CalendarEntry] = field(default_factory=list)
    time_off: list[ProviderTimeOff] = field(default_factory=list)


@dataclass(frozen=True)
class ProviderCalendar:
    tz: ZoneInfo
    first_day: dt.date
    days: list[CalendarDay]


def calendar_of_provider(
    provider: ProviderProfile, *, first_day: dt.date, days: int
) -> ProviderCalendar:
    """The provider's appointments (any status) and time off, day by day in their zone.

    Two queries whatever the number of appointments.
    """
    tz = provider_zone(provider)
    start, _ = local_day_bounds(first_day, tz)
    end, _ = local_day_bounds(first_day + dt.timedelta(days=days), tz)
    calendar = [CalendarDay(first_day + dt.timedelta(days=n)) for n in range(days)]
    rows = (
        Appointment.objects.filter(provider=provider, date_time__gte=start, date_time__lt=end)
        .order_by("date_time", "pk")
        .values_list(
            "pk",
            "date_time",
            "duration_minutes",
            "status",
            "type",
            "reason",
            "patient__user__full_name",
        )
    )
    for row in rows:
        entry = CalendarEntry(*row)
        index = (entry.date_time.astimezone(tz).date() - first_day).days
        calendar[index].appointments.append(entry)
    for block in ProviderTimeOff.objects.filter(
        provider=provider, starts_at__lt=end, ends_at__gt=start
    ).order_by("starts_at"):
        # A block of several days is shown on each day it covers.
        first = max(block.starts_at.astimezone(tz).date(), first_day)
        last = min(
            (block.ends_at - dt.timedelta(microseconds=1)).astimezone(tz).date(), calendar[-1].day
        )
        for n in range((first - first_day).days, (last - first_day).days + 1):
            calendar[n].time_off.append(block)
    return ProviderCalendar(tz=tz, first_day=first_day, days=calendar)


def upcoming_time_off(
    provider: ProviderProfile, *, now: dt.datetime | None = None
) -> list[ProviderTimeOff]:
    """The provider's time off that has not ended yet, soonest first."""
    return list(
        ProviderTimeOff.objects.filter(
            provider=provider, ends_at__gt=now or timezone.now()
        ).order_by("starts_at")
    )


def time_off_for_provider(user: User, time_off_id: UUID) -> ProviderTimeOff | None:
    return ProviderTimeOff.objects.filter(provider__user=user, pk=time_off_id).first()


def scheduled_during(provider: ProviderProfile, start: dt.datetime, end: dt.datetime) -> int:
    """How many scheduled appointments of the provider overlap [start, end)."""
    return sum(
        1
        for begins, minutes in Appointment.objects.filter(
            provider=provider,
            status=AppointmentStatus.SCHEDULED,
            date_time__lt=end,
            date_time__gt=start - dt.timedelta(minutes=MAX_DURATION_MINUTES),
        ).values_list("date_time", "duration_minutes")
        if begins + dt.timedelta(minutes=minutes) > start
    )


# --- Calendar feeds --------------------------------------------------------------------


def active_feed_token(user: User) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).first()


def feed_token_owner(token: str) -> CalendarFeedToken | None:
    """The unrevoked feed token whose secret is ``token``, with its user; else None."""
    if not token or len(token) > 128:
        return None
    return (
        CalendarFeedToken.objects.filter(
            token_hash=hash_feed_token(token), revoked_at__isnull=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )


def feed_appointments(user: User, *, now: dt.datetime | None = None) -> list[Appointment]:
    """What the patient's calendar feed carries: their appointments from a while ago on."""
    since = (now or timezone.now()) - dt.timedelta(days=conf.feed_past_days())
    return list(
        Appointment.objects.filter(patient__user=user, date_time__gte=since)
        .select_related("provider__user")
        .order_by("date_time")
    )
