"""Writes to appointments, time off and calendar feeds.

Overlaps are refused twice. The services check the time is free before they
write, which gives the user a precise message; on SQLite that check cannot
race, because the connection's transactions are IMMEDIATE (the write lock is
held from BEGIN, so bookings queue one behind the other). On PostgreSQL two
bookings may pass the check together, so exclusion constraints (migration
0003) refuse the second insert; that refusal, or the `deadlock detected` that
PostgreSQL sometimes reports instead under a race, becomes SlotUnavailable.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from patients.models import PatientProfile
from patients.policy import has_care_relationship
from providers.models import ProviderProfile
from providers.services import relationship_activate
from scheduling import conf, emails
from scheduling.db import is_overlap_refusal, is_patient_overlap
from scheduling.exceptions import (
    CutoffPassed,
    InvalidTransition,
    NotAllowed,
    PatientDoubleBooked,
    SlotUnavailable,
)
from scheduling.models import (
    MAX_DURATION_MINUTES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    CalendarFeedToken,
    ProviderTimeOff,
    hash_feed_token,
)
from scheduling.selectors import busy_intervals, offered_slot, provider_hours, provider_zone

logger = logging.getLogger(__name__)

PATIENT_TYPES = frozenset({AppointmentType.REGULAR, AppointmentType.FOLLOW_UP})
# A walk-in emergency may be entered a little after it began.
EMERGENCY_BACKDATE = dt.timedelta(hours=1)
RESCHEDULED = "Rescheduled"
PATIENT, PROVIDER = "patient", "provider"


@transaction.atomic
def appointment_create(
    *,
    patient: PatientProfile,
    provider: ProviderProfile,
    date_time: dt.datetime,
    duration_minutes: int = 30,
    type: AppointmentType | str = AppointmentType.REGULAR,  # noqa: A002 - the seed's column name
    reason: str = "",
    notes: str = "",
    status: AppointmentStatus | str = AppointmentStatus.SCHEDULED,
) -> Appointment:
    """Store an appointment as given, after validating the row (demo data, imports, tests).

    No working hours, lead time or overlap checks beyond the database's own;
    people book through appointment_book and appointment_book_for_patient.
    """
    appointment = Appointment(
        patient=patient,
        provider=provider,
        date_time=date_time,
        duration_minutes=duration_minutes,
        type=type,
        reason=reason.strip(),
        notes=notes.strip(),
        status=status,
    )
    appointment.full_clean()
    _insert(appointment)
    return appointment


# --- Booking -------------------------------------------------------------------------


@transaction.atomic
def appointment_book(
    *,
    patient: PatientProfile,
    provider: ProviderProfile,
    starts_at: dt.datetime,
    booked_by: User,
    type: AppointmentType | str = AppointmentType.REGULAR,  # noqa: A002 - the seed's column name
    reason: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """A patient books one of the provider's offered slots for themselves.

    The slot must be offered right now (working hours, not taken, not in time
    off, past the minimum lead time, within the horizon). Booking makes or
    reactivates the care relationship and emails a confirmation after commit.
    Raises NotAllowed, SlotUnavailable or PatientDoubleBooked.
    """
    now = now or timezone.now()
    # UTC: minutes added to a zoned datetime would count on the wall clock.
    starts_at = starts_at.astimezone(dt.UTC)
    if booked_by.pk != patient.user_id:
        raise NotAllowed
    if type not in PATIENT_TYPES:
        raise NotAllowed(
            _("Emergency appointments are booked by the practice. In an emergency call 911.")
        )
    slot = offered_slot(provider, starts_at, now=now)
    if slot is None:
        raise SlotUnavailable
    _ensure_patient_free(patient, slot.starts_at, slot.ends_at)
    appointment = _insert(
        Appointment(
            patient=patient,
            provider=provider,
            date_time=slot.starts_at,
            duration_minutes=slot.minutes,
            type=type,
            reason=_clean_reason(reason),
        )
    )
    relationship_activate(provider=provider, patient=patient)
    emails.send_booked(appointment)
    return appointment


@transaction.atomic
def appointment_book_for_patient(
    *,
    provider: ProviderProfile,
    patient: PatientProfile,
    starts_at: dt.datetime,
    booked_by: User,
    type: AppointmentType | str = AppointmentType.REGULAR,  # noqa: A002 - the seed's column name
    reason: str = "",
    duration_minutes: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """A provider books for a patient in their care.

    Regular and follow-up visits take one of the provider's free slots (no
    minimum lead time, never in the past). An emergency may be squeezed in at
    any start time and length, outside working hours or time off too, as long
    as neither the provider nor the patient has an appointment then.
    """
    now = now or timezone.now()
    # UTC: minutes added to a zoned datetime would count on the wall clock.
    starts_at = starts_at.astimezone(dt.UTC)
    if booked_by.pk != provider.user_id:
        raise NotAllowed
    if not has_care_relationship(booked_by, patient):
        raise NotAllowed(_("You can only book for patients in your care."))
    if type == AppointmentType.EMERGENCY:
        hours = provider_hours(provider)
        minutes = duration_minutes or (hours.slot_minutes if hours else 30)
        if not 0 < minutes <= MAX_DURATION_MINUTES:
            raise ValidationError(
                {"duration_minutes": _("Give a length between 1 minute and 24 hours.")}
            )
        if starts_at < now - EMERGENCY_BACKDATE:
            raise SlotUnavailable(_("An emergency appointment cannot start more than an hour ago."))
        ends_at = starts_at + dt.timedelta(minutes=minutes)
        if _overlaps(
            busy_intervals(provider, starts_at, ends_at, include_time_off=False), starts_at, ends_at
        ):
            raise SlotUnavailable(_("You already have an appointment at that time."))
    elif type in PATIENT_TYPES:
        slot = offered_slot(provider, starts_at, now=now, by_provider=True)
        if slot is None:
            raise SlotUnavailable
        starts_at, minutes = slot.starts_at, slot.minutes
    else:
        raise ValidationError({"type": _("Choose a valid appointment type.")})
    _ensure_patient_free(patient, starts_at, starts_at + dt.timedelta(minutes=minutes))
    appointment = _insert(
        Appointment(
            patient=patient,
            provider=provider,
            date_time=starts_at,
            duration_minutes=minutes,
            type=type,
            reason=_clean_reason(reason),
        )
    )
    relationship_activate(provider=provider, patient=patient)
    emails.send_booked(appointment)
    return appointment


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    by: User,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move a scheduled appointment to another free slot, in one atomic step.

    The old appointment is cancelled ("Rescheduled") and a new one, linked to
    it, takes the new slot, in one transaction: nobody else sees the old slot
    free until the new one is held, and when the new slot cannot be had the
    rollback leaves the old appointment exactly as it was. Patients must do it
    before the cut-off; providers may at any time. Returns the new appointment.
    """
    now = now or timezone.now()
    # UTC: minutes added to a zoned datetime would count on the wall clock.
    starts_at = starts_at.astimezone(dt.UTC)
    appointment = _locked(appointment)
    role = _role_of(appointment, by)
    if not appointment.can_become(AppointmentStatus.CANCELLED):
        raise InvalidTransition
    if role == PATIENT:
        _ensure_before_cutoff(appointment, now)
    slot = offered_slot(
        appointment.provider,
        starts_at,
        now=now,
        by_provider=role == PROVIDER,
        exclude_appointment_id=appointment.pk,
    )
    if slot is None:
        raise SlotUnavailable
    _ensure_patient_free(appointment.patient, slot.starts_at, slot.ends_at, exclude=appointment.pk)
    _set_cancelled(appointment, reason=RESCHEDULED, now=now)
    moved = _insert(
        Appointment(
            patient=appointment.patient,
            provider=appointment.provider,
            date_time=slot.starts_at,
            duration_minutes=slot.minutes,
            type=appointment.type,
            reason=appointment.reason,
            notes=appointment.notes,
            rescheduled_from=appointment,
        )
    )
    emails.send_rescheduled(moved, previous=appointment)
    return moved


