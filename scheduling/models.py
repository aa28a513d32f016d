from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel
from scheduling import conf

# Longer appointments are refused; slot search looks back this far for overlaps.
MAX_DURATION_MINUTES = 24 * 60


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no-show", _("No-show")


# scheduled → completed / cancelled / no-show; nothing returns from a final state.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.SCHEDULED: frozenset(
        {AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW}
    ),
    AppointmentStatus.COMPLETED: frozenset(),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
}


class AppointmentType(models.TextChoices):
    REGULAR = "regular", _("Regular")
    FOLLOW_UP = "follow-up", _("Follow-up")
    EMERGENCY = "emergency", _("Emergency")


# What a calendar shows of an appointment besides who and where; a change to
# any of them makes calendar apps replace their copy (Appointment.sequence).
CALENDAR_FIELDS = ("date_time", "duration_minutes", "status")


class Appointment(TimestampedModel):
    patient = models.ForeignKey(
        "patients.PatientProfile", on_delete=models.PROTECT, related_name="appointments"
    )
    provider = models.ForeignKey(
        "providers.ProviderProfile", on_delete=models.PROTECT, related_name="appointments"
    )
    date_time = models.DateTimeField(_("date and time"))
    duration_minutes = models.IntegerField(_("duration (minutes)"), default=30)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.SCHEDULED,
    )
    type = models.CharField(
        _("type"), max_length=16, choices=AppointmentType.choices, default=AppointmentType.REGULAR
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Columns beyond the seed's.
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=255, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # The reminder job claims an appointment before it talks to the mail server and
    # marks it sent right after; see appointment_reminders_send for why both are needed.
    reminder_claimed_at = models.DateTimeField(_("reminder claimed at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    rescheduled_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rescheduled_to",
        verbose_name=_("rescheduled from"),
    )
    # iCalendar SEQUENCE: 0 when booked, one more at each change a calendar shows
    # (time, length, status), so calendar apps replace the copy they hold.
    sequence = models.PositiveIntegerField(_("calendar revision"), default=0, editable=False)

    class Meta:
        db_table = "appointments"
        verbose_name = _("appointment")
        ordering = ["date_time"]
        indexes = [
            models.Index(fields=["patient", "date_time"], name="appointments_patient_dt_idx"),
            models.Index(fields=["provider", "date_time"], name="appointments_provider_dt_idx"),
            # The reminder run scans the next day of scheduled appointments of everyone.
            models.Index(
                fields=["date_time"],
                condition=models.Q(status="scheduled"),
                name="appointments_scheduled_dt_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0), name="appointments_duration_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__lte=MAX_DURATION_MINUTES),
                name="appointments_duration_at_most_a_day",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AppointmentStatus.values),
                name="appointments_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=AppointmentType.values), name="appointments_type_valid"
            ),
        ]
        # On PostgreSQL two exclusion constraints (migration 0003) refuse overlapping
        # scheduled appointments of one provider or of one patient.

    def __str__(self) -> str:
        return f"{self.date_time:%Y-%m-%d %H:%M} {self.patient} with {self.provider}"

    @property
    def ends_at(self) -> datetime:
        return self.date_time + timedelta(minutes=self.duration_minutes)

    @property
    def is_scheduled(self) -> bool:
        return self.status == AppointmentStatus.SCHEDULED

    def changeable_online(self, now: datetime) -> bool:
        """Whether the patient may still move or cancel it themselves: until the cut-off
        before the start, or in the first minutes after booking whatever the cut-off."""
        if not self.is_scheduled:
            return False
        if self.date_time - now >= conf.cancel_cutoff():
            return True
        if self.created_at is None:
            return False
        return timedelta(0) <= now - self.created_at <= conf.change_grace()

    def can_become(self, status: str) -> bool:
        return status in ALLOWED_TRANSITIONS.get(self.status, frozenset())

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Appointment:
        instance = super().from_db(db, field_names, values)
        instance._calendar_loaded = instance._calendar_values()
        return instance

    def _calendar_values(self) -> dict[str, object]:
        # Only fields actually loaded: a deferred one is not a change.
        return {name: self.__dict__[name] for name in CALENDAR_FIELDS if name in self.__dict__}

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Counts calendar-visible changes in `sequence`, whichever code path saves them."""
        loaded: dict[str, object] | None = getattr(self, "_calendar_loaded", None)
        update_fields = kwargs.get("update_fields")
        if (
            loaded is not None
            and not self._state.adding
            and (update_fields is None or set(update_fields) & set(CALENDAR_FIELDS))
            and any(self.__dict__.get(name) != value for name, value in loaded.items())
        ):
            self.sequence += 1
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "sequence"}
        super().save(*args, **kwargs)
        self._calendar_loaded = self._calendar_values()


class ProviderTimeOff(TimestampedModel):
    """A block of time (holiday, meeting) in which the provider offers no slots."""

    provider = models.ForeignKey(
        "providers.ProviderProfile", on_delete=models.PROTECT, related_name="time_off"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        db_table = "provider_time_off"
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["provider", "starts_at"], name="time_off_provider_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="time_off_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("Time off must end after it starts.")})


def hash_feed_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeedToken(TimestampedModel):
    """The secret in a private calendar feed URL. Only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calendar_feed_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        db_table = "calendar_feed_tokens"
        verbose_name = _("calendar feed token")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="feed_tokens_user_idx"),
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"Calendar feed of {self.user} ({state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


auditlog.register(Appointment, serialize_data=True)
auditlog.register(ProviderTimeOff, serialize_data=True)
# The hash is a credential in all but name: it stays out of the audit trail.
auditlog.register(
    CalendarFeedToken, exclude_fields=["token_hash", "last_used_at"], serialize_data=True
)
