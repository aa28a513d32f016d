from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel, UUIDModel
from patients.crypto import StrictEncryptedCharField
from patients.ssn import mask_ssn


class PatientProfile(TimestampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patient_profile"
    )
    insurance_number = models.CharField(_("insurance number"), max_length=64, blank=True)
    # Stored as a Fernet token; empty string when the patient has not given one.
    ssn = StrictEncryptedCharField(_("SSN"), max_length=11, blank=True)
    # HMAC of the canonical SSN, so duplicates can be found without decrypting.
    ssn_hash = models.CharField(max_length=64, blank=True, editable=False)
    date_of_birth = models.DateField(_("date of birth"))
    address = models.CharField(_("address"), max_length=500, blank=True)
    emergency_contact = models.CharField(_("emergency contact"), max_length=200, blank=True)
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"), max_length=32, blank=True
    )

    class Meta:
        db_table = "patient_profiles"
        verbose_name = _("patient profile")
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ssn_hash"],
                condition=~models.Q(ssn_hash=""),
                name="patient_profiles_ssn_hash_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.user.full_name

    @property
    def ssn_masked(self) -> str:
        return mask_ssn(self.ssn)

    @property
    def full_name(self) -> str:
        return self.user.full_name


# The SSN and its hash never enter the audit trail, not even in the serialized row.
auditlog.register(
    PatientProfile,
    exclude_fields=["ssn", "ssn_hash"],
    serialize_data=True,
    serialize_auditlog_fields_only=True,
)


class PHIResource(models.TextChoices):
    """What was opened, as written to PHIAccess.resource and shown in "who viewed my record".

    Not enforced as the field's choices (no migration, and older rows keep any
    value); an unknown value is shown as it was written.
    """

    PROFILE = "patient_profile", _("Profile and contact details")
    CHART = "chart", _("Your chart (health record)")
    MEDICAL_RECORD = "medical_record", _("Visit record")
    PRESCRIPTION = "prescription", _("Prescription")
    APPOINTMENT = "appointment", _("Appointment")
    MESSAGES = "messages", _("Messages")
    REFILLS = "refills", _("Refill requests")
    ASSISTANT = "assistant", _("Assistant conversations")


class PHIAccess(UUIDModel):
    """One opening of a patient's PHI by someone other than the patient (HIPAA access log)."""

    accessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="phi_accesses"
    )
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="phi_accesses")
    resource = models.CharField(_("what"), max_length=64)
    object_id = models.CharField(_("object"), max_length=64, blank=True)
    accessed_at = models.DateTimeField(_("when"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    emergency = models.BooleanField(_("emergency access"), default=False)

    class Meta:
        db_table = "phi_access_log"
        verbose_name = _("PHI access")
        verbose_name_plural = _("PHI access log")
        ordering = ["-accessed_at"]
        indexes = [
            models.Index(fields=["patient", "accessed_at"], name="phi_access_patient_at_idx"),
            models.Index(fields=["accessor", "accessed_at"], name="phi_access_accessor_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.accessed_at:%Y-%m-%d %H:%M} {self.accessor} opened {self.resource} of {self.patient}"

    @property
    def resource_label(self) -> str:
        """What was opened, in words a patient understands."""
        if self.resource in PHIResource.values:
            return str(PHIResource(self.resource).label)
        return self.resource.replace("_", " ").replace("-", " ").capitalize()


class EmergencyAccess(UUIDModel):
    """Break-the-glass: a provider without a care relationship opens a chart for a stated reason."""

    provider = models.ForeignKey(
        "providers.ProviderProfile", on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    reason = models.TextField(_("reason"))
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "emergency_access"
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        ordering = ["-granted_at"]
        indexes = [
            models.Index(fields=["provider", "patient", "expires_at"], name="emergency_access_lookup_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("granted_at")),
                name="emergency_access_expires_after_grant",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="emergency_access_reason_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} → {self.patient} at {self.granted_at:%Y-%m-%d %H:%M}"


auditlog.register(EmergencyAccess, serialize_data=True)