# --- Status changes ------------------------------------------------------------------


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment,
    by: User,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Cancel a scheduled appointment; its slot is offered again at once.

    Patients may cancel until the cut-off before the start; providers at any
    time, giving a reason. The patient is emailed after commit.
    """
    now = now or timezone.now()
    appointment = _locked(appointment)
    role = _role_of(appointment, by)
    if not appointment.can_become(AppointmentStatus.CANCELLED):
        raise InvalidTransition
    reason = " ".join(reason.split())
    if role == PATIENT:
        _ensure_before_cutoff(appointment, now)
    elif not reason:
        raise ValidationError({"reason": _("Tell the patient why the appointment is cancelled.")})
    _set_cancelled(appointment, reason=reason[:255], now=now)
    emails.send_cancelled(appointment, by_provider=role == PROVIDER)
    return appointment


@transaction.atomic
def appointment_set_outcome(
    *,
    appointment: Appointment,
    status: AppointmentStatus | str,
    by: User,
    now: dt.datetime | None = None,
) -> Appointment:
    """The provider marks a scheduled appointment completed or no-show (final states).

    Completed from the appointment's own day on (a patient may be seen
    early); no-show only once it has started.
    """
    now = now or timezone.now()
    appointment = _locked(appointment)
    if _role_of(appointment, by) != PROVIDER:
        raise NotAllowed
    if status not in {AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW}:
        raise InvalidTransition
    if not appointment.can_become(status):
        raise InvalidTransition
    tz = provider_zone(appointment.provider)
    if (
        status == AppointmentStatus.COMPLETED
        and appointment.date_time.astimezone(tz).date() > now.astimezone(tz).date()
    ):
        raise NotAllowed(_("An appointment can be marked completed from its day on."))
    if status == AppointmentStatus.NO_SHOW and appointment.date_time > now:
        raise NotAllowed(_("A patient can only miss an appointment once it has started."))
    appointment.status = status
    appointment.save(update_fields=["status", "updated_at"])
    return appointment


@transaction.atomic
def appointment_update_notes(*, appointment: Appointment, notes: str, by: User) -> Appointment:
    """The provider writes the appointment's notes (in any status: notes often come after)."""
    appointment = _locked(appointment)
    if _role_of(appointment, by) != PROVIDER:
        raise NotAllowed
    appointment.notes = notes.strip()
    appointment.save(update_fields=["notes", "updated_at"])
    return appointment


