from __future__ import annotations

import datetime as dt

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel
from patients.timezones import zone_of


class PrescriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Prescription(TimestampedModel):
    patient = models.ForeignKey(
        "patients.PatientProfile", on_delete=models.PROTECT, related_name="prescriptions"
    )
    provider = models.ForeignKey(
        "providers.ProviderProfile", on_delete=models.PROTECT, related_name="prescriptions"
    )
    medical_record = models.ForeignKey(
        "records.MedicalRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prescriptions",
    )
    medication_name = models.CharField(_("medication"), max_length=200)
    dosage = models.CharField(_("dosage"), max_length=100)
    frequency = models.CharField(_("frequency"), max_length=100)
    duration = models.CharField(_("duration"), max_length=100, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    refills = models.IntegerField(_("refills"), default=0)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PrescriptionStatus.choices,
        default=PrescriptionStatus.ACTIVE,
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        db_table = "prescriptions"
        verbose_name = _("prescription")
        ordering = ["-start_date"]
        indexes = [
            models.Index(fields=["patient", "status"], name="prescriptions_patient_st_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refills__gte=0), name="prescriptions_refills_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="prescriptions_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PrescriptionStatus.values),
                name="prescriptions_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medication_name} {self.dosage} for {self.patient}"

    def clean(self) -> None:
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError(
                {"end_date": _("The end date must be on or after the start date.")}
            )
        if self.refills is not None and self.refills < 0:
            raise ValidationError({"refills": _("Refills cannot be negative.")})

    def today(self) -> dt.date:
        """Today where the prescriber works: a course ends at the end of its last local day."""
        return prescriber_today(self.provider)

    def has_ended(self, today: dt.date | None = None) -> bool:
        return self.end_date < (today or self.today())

    @property
    def shown_status(self) -> str:
        """The status a reader sees: an active prescription past its end date is completed.

        The stored status catches up when `manage.py expire_prescriptions` runs.
        """
        return status_shown(self.status, ended=self.has_ended())

    @property
    def shown_status_label(self) -> str:
        return str(PrescriptionStatus(self.shown_status).label)

    @property
    def is_current(self) -> bool:
        """Active and not past its end date: it may be refilled, cancelled or completed."""
        return self.shown_status == PrescriptionStatus.ACTIVE


def status_shown(status: str, *, ended: bool) -> str:
    """The status a reader sees of a prescription with this stored status (`ended`: past its
    end date on the prescriber's calendar): for lists read as plain values, as `shown_status`."""
    if status == PrescriptionStatus.ACTIVE and ended:
        return PrescriptionStatus.COMPLETED
    return status


def prescriber_today(provider: object) -> dt.date:
    """The calendar day in the provider's zone (UTC when they have not set one)."""
    return timezone.now().astimezone(zone_of(provider)).date()


class RefillStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    # Approved by writing a new prescription, because no refills were left or the course had ended.
    RENEWED = "renewed", _("Approved by renewal")


class RefillRequest(TimestampedModel):
    """A patient's request for one more fill of a prescription, and the provider's decision."""

    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="refill_requests"
    )
    # The prescription's patient, kept on the row so the access policy filters it directly.
    patient = models.ForeignKey(
        "patients.PatientProfile", on_delete=models.PROTECT, related_name="refill_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="refill_requests_made"
    )
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RefillStatus.choices, default=RefillStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refill_decisions",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    renewal = models.ForeignKey(
        Prescription,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renews_requests",
        verbose_name=_("renewed as"),
    )

    class Meta:
        db_table = "refill_requests"
        verbose_name = _("refill request")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["patient", "created_at"], name="refill_requests_patient_idx"),
            # The providers' queue: pending requests, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="refill_requests_pending_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RefillStatus.values),
                name="refill_requests_status_valid",
            ),
            # One open request per prescription: a second is refused even under a race.
            models.UniqueConstraint(
                fields=["prescription"],
                condition=models.Q(status="pending"),
                name="refill_requests_one_pending_per_prescription",
            ),
            # A decision says who and when; a pending request has neither.
            models.CheckConstraint(
                condition=(
                    models.Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                    | (
                        ~models.Q(status="pending")
                        & models.Q(decided_by__isnull=False, decided_at__isnull=False)
                    )
                ),
                name="refill_requests_decision_complete",
            ),
            # The patient is told why a request was denied.
            models.CheckConstraint(
                condition=~models.Q(status="denied") | ~models.Q(decision_reason=""),
                name="refill_requests_denial_has_reason",
            ),
            # A renewal names the new prescription; nothing else does.
            models.CheckConstraint(
                condition=(
                    models.Q(status="renewed", renewal__isnull=False)
                    | (~models.Q(status="renewed") & models.Q(renewal__isnull=True))
                ),
                name="refill_requests_renewal_iff_renewed",
            ),
        ]

    def __str__(self) -> str:
        return f"Refill of {self.prescription} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == RefillStatus.PENDING


auditlog.register(Prescription, serialize_data=True)
auditlog.register(RefillRequest, serialize_data=True)
