"""Writes to prescriptions and refill requests.

`prescription_create` stores a prescription as given (demo data, imports).
Portal pages and the assistant use the services below it, which check who may
act: the patient asks for refills of their own prescriptions; providers in an
active care relationship with the patient prescribe, cancel, complete and
decide requests (emergency access is read-only).

Lifecycles:
- prescription: active -> completed | cancelled (final). An active prescription
  past its end date is shown as completed; `expire_prescriptions` stores that.
- refill request: pending -> approved (uses one refill) | denied (with a reason
  the patient sees) | renewed (a new prescription replaces the old one).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from patients.models import PatientProfile
from patients.policy import has_care_relationship
from patients.timezones import zone_of
from prescriptions.exceptions import (
    InvalidTransition,
    NotAllowed,
    RefillAlreadyPending,
    RefillNotAllowed,
    RenewalRequired,
)
from prescriptions.models import Prescription, PrescriptionStatus, RefillRequest, RefillStatus
from providers.models import ProviderProfile
from records.models import MedicalRecord

NOTE_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 1000


@transaction.atomic
def prescription_create(
    *,
    patient: PatientProfile,
    provider: ProviderProfile,
    medication_name: str,
    dosage: str,
    frequency: str,
    start_date: dt.date,
    end_date: dt.date,
    duration: str = "",
    refills: int = 0,
    notes: str = "",
    medical_record: MedicalRecord | None = None,
    status: PrescriptionStatus | str = PrescriptionStatus.ACTIVE,
) -> Prescription:
    """Store a prescription as given (no policy): demo data and imports. Portals use `prescription_prescribe`."""
    prescription = Prescription(
        patient=patient,
        provider=provider,
        medical_record=medical_record,
        medication_name=medication_name.strip(),
        dosage=dosage.strip(),
        frequency=frequency.strip(),
        duration=duration.strip(),
        start_date=start_date,
        end_date=end_date,
        refills=refills,
        notes=notes.strip(),
        status=status,
    )
    prescription.full_clean()
    prescription.save()
    return prescription


@transaction.atomic
def prescription_prescribe(
    *,
    by: User,
    patient: PatientProfile,
    medication_name: str,
    dosage: str,
    frequency: str,
    start_date: dt.date,
    end_date: dt.date,
    duration: str = "",
    refills: int = 0,
    notes: str = "",
    medical_record: MedicalRecord | None = None,
) -> Prescription:
    """A provider prescribes to their patient, optionally from one of the patient's records."""
    provider = _provider_for(by, patient)
    if medical_record is not None and medical_record.patient_id != patient.pk:
        raise ValidationError({"medical_record": _("Choose one of this patient's records.")})
    return prescription_create(
        patient=patient,
        provider=provider,
        medication_name=medication_name,
        dosage=dosage,
        frequency=frequency,
        start_date=start_date,
        end_date=end_date,
        duration=duration,
        refills=refills,
        notes=_clean_text(notes),
        medical_record=medical_record,
    )


@transaction.atomic
def prescription_cancel(*, prescription: Prescription, by: User) -> Prescription:
    """Stop a current prescription; a pending refill request of it is denied with the reason."""
    prescription = _locked(prescription)
    _provider_for(by, prescription.patient)
    if not prescription.is_current:
        raise InvalidTransition(_("Only an active prescription can be cancelled."))
    _finish(prescription, PrescriptionStatus.CANCELLED)
    _deny_pending(prescription, by=by, reason=_("The prescription was cancelled."))
    return prescription


@transaction.atomic
def prescription_complete(*, prescription: Prescription, by: User) -> Prescription:
    """Mark an active prescription completed (also one already past its end date)."""
    prescription = _locked(prescription)
    _provider_for(by, prescription.patient)
    if prescription.status != PrescriptionStatus.ACTIVE:
        raise InvalidTransition(_("Only an active prescription can be completed."))
    _finish(prescription, PrescriptionStatus.COMPLETED)
    _deny_pending(prescription, by=by, reason=_("The prescription was completed."))
    return prescription


@transaction.atomic
def prescriptions_expire(*, now: dt.datetime | None = None) -> int:
    """Store "completed" on active prescriptions past their end date; how many were changed.

    The end date is a day where the prescriber works. Each row is saved on its
    own so the change is audited like any other. Pending refill requests stay
    open: the provider can still renew or deny them.
    """
    now = now or timezone.now()
    # Widest net first (no zone is more than a day ahead of UTC), then each row's own day.
    candidates = (
        Prescription.objects.select_for_update(of=("self",))
        .filter(status=PrescriptionStatus.ACTIVE, end_date__lt=now.date() + dt.timedelta(days=1))
        .select_related("provider")
        .order_by("pk")
    )
    expired = 0
    for prescription in candidates:
        if prescription.has_ended(_day_of(prescription, now)):
            _finish(prescription, PrescriptionStatus.COMPLETED)
            expired += 1
    return expired


# --- Refill requests ------------------------------------------------------------------


