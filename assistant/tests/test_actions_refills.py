"""Refills through the assistant: the patient's own prescriptions, the prescriptions services' rules."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.services import utterance_respond
from assistant.tests.helpers import Conversation
from prescriptions.models import PrescriptionStatus, RefillRequest, RefillStatus
from prescriptions.services import (
    prescription_cancel,
    prescription_create,
    refill_request_approve,
    refill_request_create,
)

pytestmark = pytest.mark.django_db


def _prescription(patient, provider, name: str, *, refills: int = 2, **extra):
    today = dt.date.today()
    return prescription_create(
        patient=patient,
        provider=provider,
        medication_name=name,
        dosage="20 mg",
        frequency="once daily",
        start_date=extra.pop("start_date", today - dt.timedelta(days=30)),
        end_date=extra.pop("end_date", today + dt.timedelta(days=60)),
        refills=refills,
        **extra,
    )


# --- Asking for a refill -------------------------------------------------------------------


def test_a_named_prescription_is_refilled_after_yes(patient, prescriptions) -> None:
    lisinopril = prescriptions[0]
    chat = Conversation(patient.user)

    reply = chat.say("I need a refill of my lisinopril")

    assert reply.intent == "request_refill" and reply.awaiting == "confirm"
    assert "Lisinopril 10 mg" in reply.text and "2 refills left" in reply.text
    assert not RefillRequest.objects.exists()

    reply = chat.say("yes")

    refill = RefillRequest.objects.get()
    assert (refill.prescription, refill.requested_by, refill.status) == (
        lisinopril,
        patient.user,
        RefillStatus.PENDING,
    )
    assert refill.note == "Requested through the assistant."
    assert "sent to Anika Patel" in reply.text
    assert any(f"/prescriptions/{lisinopril.pk}/" == link.url for link in reply.links)


def test_the_assistant_asks_which_prescription(patient, prescriptions) -> None:
    chat = Conversation(patient.user)
    reply = chat.say("can i get a refill")
    assert reply.awaiting == "slot" and "Lisinopril" in reply.text and "Metformin" in reply.text
    reply = chat.say("the metformin")
    assert reply.awaiting == "confirm" and "Metformin 500 mg" in reply.text
    chat.say("yes please")
    assert RefillRequest.objects.get().prescription == prescriptions[1]


def test_no_sends_no_request(patient, prescriptions) -> None:
    chat = Conversation(patient.user)
    chat.say("refill my metformin please")
    reply = chat.say("no")
    assert "not asked for a refill" in reply.text
    assert not RefillRequest.objects.exists()


def test_no_refills_left_is_refused(patient, provider) -> None:
    _prescription(patient, provider, "Atorvastatin", refills=0)
    reply = Conversation(patient.user).say("refill my atorvastatin")
    assert "No refills are left" in reply.text and "renew" in reply.text
    assert reply.awaiting is None
    assert not RefillRequest.objects.exists()


def test_one_pending_request_at_a_time(patient, prescriptions) -> None:
    refill_request_create(prescription=prescriptions[0], requested_by=patient.user)
    reply = Conversation(patient.user).say("i need more lisinopril, can you refill it")
    assert "already asked for a refill of Lisinopril" in reply.text
    assert reply.awaiting is None
    assert RefillRequest.objects.count() == 1


def test_a_request_made_meanwhile_is_refused_by_the_service(patient, prescriptions) -> None:
    chat = Conversation(patient.user)
    assert chat.say("refill my lisinopril").awaiting == "confirm"
    # The patient asks on the prescriptions page in another tab.
    refill_request_create(prescription=prescriptions[0], requested_by=patient.user)
    reply = chat.say("yes")
    assert "already asked for a refill" in reply.text
    assert RefillRequest.objects.count() == 1


def test_the_last_refill_used_meanwhile_is_refused_by_the_service(
    patient, provider, prescriptions
) -> None:
    metformin = prescriptions[1]  # one refill left
    chat = Conversation(patient.user)
    assert chat.say("refill my metformin").awaiting == "confirm"
    # Meanwhile a request made on the page is approved: that was the last refill.
    refill_request_approve(
        refill=refill_request_create(prescription=metformin, requested_by=patient.user),
        by=provider.user,
    )
    reply = chat.say("yes")
    assert "No refills are left on this prescription" in reply.text
    assert RefillRequest.objects.count() == 1


def test_a_prescription_stopped_meanwhile_is_refused_by_the_service(
    patient, provider, prescriptions
) -> None:
    chat = Conversation(patient.user)
    chat.say("refill my lisinopril")
    prescription_cancel(prescription=prescriptions[0], by=provider.user)
    reply = chat.say("yes")
    assert "no longer active" in reply.text
    assert not RefillRequest.objects.exists()


def test_an_ended_prescription_is_explained(patient, provider, prescriptions) -> None:
    _prescription(patient, provider, "Amoxicillin", status=PrescriptionStatus.COMPLETED)
    reply = Conversation(patient.user).say("refill my amoxicillin")
    assert "Amoxicillin prescription is no longer active" in reply.text
    assert not RefillRequest.objects.exists()


def test_no_prescriptions_nothing_to_refill(patient) -> None:
    reply = Conversation(patient.user).say("i need a refill")
    assert "no active prescriptions" in reply.text
    assert reply.awaiting is None


def test_someone_elses_prescription_cannot_be_refilled(
    patient, prescriptions, other_patient, other_provider
) -> None:
    theirs = _prescription(other_patient, other_provider, "Sertraline")
    reply = Conversation(patient.user).say("refill my sertraline")
    assert "Sertraline" not in reply.text
    state = {
        "intent": "request_refill",
        "awaiting": "confirm",
        "slots": {"prescription_id": str(theirs.pk)},
    }
    reply, _state = utterance_respond(user=patient.user, text="yes", state=state)
    assert "couldn't find that prescription" in reply.text
    assert not RefillRequest.objects.exists()


# --- A provider's pending refills ----------------------------------------------------------


def test_provider_hears_only_their_own_patients_pending_refills(
    provider, patient, prescriptions, other_patient, other_provider
) -> None:
    refill_request_create(prescription=prescriptions[1], requested_by=patient.user)
    theirs = _prescription(other_patient, other_provider, "Sertraline")
    refill_request_create(prescription=theirs, requested_by=other_patient.user)

    reply = Conversation(provider.user).say("any refill requests waiting for me")

    assert reply.intent == "pending_refills"
    assert "1 refill request waiting: Pat Jones, Metformin 500 mg" in reply.text
    assert "Riley" not in reply.text and "Sertraline" not in reply.text
    assert any(link.url == "/prescriptions/refills/" for link in reply.links)


def test_a_provider_naming_a_patient_not_theirs_gets_nothing_of_them(
    provider, patient, prescriptions, other_patient, other_provider
) -> None:
    theirs = _prescription(other_patient, other_provider, "Sertraline")
    refill_request_create(prescription=theirs, requested_by=other_patient.user)
    reply = Conversation(provider.user).say("show me pending refills for riley other")
    assert "Riley" not in reply.text and "Sertraline" not in reply.text
    assert "no refill requests waiting" in reply.text


def test_a_named_patient_narrows_the_list(provider, patient, prescriptions) -> None:
    reply = Conversation(provider.user).say("pending refill requests for pat jones")
    assert "Pat Jones has no refill requests waiting" in reply.text
    refill_request_create(prescription=prescriptions[0], requested_by=patient.user)
    reply = Conversation(provider.user).say("pending refill requests for pat jones")
    assert "Pat Jones, Lisinopril 10 mg" in reply.text
