from __future__ import annotations

from auditlog.registry import auditlog
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel


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
        _("status"), max_length=16, choices=PrescriptionStatus.choices, default=PrescriptionStatus.ACTIVE
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
            raise ValidationError({"end_date": _("The end date must be on or after the start date.")})
        if self.refills is not None and self.refills < 0:
            raise ValidationError({"refills": _("Refills cannot be negative.")})


auditlog.register(Prescription, serialize_data=True)