# --- Time off ------------------------------------------------------------------------


@transaction.atomic
def time_off_create(
    *,
    provider: ProviderProfile,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    by: User,
    reason: str = "",
) -> ProviderTimeOff:
    """Block time in the provider's calendar; its slots disappear for patients at once.

    Appointments already booked in that time stay; the page tells the
    provider how many there are so they can move them.
    """
    if by.pk != provider.user_id:
        raise NotAllowed
    block = ProviderTimeOff(
        provider=provider, starts_at=starts_at, ends_at=ends_at, reason=" ".join(reason.split())
    )
    block.full_clean(exclude=["provider"])
    block.save()
    return block


@transaction.atomic
def time_off_delete(*, time_off: ProviderTimeOff, by: User) -> None:
    """Give the time back: its slots are offered again."""
    if by.pk != time_off.provider.user_id:
        raise NotAllowed
    time_off.delete()


# --- Calendar feeds ------------------------------------------------------------------


@transaction.atomic
def calendar_feed_token_create(*, user: User) -> tuple[CalendarFeedToken, str]:
    """A new private feed address for the user; any older one stops working.

    Returns the token row and the secret, which is shown once and only its
    hash is kept.
    """
    if not user.is_patient:
        raise NotAllowed
    calendar_feed_token_revoke(user=user)
    secret = secrets.token_urlsafe(32)
    token = CalendarFeedToken.objects.create(user=user, token_hash=hash_feed_token(secret))
    return token, secret


@transaction.atomic
def calendar_feed_token_revoke(*, user: User) -> int:
    """Revoke the user's feed addresses; calendars subscribed to them get nothing more."""
    revoked = 0
    for token in CalendarFeedToken.objects.select_for_update().filter(
        user=user, revoked_at__isnull=True
    ):
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        revoked += 1
    return revoked


