from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel
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
