from __future__ import annotations

from datetime import datetime, timedelta

from auditlog.registry import auditlog
from django.db import models
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no-show", _("No-show")


class AppointmentType(models.TextChoices):
    REGULAR = "regular", _("Regular")
    FOLLOW_UP = "follow-up", _("Follow-up")
    EMERGENCY = "emergency", _("Emergency")


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
        _("status"), max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED
    )
    type = models.CharField(
        _("type"), max_length=16, choices=AppointmentType.choices, default=AppointmentType.REGULAR
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        db_table = "appointments"
        verbose_name = _("appointment")
        ordering = ["date_time"]
        indexes = [
            models.Index(fields=["patient", "date_time"], name="appointments_patient_dt_idx"),
            models.Index(fields=["provider", "date_time"], name="appointments_provider_dt_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0), name="appointments_duration_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AppointmentStatus.values),
                name="appointments_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=AppointmentType.values), name="appointments_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date_time:%Y-%m-%d %H:%M} {self.patient} with {self.provider}"

    @property
    def ends_at(self) -> datetime:
        return self.date_time + timedelta(minutes=self.duration_minutes)


auditlog.register(Appointment, serialize_data=True)
