"""Every transition of prescriptions and refill requests, who may make it, and what the database refuses."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from patients.models import PatientProfile
from prescriptions.exceptions import (
    InvalidTransition,
    NotAllowed,
    RefillAlreadyPending,
    RefillNotAllowed,
    RenewalRequired,
)
from prescriptions.models import Prescription, PrescriptionStatus, RefillRequest, RefillStatus
from prescriptions.services import (
    prescription_cancel,
    prescription_complete,
    prescription_prescribe,
    prescriptions_expire,
    refill_request_approve,
    refill_request_create,
    refill_request_deny,
    refill_request_renew,
)
from providers.models import ProviderProfile
from providers.services import relationship_activate, relationship_deactivate
from records.services import medical_record_create
from records.tests.fixtures import NEW_YORK, today

pytestmark = pytest.mark.django_db


def _prescribe(provider: ProviderProfile, patient: PatientProfile, **overrides) -> Prescription:
    data = {
        "medication_name": "Amoxicillin",
        "dosage": "500 mg",
        "frequency": "three times a day",
        "duration": "10 days",
        "start_date": today(),
        "end_date": today() + dt.timedelta(days=10),
        "refills": 1,
        "notes": "With food",
    }
    data.update(overrides)
    return prescription_prescribe(by=provider.user, patient=patient, **data)


def _reloaded(obj):
    obj.refresh_from_db()
    return obj


# --- Prescribing ----------------------------------------------------------------------------


def test_the_patients_provider_prescribes_from_a_record(provider, patient, record) -> None:
    prescription = _prescribe(provider, patient, medical_record=record)

    prescription.refresh_from_db()
    assert (prescription.patient, prescription.provider, prescription.medical_record) == (
        patient,
        provider,
        record,
    )
    assert (prescription.medication_name, prescription.dosage, prescription.refills) == (
        "Amoxicillin",
        "500 mg",
        1,
    )
    assert prescription.status == PrescriptionStatus.ACTIVE
    assert prescription.is_current


@pytest.mark.parametrize(
    "who", ["other provider", "patient", "former provider", "emergency provider"]
)
def test_only_a_provider_in_an_active_relationship_prescribes(
    who: str, provider, other_provider, patient, request
) -> None:
    if who == "former provider":
        relationship_deactivate(link=provider.patient_links.get(patient=patient))
    if who == "emergency provider":
        request.getfixturevalue("emergency_grant")
    author = {
        "other provider": other_provider.user,
        "patient": patient.user,
        "former provider": provider.user,
        "emergency provider": other_provider.user,
    }[who]

    with pytest.raises(NotAllowed):
        prescription_prescribe(
            by=author,
            patient=patient,
            medication_name="Amoxicillin",
            dosage="500 mg",
            frequency="daily",
            start_date=today(),
            end_date=today(),
        )

    assert not Prescription.objects.exists()


def test_an_end_date_before_the_start_is_refused(provider, patient) -> None:
    with pytest.raises(ValidationError) as refused:
        _prescribe(provider, patient, end_date=today() - dt.timedelta(days=1))

    assert refused.value.message_dict == {
        "end_date": ["The end date must be on or after the start date."]
    }
    assert not Prescription.objects.exists()


def test_a_record_of_another_patient_cannot_be_linked(
    provider, other_provider, patient, other_patient
) -> None:
    theirs = medical_record_create(
        patient=other_patient, provider=other_provider, record_date=today(), diagnosis="Eczema"
    )

    with pytest.raises(ValidationError) as refused:
        _prescribe(provider, patient, medical_record=theirs)

    assert list(refused.value.message_dict) == ["medical_record"]
    assert not Prescription.objects.exists()


# --- Cancel and complete --------------------------------------------------------------------


def test_cancelling_stops_the_prescription_and_denies_its_pending_refill(
    provider, patient, prescription, refill
) -> None:
    prescription_cancel(prescription=prescription, by=provider.user)

    assert _reloaded(prescription).status == PrescriptionStatus.CANCELLED
    refill = _reloaded(refill)
    assert refill.status == RefillStatus.DENIED
    assert refill.decision_reason == "The prescription was cancelled."
    assert refill.decided_by == provider.user


def test_completing_ends_the_prescription(provider, prescription) -> None:
    prescription_complete(prescription=prescription, by=provider.user)

    assert _reloaded(prescription).status == PrescriptionStatus.COMPLETED
    assert not prescription.is_current


@pytest.mark.parametrize(
    "first", [prescription_cancel, prescription_complete], ids=["cancelled", "completed"]
)
@pytest.mark.parametrize(
    "then", [prescription_cancel, prescription_complete], ids=["cancel", "complete"]
)
def test_a_finished_prescription_cannot_change_again(provider, prescription, first, then) -> None:
    first(prescription=prescription, by=provider.user)
    status = _reloaded(prescription).status

    with pytest.raises(InvalidTransition):
        then(prescription=prescription, by=provider.user)

    assert _reloaded(prescription).status == status


def test_a_prescription_past_its_end_date_can_be_completed_but_not_cancelled(
    provider, prescription
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(
        start_date=today() - dt.timedelta(days=30), end_date=today() - dt.timedelta(days=1)
    )

    with pytest.raises(InvalidTransition):
        prescription_cancel(prescription=prescription, by=provider.user)
    prescription_complete(prescription=prescription, by=provider.user)

    assert _reloaded(prescription).status == PrescriptionStatus.COMPLETED


@pytest.mark.parametrize(
    "change", [prescription_cancel, prescription_complete], ids=["cancel", "complete"]
)
def test_an_unrelated_or_emergency_provider_cannot_change_a_prescription(
    change, other_provider, prescription, emergency_grant
) -> None:
    with pytest.raises(NotAllowed):
        change(prescription=prescription, by=other_provider.user)

    assert _reloaded(prescription).status == PrescriptionStatus.ACTIVE


def test_any_provider_caring_for_the_patient_may_cancel(
    other_provider, patient, prescription
) -> None:
    relationship_activate(provider=other_provider, patient=patient)

    prescription_cancel(prescription=prescription, by=other_provider.user)

    assert _reloaded(prescription).status == PrescriptionStatus.CANCELLED


# --- Past the end date ----------------------------------------------------------------------


def test_a_prescription_past_its_end_date_is_shown_completed(prescription) -> None:
    assert prescription.shown_status == PrescriptionStatus.ACTIVE
    prescription.end_date = today() - dt.timedelta(days=1)

    assert prescription.status == PrescriptionStatus.ACTIVE
    assert prescription.shown_status == PrescriptionStatus.COMPLETED
    assert prescription.shown_status_label == "Completed"
    assert not prescription.is_current


def test_the_end_date_is_the_prescribers_day(prescription) -> None:
    # 23:30 in New York on the end date is already the next day in UTC: still current.
    end = prescription.end_date
    late_evening = dt.datetime.combine(end, dt.time(23, 30), tzinfo=NEW_YORK)

    assert prescription.has_ended(late_evening.astimezone(NEW_YORK).date()) is False
    assert late_evening.astimezone(dt.UTC).date() > end
    assert prescriptions_expire(now=late_evening) == 0
    assert prescriptions_expire(now=late_evening + dt.timedelta(hours=1)) == 1


def test_expiring_stores_completed_on_ended_prescriptions_only(
    provider, patient, prescription
) -> None:
    ended = _prescribe(
        provider,
        patient,
        medication_name="Prednisone",
        start_date=today() - dt.timedelta(days=20),
        end_date=today() - dt.timedelta(days=1),
    )
    cancelled = _prescribe(
        provider,
        patient,
        medication_name="Ibuprofen",
        start_date=today() - dt.timedelta(days=20),
        end_date=today() - dt.timedelta(days=1),
    )
    Prescription.objects.filter(pk=cancelled.pk).update(status=PrescriptionStatus.CANCELLED)
    ends_today = _prescribe(provider, patient, medication_name="Loratadine", end_date=today())

    assert prescriptions_expire() == 1

    assert _reloaded(ended).status == PrescriptionStatus.COMPLETED
    assert _reloaded(cancelled).status == PrescriptionStatus.CANCELLED
    assert _reloaded(ends_today).status == PrescriptionStatus.ACTIVE
    assert _reloaded(prescription).status == PrescriptionStatus.ACTIVE
    # Audited like any change, without an actor: the system made it.
    entry = LogEntry.objects.get_for_object(ended).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["status"] == ["active", "completed"]
    assert entry.actor is None
    assert prescriptions_expire() == 0


def test_the_expire_prescriptions_command_updates_the_stored_status(prescription) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(
        start_date=today() - dt.timedelta(days=40), end_date=today() - dt.timedelta(days=2)
    )
    out = StringIO()

    call_command("expire_prescriptions", stdout=out)

    assert out.getvalue().strip() == "Marked 1 prescription completed."
    assert _reloaded(prescription).status == PrescriptionStatus.COMPLETED
    call_command("expire_prescriptions", stdout=out)
    assert out.getvalue().strip().endswith("Marked 0 prescriptions completed.")


# --- Requesting a refill --------------------------------------------------------------------


def test_the_patient_requests_a_refill(patient, prescription) -> None:
    refill = refill_request_create(
        prescription=prescription, requested_by=patient.user, note="  Running low \r\n"
    )

    refill.refresh_from_db()
    assert (refill.prescription, refill.patient, refill.requested_by) == (
        prescription,
        patient,
        patient.user,
    )
    assert refill.status == RefillStatus.PENDING
    assert refill.note == "Running low"
    assert (refill.decided_by, refill.decided_at, refill.decision_reason) == (None, None, "")
    assert _reloaded(prescription).refills == 2  # asking uses nothing


def test_a_second_request_is_refused_while_one_is_pending(patient, prescription, refill) -> None:
    with pytest.raises(RefillAlreadyPending):
        refill_request_create(prescription=prescription, requested_by=patient.user)

    assert RefillRequest.objects.count() == 1


def test_the_database_allows_one_pending_request_per_prescription(
    patient, prescription, refill
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        RefillRequest.objects.create(
            prescription=prescription, patient=patient, requested_by=patient.user
        )


def test_a_new_request_is_allowed_once_the_last_was_decided(
    provider, patient, prescription, refill
) -> None:
    refill_request_deny(refill=refill, by=provider.user, reason="Too soon")

    again = refill_request_create(prescription=prescription, requested_by=patient.user)

    assert again.status == RefillStatus.PENDING
    assert RefillRequest.objects.count() == 2


@pytest.mark.parametrize("who", ["other patient", "provider"])
def test_only_the_patient_requests_a_refill(who, provider, other_patient, prescription) -> None:
    user = {"other patient": other_patient.user, "provider": provider.user}[who]

    with pytest.raises(NotAllowed):
        refill_request_create(prescription=prescription, requested_by=user)

    assert not RefillRequest.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"refills": 0},
            "No refills are left on this prescription. You can ask your provider for a renewal.",
        ),
        ({"status": PrescriptionStatus.CANCELLED}, "no longer active"),
        ({"status": PrescriptionStatus.COMPLETED}, "no longer active"),
        (
            {"start_date": dt.date(2020, 1, 1), "end_date": dt.date(2020, 2, 1)},
            "no longer active",
        ),
    ],
    ids=["no refills left", "cancelled", "completed", "past its end date"],
)
def test_a_refill_needs_a_current_prescription_with_refills_left(
    patient, prescription, change, message
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(**change)

    with pytest.raises(RefillNotAllowed, match=message):
        refill_request_create(prescription=prescription, requested_by=patient.user)

    assert not RefillRequest.objects.exists()


def test_a_note_too_long_is_refused(patient, prescription) -> None:
    with pytest.raises(ValidationError) as refused:
        refill_request_create(prescription=prescription, requested_by=patient.user, note="x" * 1001)

    assert list(refused.value.message_dict) == ["note"]
    assert not RefillRequest.objects.exists()


# --- Approving ----------------------------------------------------------------------------------


def test_approving_uses_one_refill(provider, prescription, refill) -> None:
    with set_actor(provider.user):
        refill_request_approve(refill=refill, by=provider.user)

    refill = _reloaded(refill)
    assert refill.status == RefillStatus.APPROVED
    assert refill.decided_by == provider.user
    assert timezone.now() - refill.decided_at < dt.timedelta(minutes=1)
    assert _reloaded(prescription).refills == 1
    entry = (
        LogEntry.objects.get_for_object(prescription).filter(action=LogEntry.Action.UPDATE).get()
    )
    assert (entry.actor, entry.changes_dict["refills"]) == (provider.user, [2, 1])


def test_at_zero_refills_approval_is_refused_with_renew_instead(
    provider, prescription, refill
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(refills=0)

    with pytest.raises(RenewalRequired, match="Renew the prescription instead"):
        refill_request_approve(refill=refill, by=provider.user)

    assert _reloaded(refill).status == RefillStatus.PENDING
    assert _reloaded(prescription).refills == 0


def test_once_the_course_has_ended_approval_is_refused_with_renew_instead(
    provider, prescription, refill
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(
        start_date=today() - dt.timedelta(days=40), end_date=today() - dt.timedelta(days=1)
    )

    with pytest.raises(RenewalRequired, match="has ended"):
        refill_request_approve(refill=refill, by=provider.user)

    assert _reloaded(refill).status == RefillStatus.PENDING
    assert _reloaded(prescription).refills == 2


@pytest.mark.parametrize(
    "decide",
    [
        lambda refill, by: refill_request_approve(refill=refill, by=by),
        lambda refill, by: refill_request_deny(refill=refill, by=by, reason="No"),
        lambda refill, by: refill_request_renew(
            refill=refill, by=by, start_date=today(), end_date=today() + dt.timedelta(days=30)
        ),
    ],
    ids=["approve", "deny", "renew"],
)
def test_a_decided_request_cannot_be_decided_again(decide, provider, prescription, refill) -> None:
    refill_request_approve(refill=refill, by=provider.user)

    with pytest.raises(InvalidTransition):
        decide(refill, provider.user)

    assert _reloaded(refill).status == RefillStatus.APPROVED
    assert _reloaded(prescription).refills == 1
    assert Prescription.objects.count() == 1


@pytest.mark.parametrize("who", ["unrelated provider", "emergency provider", "patient"])
def test_only_the_patients_providers_decide(
    who, other_provider, patient, prescription, refill, request
) -> None:
    if who == "emergency provider":
        request.getfixturevalue("emergency_grant")
    user = patient.user if who == "patient" else other_provider.user

    for decide in (
        lambda: refill_request_approve(refill=refill, by=user),
        lambda: refill_request_deny(refill=refill, by=user, reason="No"),
        lambda: refill_request_renew(refill=refill, by=user, start_date=today(), end_date=today()),
    ):
        with pytest.raises(NotAllowed):
            decide()

    assert _reloaded(refill).status == RefillStatus.PENDING
    assert _reloaded(prescription).refills == 2


# --- Denying ------------------------------------------------------------------------------------


def test_denying_keeps_the_refills_and_tells_the_patient_why(
    provider, prescription, refill
) -> None:
    refill_request_deny(refill=refill, by=provider.user, reason="  Please book a review first.  ")

    refill = _reloaded(refill)
    assert refill.status == RefillStatus.DENIED
    assert refill.decision_reason == "Please book a review first."
    assert refill.decided_by == provider.user
    assert _reloaded(prescription).refills == 2


def test_a_denial_needs_a_reason(provider, refill) -> None:
    with pytest.raises(ValidationError) as refused:
        refill_request_deny(refill=refill, by=provider.user, reason="   ")

    assert refused.value.message_dict == {"reason": ["Tell the patient why the refill is denied."]}
    assert _reloaded(refill).status == RefillStatus.PENDING


# --- Renewing -------------------------------------------------------------------------------------


def test_renewing_writes_a_new_prescription_and_approves_the_request(
    provider, patient, prescription, refill, record
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(refills=0, medical_record=record)
    start, end = today() + dt.timedelta(days=1), today() + dt.timedelta(days=91)

    refill = refill_request_renew(
        refill=refill,
        by=provider.user,
        start_date=start,
        end_date=end,
        refills=3,
        duration="90 days",
    )

    refill = _reloaded(refill)
    renewal = refill.renewal
    assert refill.status == RefillStatus.RENEWED
    assert refill.get_status_display() == "Approved by renewal"
    assert refill.decided_by == provider.user
    assert renewal.pk != prescription.pk
    assert (renewal.medication_name, renewal.dosage, renewal.frequency) == (
        "Cetirizine",
        "10 mg",
        "once daily",
    )
    assert (renewal.start_date, renewal.end_date, renewal.refills, renewal.duration) == (
        start,
        end,
        3,
        "90 days",
    )
    assert (renewal.patient, renewal.provider, renewal.medical_record) == (
        patient,
        provider,
        record,
    )
    assert renewal.status == PrescriptionStatus.ACTIVE
    assert _reloaded(prescription).status == PrescriptionStatus.COMPLETED


def test_a_renewal_with_bad_dates_changes_nothing(provider, prescription, refill) -> None:
    with pytest.raises(ValidationError) as refused:
        refill_request_renew(
            refill=refill,
            by=provider.user,
            start_date=today(),
            end_date=today() - dt.timedelta(days=1),
        )

    assert list(refused.value.message_dict) == ["end_date"]
    assert Prescription.objects.count() == 1
    assert _reloaded(prescription).status == PrescriptionStatus.ACTIVE
    assert _reloaded(refill).status == RefillStatus.PENDING


def test_a_request_on_an_ended_course_is_answered_by_renewal(
    provider, prescription, refill
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(
        start_date=today() - dt.timedelta(days=40), end_date=today() - dt.timedelta(days=1)
    )
    prescriptions_expire()  # stored as completed; the request stays open for the provider

    refill = refill_request_renew(
        refill=_reloaded(refill),
        by=provider.user,
        start_date=today(),
        end_date=today() + dt.timedelta(days=30),
    )

    assert refill.status == RefillStatus.RENEWED
    assert refill.renewal.is_current


# --- What the database refuses ------------------------------------------------------------------


def _row(prescription: Prescription, patient: PatientProfile, **fields) -> RefillRequest:
    return RefillRequest(
        prescription=prescription, patient=patient, requested_by=patient.user, **fields
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "lost"},
        {"status": RefillStatus.APPROVED},  # decided by nobody
        {"status": RefillStatus.PENDING, "decided_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
        {
            "status": RefillStatus.DENIED,
            "decided_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        },  # and no reason
        {
            "status": RefillStatus.RENEWED,
            "decided_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        },  # and no renewal
    ],
    ids=[
        "unknown status",
        "approved without decider",
        "pending with a decision",
        "denied without reason",
        "renewed without renewal",
    ],
)
def test_the_database_refuses_an_inconsistent_refill_request(
    fields, provider, patient, prescription
) -> None:
    if fields.get("decided_at"):
        fields = {**fields, "decided_by": provider.user}

    with pytest.raises(IntegrityError), transaction.atomic():
        _row(prescription, patient, **fields).save()


def test_the_database_accepts_each_complete_decision(provider, patient, prescription) -> None:
    decided = {"decided_by": provider.user, "decided_at": timezone.now()}
    _row(prescription, patient, status=RefillStatus.APPROVED, **decided).save()
    _row(prescription, patient, status=RefillStatus.DENIED, decision_reason="No", **decided).save()
    _row(prescription, patient, status=RefillStatus.RENEWED, renewal=prescription, **decided).save()
    _row(prescription, patient).save()

    assert RefillRequest.objects.count() == 4


def test_refill_requests_are_audited_with_the_actor(provider, patient, prescription) -> None:
    with set_actor(patient.user):
        refill = refill_request_create(prescription=prescription, requested_by=patient.user)
    with set_actor(provider.user):
        refill_request_deny(refill=refill, by=provider.user, reason="Book a review")

    entries = list(LogEntry.objects.get_for_object(refill).order_by("timestamp", "pk"))
    assert [(e.action, e.actor) for e in entries] == [
        (LogEntry.Action.CREATE, patient.user),
        (LogEntry.Action.UPDATE, provider.user),
    ]
    assert entries[1].changes_dict["status"] == ["pending", "denied"]
