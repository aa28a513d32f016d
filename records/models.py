from __future__ import annotations

from auditlog.registry import auditlog
from django.db import models
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel


class MedicalRecord(TimestampedModel):
    patient = models.ForeignKey(
        "patients.PatientProfile", on_delete=models.PROTECT, related_name="medical_records"
    )
    provider = models.ForeignKey(
        "providers.ProviderProfile", on_delete=models.PROTECT, related_name="medical_records"
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="medical_records",
    )
    record_date = models.DateField(_("record date"))
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    symptoms = models.TextField(_("symptoms"), blank=True)
    treatment = models.TextField(_("treatment"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        db_table = "medical_records"
        verbose_name = _("medical record")
        ordering = ["-record_date", "-created_at"]
        indexes = [
            models.Index(fields=["patient", "record_date"], name="medical_records_pat_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record_date} {self.patient}: {self.diagnosis[:40]}"


auditlog.register(MedicalRecord, serialize_data=True)
