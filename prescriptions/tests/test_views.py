"""Prescription pages: the patient's list and refill requests; providers prescribing and deciding refills."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import PHIAccess
from prescriptions.models import Prescription, PrescriptionStatus, RefillRequest, RefillStatus
from prescriptions.services import prescription_create, refill_request_create
from providers.tests.factories import make_patients
from records.tests.fixtures import make_prescriptions, today

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


def _page(response) -> str:
    return response.content.decode()


def _field_errors(page: str, field: str) -> list[str]:
    return re.findall(rf'<p class="error" id="id_{field}_error">(.*?)</p>', page)


def _query_count(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), _page(response)


def _detail(prescription: Prescription) -> str:
    return reverse("prescriptions:prescription-detail", kwargs={"prescription_id": prescription.pk})


def _refill_url(name: str, refill: RefillRequest) -> str:
    return reverse(f"prescriptions:{name}", kwargs={"refill_id": refill.pk})


def _reloaded(obj):
    obj.refresh_from_db()
    return obj


# --- The patient's prescriptions -----------------------------------------------------------------


def test_the_patient_sees_active_prescriptions_first(
    patient_client: Client, patient, provider, other_patient, other_provider
) -> None:
    (ended,) = make_prescriptions(patient, provider, 1, start=1, ended=True)
    (current,) = make_prescriptions(patient, provider, 1)
    cancelled = make_prescriptions(patient, provider, 1, start=2)[0]
    Prescription.objects.filter(pk=cancelled.pk).update(status=PrescriptionStatus.CANCELLED)
    make_prescriptions(other_patient, other_provider, 1, start=7)

    page = _page(patient_client.get(reverse("prescriptions:patient-prescription-list")))

    active, past = page.split('id="past-h"')
    assert (
        "Medication 000" in active
        and "Medication 001" not in active
        and "Medication 002" not in active
    )
    assert "Medication 001" in past and "Completed" in past  # past its end date: shown completed
    assert "Medication 002" in past and "Cancelled" in past
    assert "Medication 007" not in page
    assert _detail(current) in active


def test_the_prescription_list_queries_do_not_grow(
    patient_client: Client, patient, provider, django_assert_num_queries
) -> None:
    url = reverse("prescriptions:patient-prescription-list")
    rx = make_prescriptions(patient, provider, 2)
    # One past prescription: an empty page of them skips reading rows.
    make_prescriptions(patient, provider, 1, start=40, ended=True)
    refill_request_create(prescription=rx[0], requested_by=patient.user)
    patient_client.get(url)

    few, _ = _query_count(patient_client, url)
    more = make_prescriptions(patient, provider, 20, start=2)
    make_prescriptions(patient, provider, 10, start=30, ended=True)
    for prescription in more[:5]:
        refill_request_create(prescription=prescription, requested_by=patient.user)
    # Session, user with their patient profile, the current prescriptions with a page of past ones
    # and its total (one query), and the session's activity stamp (3).
    with django_assert_num_queries(7):
        many, page = _query_count(patient_client, url)

    assert many == few
    assert "Medication 039" in page
    assert page.count("Refill requested") == 6


def test_prescription_text_is_escaped(patient_client: Client, patient, provider) -> None:
    prescription = prescription_create(
        patient=patient,
        provider=provider,
        medication_name=XSS[:100],
        dosage="10 mg",
        frequency="daily",
        start_date=today(),
        end_date=today(),
        notes=XSS,
    )

    for url in (reverse("prescriptions:patient-prescription-list"), _detail(prescription)):
        page = _page(patient_client.get(url))
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)" in page


def test_the_patient_opens_a_prescription_and_sees_the_refill_form(
    patient_client: Client, prescription
) -> None:
    response = patient_client.get(_detail(prescription))

    page = _page(response)
    assert response.status_code == 200
    assert "Cetirizine" in page and "Anika Patel, MD" in page
    assert "<dd data-refills>2</dd>" in page
    assert 'for="id_note"' in page
    assert "Request a refill" in page
    assert not PHIAccess.objects.exists()


def test_the_patient_requests_a_refill_and_sees_it_pending(
    patient_client: Client, patient, prescription
) -> None:
    url = reverse(
        "prescriptions:refill-request-create", kwargs={"prescription_id": prescription.pk}
    )

    response = patient_client.post(url, {"note": "Running low before my trip"})

    assert response.status_code == 302
    assert response["Location"] == _detail(prescription)
    refill = RefillRequest.objects.get()
    assert (refill.patient, refill.requested_by, refill.note) == (
        patient,
        patient.user,
        "Running low before my trip",
    )
    page = _page(patient_client.get(_detail(prescription)))
    assert "Your refill request is sent." in page
    assert "Your refill request is waiting for your provider's decision." in page
    assert '<span class="status status-pending">Pending</span>' in page
    assert "Running low before my trip" in page
    assert 'action="' + url not in page  # no second request offered


def test_a_second_request_while_one_is_pending_is_refused_with_a_message(
    patient_client: Client, prescription, refill
) -> None:
    url = reverse(
        "prescriptions:refill-request-create", kwargs={"prescription_id": prescription.pk}
    )

    response = patient_client.post(url, {"note": "Again"})

    assert response.status_code == 400
    assert "You already asked for a refill of this prescription" in _page(response)
    assert RefillRequest.objects.count() == 1


def test_a_refill_of_a_prescription_without_refills_is_refused(
    patient_client: Client, prescription
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(refills=0)
    url = reverse(
        "prescriptions:refill-request-create", kwargs={"prescription_id": prescription.pk}
    )

    detail = _page(patient_client.get(_detail(prescription)))
    response = patient_client.post(url, {"note": ""})

    assert "No refills are left on this prescription." in detail
    assert "Request a refill" not in detail
    assert response.status_code == 400
    assert not RefillRequest.objects.exists()


def test_a_prescription_without_refills_offers_a_renewal_request_that_reaches_the_provider(
    patient_client: Client, provider_client: Client, prescription
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(refills=0)
    url = reverse(
        "prescriptions:refill-request-create", kwargs={"prescription_id": prescription.pk}
    )

    detail = _page(patient_client.get(_detail(prescription)))
    assert "Ask for a renewal" in detail
    assert 'name="renewal" value="1"' in detail
    response = patient_client.post(url, {"note": "", "renewal": "1"})

    assert response.status_code == 302
    request = RefillRequest.objects.get()
    assert "renewal" in request.note
    queue = _page(provider_client.get(reverse("prescriptions:provider-refill-list")))
    assert prescription.medication_name in queue


def test_a_note_too_long_is_explained_next_to_the_field(
    patient_client: Client, prescription
) -> None:
    url = reverse(
        "prescriptions:refill-request-create", kwargs={"prescription_id": prescription.pk}
    )

    response = patient_client.post(url, {"note": "x" * 1001})

    assert response.status_code == 400
    assert _field_errors(_page(response), "note")
    assert not RefillRequest.objects.exists()


def test_the_patient_sees_a_denial_and_its_reason(
    patient_client: Client, provider_client: Client, prescription, refill
) -> None:
    provider_client.post(
        _refill_url("refill-deny", refill), {"deny-reason": "Please book a review first."}
    )

    page = _page(patient_client.get(_detail(prescription)))

    assert '<span class="status status-denied">Denied</span>' in page
    assert "Please book a review first." in page
    assert "Decided by Anika Patel" in page
    assert 'for="id_note"' in page  # a new request may be made


def test_another_patients_prescription_is_404(other_patient_client: Client, prescription) -> None:
    url = reverse(
        "prescriptions:refill-request-create", kwargs={"prescription_id": prescription.pk}
    )

    assert other_patient_client.get(_detail(prescription)).status_code == 404
    assert other_patient_client.post(url, {"note": "Mine now"}).status_code == 404
    assert not RefillRequest.objects.exists()


# --- Providers: reading and prescribing -----------------------------------------------------------


def test_the_provider_opens_a_prescription_and_the_access_is_logged(
    provider_client: Client, provider, patient, prescription, refill
) -> None:
    response = provider_client.get(_detail(prescription))

    page = _page(response)
    assert response.status_code == 200
    assert "Mark completed" in page and "Cancel prescription" in page
    assert _refill_url("refill-detail", refill) in page
    assert 'for="id_note"' not in page
    access = PHIAccess.objects.get()
    assert (access.accessor, access.patient, access.resource, access.object_id) == (
        provider.user,
        patient,
        "prescription",
        str(prescription.pk),
    )


def test_the_provider_prescribes_from_a_record(
    provider_client: Client, provider, patient, record
) -> None:
    url = reverse("prescriptions:prescription-create", kwargs={"patient_id": patient.pk})
    form = _page(provider_client.get(url, {"record": record.pk}))
    assert f'<option value="{record.pk}" selected>' in form

    response = provider_client.post(
        url,
        {
            "medication_name": "Amoxicillin",
            "dosage": "500 mg",
            "frequency": "three times a day",
            "duration": "10 days",
            "start_date": today().isoformat(),
            "end_date": (today() + dt.timedelta(days=10)).isoformat(),
            "refills": "1",
            "notes": "With food",
            "medical_record": str(record.pk),
        },
    )

    prescription = Prescription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(prescription)
    assert (prescription.provider, prescription.medical_record, prescription.refills) == (
        provider,
        record,
        1,
    )
    assert "The prescription is written." in _page(provider_client.get(response["Location"]))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"end_date": "2000-01-01"},
            "end_date",
            "The end date must be on or after the start date.",
        ),
        ({"refills": "-1"}, "refills", "Ensure this value is greater than or equal to 0."),
        ({"medication_name": ""}, "medication_name", "This field is required."),
        ({"start_date": "31/31/2030"}, "start_date", "Enter a valid date."),
    ],
    ids=["end before start", "negative refills", "no medication", "bad date"],
)
def test_bad_prescription_input_is_explained_next_to_the_field_and_writes_nothing(
    provider_client: Client, patient, overrides, field: str, message: str
) -> None:
    data = {
        "medication_name": "Amoxicillin",
        "dosage": "500 mg",
        "frequency": "daily",
        "start_date": today().isoformat(),
        "end_date": today().isoformat(),
        "refills": "0",
        **overrides,
    }

    response = provider_client.post(
        reverse("prescriptions:prescription-create", kwargs={"patient_id": patient.pk}), data
    )

    assert response.status_code == 400
    assert _field_errors(_page(response), field) == [message]
    assert not Prescription.objects.exists()


def test_emergency_access_cannot_prescribe(emergency_client: Client, patient) -> None:
    url = reverse("prescriptions:prescription-create", kwargs={"patient_id": patient.pk})

    assert emergency_client.get(url).status_code == 403
    assert emergency_client.post(url, {"medication_name": "X"}).status_code == 403
    assert not Prescription.objects.exists()


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("prescription-cancel", PrescriptionStatus.CANCELLED, "The prescription is cancelled."),
        ("prescription-complete", PrescriptionStatus.COMPLETED, "The prescription is completed."),
    ],
)
def test_the_provider_cancels_or_completes_a_prescription(
    provider_client: Client, prescription, name: str, status: str, message: str
) -> None:
    url = reverse(f"prescriptions:{name}", kwargs={"prescription_id": prescription.pk})

    response = provider_client.post(url)

    assert response.status_code == 302
    assert _reloaded(prescription).status == status
    page = _page(provider_client.get(response["Location"]))
    assert message in page
    assert "Mark completed" not in page and "Cancel prescription" not in page
    again = provider_client.post(url, follow=True)
    assert "Only an active prescription can be" in _page(again)
    assert _reloaded(prescription).status == status


def test_a_prescription_cannot_be_changed_with_a_get(provider_client: Client, prescription) -> None:
    url = reverse("prescriptions:prescription-cancel", kwargs={"prescription_id": prescription.pk})

    assert provider_client.get(url).status_code == 405
    assert _reloaded(prescription).status == PrescriptionStatus.ACTIVE


def test_emergency_access_cannot_cancel(emergency_client: Client, prescription) -> None:
    url = reverse("prescriptions:prescription-cancel", kwargs={"prescription_id": prescription.pk})

    page = _page(emergency_client.get(_detail(prescription)))
    response = emergency_client.post(url)

    assert "Cancel prescription" not in page
    assert response.status_code == 403
    assert _reloaded(prescription).status == PrescriptionStatus.ACTIVE


# --- Providers: deciding refills ---------------------------------------------------------------------


def test_the_refill_queue_lists_pending_requests_of_the_providers_patients(
    provider_client: Client, other_provider, other_patient, patient, prescription, refill
) -> None:
    theirs = make_prescriptions(other_patient, other_provider, 1)[0]
    refill_request_create(prescription=theirs, requested_by=other_patient.user)
    decided = make_prescriptions(patient, other_provider, 1, start=1)[0]
    old = refill_request_create(prescription=decided, requested_by=patient.user)
    RefillRequest.objects.filter(pk=old.pk).update(
        status=RefillStatus.APPROVED, decided_by=other_provider.user, decided_at=old.created_at
    )

    page = _page(provider_client.get(reverse("prescriptions:provider-refill-list")))

    assert _refill_url("refill-detail", refill) in page
    assert (
        "Cetirizine 10 mg" in page and "Running low" not in page
    )  # the note is on the decision page
    assert "Riley Other" not in page
    assert "Medication 001" not in page  # already decided
    assert 'aria-current="page">Refills' in page


def test_the_refill_queue_queries_do_not_grow(
    provider_client: Client, provider, django_assert_num_queries
) -> None:
    url = reverse("prescriptions:provider-refill-list")
    for patient in make_patients(provider, 2):
        refill_request_create(
            prescription=make_prescriptions(patient, provider, 1)[0], requested_by=patient.user
        )
    provider_client.get(url)

    few, _ = _query_count(provider_client, url)
    for patient in make_patients(provider, 15, start=2):
        refill_request_create(
            prescription=make_prescriptions(patient, provider, 1)[0], requested_by=patient.user
        )
    # Session, user with their provider profile, second factor, the requests, the session's
    # activity stamp (3).
    with django_assert_num_queries(8):
        many, page = _query_count(provider_client, url)

    assert many == few
    assert page.count("data-refill=") == 17


def test_the_decision_page_shows_the_request_and_logs_the_access(
    provider_client: Client, provider, patient, refill
) -> None:
    response = provider_client.get(_refill_url("refill-detail", refill))

    page = _page(response)
    assert response.status_code == 200
    assert "Running low" in page
    assert (
        "Approve the refill" in page
        and "Renew the prescription" in page
        and "Deny the refill" in page
    )
    access = PHIAccess.objects.get()
    assert (access.accessor, access.patient, access.resource, access.object_id) == (
        provider.user,
        patient,
        "refills",
        str(refill.pk),
    )


def test_approving_uses_a_refill_and_says_how_many_are_left(
    provider_client: Client, prescription, refill
) -> None:
    response = provider_client.post(_refill_url("refill-approve", refill))

    assert response.status_code == 302
    assert response["Location"] == reverse("prescriptions:provider-refill-list")
    assert _reloaded(refill).status == RefillStatus.APPROVED
    assert _reloaded(prescription).refills == 1
    page = _page(provider_client.get(response["Location"]))
    assert "Refill approved. 1 refill is left." in page
    assert "No refill requests are waiting." in page


def test_approving_at_zero_refills_tells_the_provider_to_renew(
    provider_client: Client, prescription, refill
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(refills=0)

    response = provider_client.post(_refill_url("refill-approve", refill), follow=True)

    page = _page(response)
    assert response.redirect_chain[-1][0] == _refill_url("refill-detail", refill)
    assert "No refills are left on this prescription, so the request cannot be approved." in page
    assert "Renew the prescription instead" in page
    assert "Renew the prescription</button>" in page
    assert _reloaded(refill).status == RefillStatus.PENDING
    assert _reloaded(prescription).refills == 0


def test_a_denial_without_a_reason_is_explained_next_to_the_field(
    provider_client: Client, refill
) -> None:
    response = provider_client.post(_refill_url("refill-deny", refill), {"deny-reason": "  "})

    assert response.status_code == 400
    assert _field_errors(_page(response), "deny-reason") == ["This field is required."]
    assert _reloaded(refill).status == RefillStatus.PENDING


def test_denying_with_a_reason(provider_client: Client, provider, prescription, refill) -> None:
    response = provider_client.post(
        _refill_url("refill-deny", refill), {"deny-reason": "Book a review first."}
    )

    assert response.status_code == 302
    refill = _reloaded(refill)
    assert (refill.status, refill.decision_reason, refill.decided_by) == (
        RefillStatus.DENIED,
        "Book a review first.",
        provider.user,
    )
    assert _reloaded(prescription).refills == 2


def test_renewing_writes_a_new_prescription(
    provider_client: Client, patient, prescription, refill
) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(refills=0)
    start, end = today(), today() + dt.timedelta(days=90)

    response = provider_client.post(
        _refill_url("refill-renew", refill),
        {
            "renew-start_date": start.isoformat(),
            "renew-end_date": end.isoformat(),
            "renew-refills": "3",
            "renew-duration": "90 days",
            "renew-notes": "",
        },
    )

    renewal = Prescription.objects.exclude(pk=prescription.pk).get()
    assert response.status_code == 302
    assert response["Location"] == _detail(renewal)
    assert (renewal.medication_name, renewal.start_date, renewal.end_date, renewal.refills) == (
        "Cetirizine",
        start,
        end,
        3,
    )
    assert _reloaded(prescription).status == PrescriptionStatus.COMPLETED
    assert (_reloaded(refill).status, refill.renewal_id) == (RefillStatus.RENEWED, renewal.pk)
    assert "Prescription renewed; the request is approved." in _page(
        provider_client.get(response["Location"])
    )


def test_a_renewal_with_bad_dates_is_explained_and_changes_nothing(
    provider_client: Client, prescription, refill
) -> None:
    response = provider_client.post(
        _refill_url("refill-renew", refill),
        {
            "renew-start_date": today().isoformat(),
            "renew-end_date": (today() - dt.timedelta(days=1)).isoformat(),
            "renew-refills": "1",
        },
    )

    assert response.status_code == 400
    assert _field_errors(_page(response), "renew-end_date") == [
        "The end date must be on or after the start date."
    ]
    assert Prescription.objects.count() == 1
    assert _reloaded(refill).status == RefillStatus.PENDING


def test_a_decided_request_cannot_be_decided_again(
    provider_client: Client, prescription, refill
) -> None:
    provider_client.post(_refill_url("refill-approve", refill))

    page = _page(provider_client.post(_refill_url("refill-approve", refill), follow=True))

    assert "This request has already been decided." in page
    assert _reloaded(prescription).refills == 1
    assert "Approve the refill" not in page


def test_emergency_access_cannot_decide_refills(
    emergency_client: Client, prescription, refill
) -> None:
    page = _page(emergency_client.get(_refill_url("refill-detail", refill)))

    assert "Emergency access is read-only" in page
    assert "Approve the refill" not in page
    for name, data in (("refill-approve", {}), ("refill-deny", {"deny-reason": "No"})):
        assert emergency_client.post(_refill_url(name, refill), data).status_code == 403
    assert _reloaded(refill).status == RefillStatus.PENDING
    assert _reloaded(prescription).refills == 2


def test_the_patient_cannot_decide_her_own_refill(
    patient_client: Client, prescription, refill
) -> None:
    assert patient_client.get(_refill_url("refill-detail", refill)).status_code == 403
    assert patient_client.post(_refill_url("refill-approve", refill)).status_code == 403
    assert _reloaded(prescription).refills == 2


def test_an_unrelated_provider_gets_404(
    other_provider_client: Client, prescription, refill
) -> None:
    assert other_provider_client.get(_detail(prescription)).status_code == 404
    assert other_provider_client.get(_refill_url("refill-detail", refill)).status_code == 404
    assert other_provider_client.post(_refill_url("refill-approve", refill)).status_code == 404
    assert _reloaded(prescription).refills == 2
    assert not PHIAccess.objects.exists()


def test_the_prescription_page_queries_do_not_grow_with_its_requests(
    provider_client: Client, provider, patient, prescription, django_assert_num_queries
) -> None:
    url = _detail(prescription)
    provider_client.get(url)
    few, _ = _query_count(provider_client, url)
    for n in range(8):
        refill = refill_request_create(
            prescription=prescription, requested_by=patient.user, note=f"Ask {n}"
        )
        RefillRequest.objects.filter(pk=refill.pk).update(
            status=RefillStatus.DENIED,
            decided_by=provider.user,
            decided_at=refill.created_at,
            decision_reason="No",
        )

    # Session, user with their provider profile, second factor, the prescription, its requests,
    # the relationship check and the access-log insert, and the session's activity stamp (3).
    with django_assert_num_queries(11):
        many, page = _query_count(provider_client, url)

    assert many == few
    assert page.count("Decided by Anika Patel") == 8