def calendar_feed_token_touch(*, token: CalendarFeedToken, now: dt.datetime | None = None) -> None:
    """Note when the feed was last fetched, at most once an hour (calendars poll often)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(hours=1):
        CalendarFeedToken.objects.filter(pk=token.pk).update(last_used_at=now)


# --- Reminders -----------------------------------------------------------------------


def appointment_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Email every patient whose appointment starts within the reminder time (24 h).

    Runs in the task worker every 15 minutes (and as `send_appointment_reminders`).
    Each reminder goes through three steps, each its own commit:

    1. claim: a conditional UPDATE sets reminder_claimed_at, so two runs at once
       (a second worker, an operator's manual run) never send the same reminder;
    2. send, over SMTP: nothing can commit together with a mail server's answer;
    3. mark sent (reminder_sent_at), conditional on still holding the claim.

    A worker killed between 1 and 3 leaves a claim without a sent mark. A run
    after SCHEDULING_REMINDER_CLAIM_SECONDS treats that claim as abandoned and
    sends again: at-least-once. The other choice, never re-sending a claimed
    reminder, is at-most-once and loses a reminder on every crash; a lost
    reminder costs a missed visit, a second copy costs nothing. The duplicate
    window is only the time between the server's "250 OK" and the mark (one
    round-trip); a worker killed between two messages sends each exactly once.
    A failed send gives its claim back at once and raises, so the run shows as
    failed in the admin and the next run tries again.
    Returns how many reminders were sent.
    """
    now = now or timezone.now()
    # Claims age in real time, whatever `now` the caller asks about.
    abandoned = timezone.now() - conf.reminder_claim_timeout()
    unclaimed = Q(reminder_claimed_at__isnull=True) | Q(reminder_claimed_at__lt=abandoned)
    due = list(
        Appointment.objects.filter(
            unclaimed,
            status=AppointmentStatus.SCHEDULED,
            reminder_sent_at__isnull=True,
            date_time__gt=now,
            date_time__lte=now + conf.reminder_ahead(),
        )
        .order_by("date_time")
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in due:
        # The claim's time is also its token: a later claim of an abandoned one differs.
        claim = timezone.now()
        claimed = Appointment.objects.filter(
            unclaimed, pk=pk, status=AppointmentStatus.SCHEDULED, reminder_sent_at__isnull=True
        ).update(reminder_claimed_at=claim)
        if not claimed:
            continue
        appointment = Appointment.objects.select_related("patient__user", "provider__user").get(
            pk=pk
        )
        try:
            emails.send_reminder(appointment)
        except Exception:
            logger.exception(
                "Reminder for appointment %s could not be sent; it will be retried.", pk
            )
            Appointment.objects.filter(pk=pk, reminder_claimed_at=claim).update(
                reminder_claimed_at=None
            )
            raise
        Appointment.objects.filter(pk=pk, reminder_claimed_at=claim).update(reminder_sent_at=now)
        sent += 1
    return sent


# --- Helpers -------------------------------------------------------------------------


def _insert(appointment: Appointment) -> Appointment:
    try:
        # A savepoint: on PostgreSQL the refusal of an overlap arrives here.
        with transaction.atomic():
            appointment.save(force_insert=True)
    except IntegrityError as exc:
        if is_patient_overlap(exc):
            raise PatientDoubleBooked from exc
        if is_overlap_refusal(exc):
            raise SlotUnavailable from exc
        raise
    except DatabaseError as exc:
        if is_overlap_refusal(exc):
            # `deadlock detected`: another booking of the same time won the race.
            logger.info("Booking of provider %s lost a race (%s)", appointment.provider_id, exc)
            raise SlotUnavailable from exc
        raise
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    """The appointment re-read under a row lock, so two changes of it queue."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "provider")
        .defer("patient__ssn", "patient__ssn_hash")
        .get(pk=appointment.pk)
    )


def _role_of(appointment: Appointment, user: User) -> str:
    if user.is_patient and appointment.patient.user_id == user.pk:
        return PATIENT
    if user.is_provider and appointment.provider.user_id == user.pk:
        return PROVIDER
    raise NotAllowed


def _ensure_before_cutoff(appointment: Appointment, now: dt.datetime) -> None:
    if not appointment.changeable_online(now):
        hours = int(conf.cancel_cutoff().total_seconds() // 3600)
        raise CutoffPassed(
            _(
                "Appointments can be changed online until %(hours)d hours before they start. "
                "Please call the practice."
            )
            % {"hours": hours}
        )


def _overlaps(
    busy: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime
) -> bool:
    return any(b_start < end and b_end > start for b_start, b_end in busy)


def _ensure_patient_free(
    patient: PatientProfile, start: dt.datetime, end: dt.datetime, *, exclude: object = None
) -> None:
    appointments = Appointment.objects.filter(
        patient=patient,
        status=AppointmentStatus.SCHEDULED,
        date_time__lt=end,
        date_time__gt=start - dt.timedelta(minutes=MAX_DURATION_MINUTES),
    )
    if exclude is not None:
        appointments = appointments.exclude(pk=exclude)
    for begins, minutes in appointments.values_list("date_time", "duration_minutes"):
        if begins + dt.timedelta(minutes=minutes) > start:
            raise PatientDoubleBooked


def _set_cancelled(appointment: Appointment, *, reason: str, now: dt.datetime) -> None:
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancellation_reason = reason
    appointment.cancelled_at = now
    appointment.save(update_fields=["status", "cancellation_reason", "cancelled_at", "updated_at"])


def _clean_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) > 255:
        raise ValidationError({"reason": _("Keep the reason under 255 characters.")})
    return reason
