from __future__ import annotations

from datetime import tzinfo as dt_tzinfo

from auditlog.registry import auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcare.db import TimestampedModel, UUIDModel
from patients.timezones import UTC, zone_named
from providers.working_hours import normalise_working_hours


def default_working_hours() -> dict:
    return {}


class ProviderProfile(TimestampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider_profile"
    )
    credentials = models.CharField(_("credentials"), max_length=100, blank=True)
    specialization = models.CharField(_("specialization"), max_length=100, blank=True)
    license_number = models.CharField(_("license number"), max_length=64, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    office_location = models.CharField(_("office location"), max_length=255, blank=True)
    # {"timezone": "America/New_York", "slot_minutes": 30,
    #  "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}}
    working_hours = models.JSONField(_("working hours"), default=default_working_hours, blank=True)

    class Meta:
        db_table = "provider_profiles"
        verbose_name = _("provider profile")
        ordering = ["user__full_name"]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        super().clean()
        # The scheduler builds bookable slots from these hours, so a malformed
        # schedule is refused here, whoever writes it (portal, admin, seed).
        try:
            self.working_hours = normalise_working_hours(self.working_hours)
        except ValidationError as exc:
            raise ValidationError({"working_hours": exc.messages}) from exc

    @property
    def full_name(self) -> str:
        return self.user.full_name

    @property
    def zone(self) -> dt_tzinfo:
        """The zone the provider works in (working_hours["timezone"]); UTC until it is set.

        The one answer to "whose clock is this appointment on" for every page.
        """
        hours = self.working_hours if isinstance(self.working_hours, dict) else {}
        return zone_named(hours.get("timezone")) or UTC

    @property
    def display_name(self) -> str:
        credentials = f", {self.credentials}" if self.credentials else ""
        return f"{self.user.full_name}{credentials}"


class RelationshipStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class ProviderPatient(TimestampedModel):
    """A care relationship: while active, the provider may see the patient's PHI."""

    provider = models.ForeignKey(
        ProviderProfile, on_delete=models.PROTECT, related_name="patient_links"
    )
    patient = models.ForeignKey(
        "patients.PatientProfile", on_delete=models.PROTECT, related_name="provider_links"
    )
    relationship_start_date = models.DateField(_("relationship start date"))
    status = models.CharField(
        _("status"), max_length=16, choices=RelationshipStatus.choices, default=RelationshipStatus.ACTIVE
    )

    class Meta:
        db_table = "provider_patients"
        verbose_name = _("provider–patient relationship")
        ordering = ["-relationship_start_date"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "patient"], name="provider_patients_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(status__in=RelationshipStatus.values),
                name="provider_patients_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} – {self.patient} ({self.status})"


class EmergencyLookupOutcome(models.TextChoices):
    NOT_FOUND = "not_found", _("no patient matched")
    AMBIGUOUS = "ambiguous", _("several patients matched")


class EmergencyLookupFailure(UUIDModel):
    """A break-the-glass search that opened no chart, kept for the review of emergency access.

    Repeated misses are how guessing a patient's date of birth looks. What was
    typed (a name, a date of birth) is not kept: it is PHI of whoever it names.
    """

    provider = models.ForeignKey(
        ProviderProfile, on_delete=models.PROTECT, related_name="emergency_lookup_failures"
    )
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=EmergencyLookupOutcome.choices)
    reason = models.TextField(_("reason given"), blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "emergency_lookup_failures"
        verbose_name = _("failed emergency lookup")
        verbose_name_plural = _("failed emergency lookups")
        ordering = ["-attempted_at"]
        indexes = [
            models.Index(fields=["provider", "attempted_at"], name="emergency_lookup_fail_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=EmergencyLookupOutcome.values),
                name="emergency_lookup_failures_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} – {self.get_outcome_display()} ({self.attempted_at:%Y-%m-%d})"


auditlog.register(ProviderProfile, serialize_data=True)
auditlog.register(ProviderPatient, serialize_data=True)