@transaction.atomic
def refill_request_create(
    *, prescription: Prescription, requested_by: User, note: str = "", renewal: bool = False
) -> RefillRequest:
    """The patient asks for a refill of their current prescription with refills left.

    With `renewal`, a current prescription with no refills left may be asked for
    too: the provider then renews it from the request (refill_request_renew).

    Refused while another request of the same prescription is pending (the
    database's partial unique constraint refuses it under a race too).
    """
    prescription = _locked(prescription)
    if not requested_by.is_patient or prescription.patient.user_id != requested_by.pk:
        raise NotAllowed(_("Only the patient can ask for a refill of their prescription."))
    note = _clean_text(note)
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": _("Keep the note under %(n)d characters.") % {"n": NOTE_MAX_LENGTH}}
        )
    if not prescription.is_current:
        raise RefillNotAllowed(
            _("This prescription is no longer active, so it cannot be refilled.")
        )
    if prescription.refills <= 0 and not renewal:
        raise RefillNotAllowed(
            _("No refills are left on this prescription. You can ask your provider for a renewal.")
        )
    if prescription.refills <= 0 and not note:
        note = _("Asking for a renewal: no refills are left.")
    if prescription.refill_requests.filter(status=RefillStatus.PENDING).exists():
        raise RefillAlreadyPending
    refill = RefillRequest(
        prescription=prescription,
        patient=prescription.patient,
        requested_by=requested_by,
        note=note,
    )
    try:
        with transaction.atomic():  # a savepoint: the constraint's refusal arrives here
            refill.save(force_insert=True)
    except IntegrityError as exc:
        raise RefillAlreadyPending from exc
    return refill


@transaction.atomic
def refill_request_approve(*, refill: RefillRequest, by: User) -> RefillRequest:
    """Approve a pending request: one refill of the prescription is used.

    At zero refills, or once the course has ended, this is refused with
    RenewalRequired: the provider renews instead.
    """
    refill, prescription = _locked_refill(refill, by)
    if prescription.refills <= 0:
        raise RenewalRequired
    if not prescription.is_current:
        raise RenewalRequired(
            _(
                "This prescription has ended, so the request cannot be approved. Renew the "
                "prescription instead: renewing writes a new prescription and approves the request."
            )
        )
    prescription.refills -= 1
    prescription.save(update_fields=["refills", "updated_at"])
    return _decide(refill, RefillStatus.APPROVED, by=by)


@transaction.atomic
def refill_request_deny(*, refill: RefillRequest, by: User, reason: str) -> RefillRequest:
    """Deny a pending request, telling the patient why."""
    reason = _clean_text(reason)
    if not reason:
        raise ValidationError({"reason": _("Tell the patient why the refill is denied.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason under %(n)d characters.") % {"n": REASON_MAX_LENGTH}}
        )
    refill, _prescription = _locked_refill(refill, by)
    return _decide(refill, RefillStatus.DENIED, by=by, reason=reason)


@transaction.atomic
def refill_request_renew(
    *,
    refill: RefillRequest,
    by: User,
    start_date: dt.date,
    end_date: dt.date,
    refills: int = 0,
    duration: str = "",
    notes: str = "",
) -> RefillRequest:
    """Answer a pending request with a new prescription of the same medication.

    The new prescription has its own dates and refills; the old one is
    completed and the request is resolved as approved by renewal.
    """
    refill, old = _locked_refill(refill, by)
    if old.status == PrescriptionStatus.CANCELLED:
        raise InvalidTransition(_("A cancelled prescription cannot be renewed."))
    renewal = prescription_create(
        patient=old.patient,
        provider=by.provider_profile,
        medication_name=old.medication_name,
        dosage=old.dosage,
        frequency=old.frequency,
        duration=duration,
        start_date=start_date,
        end_date=end_date,
        refills=refills,
        notes=_clean_text(notes),
        medical_record=old.medical_record,
    )
    if old.status == PrescriptionStatus.ACTIVE:
        _finish(old, PrescriptionStatus.COMPLETED)
    refill.renewal = renewal
    return _decide(refill, RefillStatus.RENEWED, by=by, extra_fields=["renewal"])


# --- Helpers --------------------------------------------------------------------------


def _provider_for(by: User, patient: PatientProfile) -> ProviderProfile:
    """The acting provider; refused without an active care relationship with the patient."""
    provider = getattr(by, "provider_profile", None) if by.is_provider else None
    if provider is None or not has_care_relationship(by, patient):
        raise NotAllowed
    return provider


def _locked(prescription: Prescription) -> Prescription:
    """The prescription re-read under a row lock, so two changes of it queue."""
    return (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("patient", "provider")
        .get(pk=prescription.pk)
    )


def _locked_refill(refill: RefillRequest, by: User) -> tuple[RefillRequest, Prescription]:
    """The pending request and its prescription, both locked; refused to all but the patient's providers."""
    # The prescription first, in the same order as refill_request_create, so the two never deadlock.
    prescription = _locked(refill.prescription)
    refill = RefillRequest.objects.select_for_update(of=("self",)).get(pk=refill.pk)
    _provider_for(by, prescription.patient)
    if refill.status != RefillStatus.PENDING:
        raise InvalidTransition(_("This request has already been decided."))
    refill.prescription = prescription
    return refill, prescription


def _decide(
    refill: RefillRequest,
    status: RefillStatus,
    *,
    by: User,
    reason: str = "",
    extra_fields: list[str] | None = None,
) -> RefillRequest:
    refill.status = status
    refill.decided_by = by
    refill.decided_at = timezone.now()
    refill.decision_reason = reason
    refill.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_reason",
            *(extra_fields or []),
            "updated_at",
        ]
    )
    return refill


def _deny_pending(prescription: Prescription, *, by: User, reason: str) -> None:
    for refill in prescription.refill_requests.select_for_update().filter(
        status=RefillStatus.PENDING
    ):
        _decide(refill, RefillStatus.DENIED, by=by, reason=reason)


def _finish(prescription: Prescription, status: PrescriptionStatus) -> None:
    prescription.status = status
    prescription.save(update_fields=["status", "updated_at"])


def _day_of(prescription: Prescription, now: dt.datetime) -> dt.date:
    return now.astimezone(zone_of(prescription.provider)).date()


def _clean_text(text: str) -> str:
    return (text or "").replace("\r\n", "\n").strip()
