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
    # IANA name ("America/Chicago") of the zone the patient reads times in; blank
    # means the practice's (PORTAL_TIME_ZONE). Guessed from the browser at sign-up.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta:
        db_table = "patient_profiles"
        verbose_name = _("patient profile")
        ordering = ["user__full_name"]
        indexes = [
            # Not unique: a number typed by a second person is kept and the pair is
            # flagged for staff (PossibleDuplicate), so the typist learns nothing.
            models.Index(
                fields=["ssn_hash"],
                condition=~models.Q(ssn_hash=""),
                name="patient_profiles_ssn_hash_idx",
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


class DuplicateSource(models.TextChoices):
    REGISTRATION = "registration", _("Registration")
    PROFILE = "profile", _("Patient's own profile")
    STAFF = "staff", _("Staff")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    NOT_DUPLICATE = "not_duplicate", _("Not a duplicate")
    RESOLVED = "resolved", _("Resolved")


class PossibleDuplicate(UUIDModel):
    """Two patient profiles that hold the same SSN, for staff to review side by side.

    Refusing the number would tell whoever typed it that it belongs to someone
    else, so it is kept and the pair is recorded here; the patient sees the
    same success either way.
    """

    patient = models.ForeignKey(
        PatientProfile,
        on_delete=models.PROTECT,
        related_name="duplicate_flags",
        verbose_name=_("profile that entered the number"),
    )
    existing = models.ForeignKey(
        PatientProfile,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("profile that already had it"),
    )
    source = models.CharField(_("entered at"), max_length=16, choices=DuplicateSource.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        db_table = "patient_possible_duplicates"
        verbose_name = _("possible duplicate patient")
        verbose_name_plural = _("possible duplicate patients")
        ordering = ["-detected_at"]
        indexes = [models.Index(fields=["status", "detected_at"], name="possible_dup_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(patient=models.F("existing")), name="possible_dup_two_profiles"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DuplicateStatus.values), name="possible_dup_status_valid"
            ),
            # One open review per pair, however often the number is typed again.
            models.UniqueConstraint(
                fields=["patient", "existing"],
                condition=models.Q(status="open"),
                name="possible_dup_one_open_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} / {self.existing}"


auditlog.register(PossibleDuplicate, serialize_data=True)
