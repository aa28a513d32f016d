"""Prescriptions in the admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conftest import login_verified
from patients.models import PatientProfile
from patients.services import patient_create
from prescriptions.models import Prescription, PrescriptionStatus
from prescriptions.services import prescription_create
from providers.models import ProviderProfile
from providers.services import provider_create
from tests.admin_checks import query_count

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:prescriptions_prescription_changelist"


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    # The admin site demands a verified second factor; this signs in with one.
    return login_verified(client, admin_user)


@pytest.fixture
def prescription(patient: PatientProfile, provider: ProviderProfile) -> Prescription:
    return prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Amoxicillin",
        dosage="500 mg",
        frequency="three times a day",
        start_date=dt.date(2030, 3, 4),
        end_date=dt.date(2030, 3, 14),
        refills=1,
    )


def _make_prescriptions(count: int, *, start: int = 0) -> list[Prescription]:
    # Each row has its own patient and provider, so a missing select_related
    # costs one query per row and shows up in the count.
    return [
        prescription_create(
            patient=patient_create(
                email=f"treated{n}@example.org",
                full_name=f"Treated Patient{n:03d}",
                date_of_birth=dt.date(1980, 1, 1),
            ),
            provider=provider_create(
                email=f"prescriber{n}@example.org", full_name=f"Prescribing Doctor{n:03d}"
            ),
            medication_name=f"Medication {n}",
            dosage="10 mg",
            frequency="daily",
            start_date=dt.date(2030, 1, 1) + dt.timedelta(days=n),
            end_date=dt.date(2030, 6, 1),
        )
        for n in range(start, start + count)
    ]


def test_changelist_lists_prescriptions(admin_session: Client, prescription: Prescription) -> None:
    response = admin_session.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Amoxicillin" in page
    assert "Pat Jones" in page
    assert "Anika Patel, MD" in page


def test_changelist_queries_do_not_grow_with_prescriptions(admin_session: Client) -> None:
    url = reverse(CHANGELIST)
    _make_prescriptions(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    few, _ = query_count(admin_session, url)
    _make_prescriptions(27, start=3)
    many, page = query_count(admin_session, url)

    assert Prescription.objects.count() == 30
    assert "Treated Patient029" in page
    assert "Prescribing Doctor029" in page
    assert many == few


def test_change_page_shows_the_prescription(
    admin_session: Client, prescription: Prescription
) -> None:
    response = admin_session.get(
        reverse("admin:prescriptions_prescription_change", args=[prescription.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Amoxicillin" in page
    assert "three times a day" in page
    assert "admin-autocomplete" in page


def test_change_form_saves_and_validates(admin_session: Client, prescription: Prescription) -> None:
    url = reverse("admin:prescriptions_prescription_change", args=[prescription.pk])
    data = {
        "patient": prescription.patient.pk,
        "provider": prescription.provider.pk,
        "medical_record": "",
        "medication_name": "Amoxicillin",
        "dosage": "500 mg",
        "frequency": "three times a day",
        "duration": "10 days",
        "refills": "0",
        "start_date": "2030-03-04",
        "end_date": "2030-03-14",
        "status": PrescriptionStatus.CANCELLED,
        "notes": "",
    }

    backwards = admin_session.post(url, {**data, "end_date": "2030-03-01"})
    saved = admin_session.post(url, data)

    # The model's own rule (end on or after start) is enforced in the admin too.
    assert backwards.status_code == 200
    assert "The end date must be on or after the start date." in backwards.content.decode()
    assert saved.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.CANCELLED
    assert prescription.end_date == dt.date(2030, 3, 14)
    assert prescription.refills == 0


def test_search_by_medication_and_patient(
    admin_session: Client, prescription: Prescription, other_patient, other_provider
) -> None:
    prescription_create(
        patient=other_patient,
        provider=other_provider,
        medication_name="Hydrocortisone cream",
        dosage="1%",
        frequency="twice a day",
        start_date=dt.date(2030, 3, 4),
        end_date=dt.date(2030, 3, 18),
    )

    for term, expected, absent in [
        ("amoxi", "Amoxicillin", "Hydrocortisone"),
        ("Riley", "Hydrocortisone", "Amoxicillin"),
        ("Anika", "Amoxicillin", "Hydrocortisone"),
    ]:
        response = admin_session.get(reverse(CHANGELIST), {"q": term})

        page = response.content.decode()
        assert response.context["cl"].result_count == 1, term
        assert expected in page
        assert absent not in page


def test_prescriptions_cannot_be_deleted(admin_session: Client, prescription: Prescription) -> None:
    response = admin_session.post(
        reverse("admin:prescriptions_prescription_delete", args=[prescription.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Prescription.objects.filter(pk=prescription.pk).exists()


# --- Refill requests ---------------------------------------------------------------------


REFILLS = "admin:prescriptions_refillrequest_changelist"


def _make_refills(count: int, *, start: int = 0) -> None:
    from prescriptions.services import refill_request_create

    for prescription in _make_prescriptions(count, start=start):
        prescription.refills = 1
        prescription.save(update_fields=["refills"])
        refill_request_create(prescription=prescription, requested_by=prescription.patient.user)


def test_refill_requests_are_listed_and_searchable(
    admin_session: Client, prescription: Prescription
) -> None:
    from prescriptions.services import refill_request_create

    refill_request_create(
        prescription=prescription, requested_by=prescription.patient.user, note="Running low"
    )
    _make_refills(1)

    listed = admin_session.get(reverse(REFILLS)).content.decode()
    found = admin_session.get(reverse(REFILLS), {"q": "amoxi"})

    assert "Pat Jones" in listed and "Treated Patient000" in listed
    assert found.context["cl"].result_count == 1


def test_refill_request_changelist_queries_do_not_grow(admin_session: Client) -> None:
    url = reverse(REFILLS)
    _make_refills(3)
    admin_session.get(url)

    few, _ = query_count(admin_session, url)
    _make_refills(17, start=3)
    many, page = query_count(admin_session, url)

    assert many == few
    assert "Treated Patient019" in page


def test_refill_requests_cannot_be_added_or_deleted_in_the_admin(
    admin_session: Client, prescription: Prescription
) -> None:
    from prescriptions.models import RefillRequest
    from prescriptions.services import refill_request_create

    refill = refill_request_create(
        prescription=prescription, requested_by=prescription.patient.user
    )

    assert admin_session.get(reverse("admin:prescriptions_refillrequest_add")).status_code == 403
    deleted = admin_session.post(
        reverse("admin:prescriptions_refillrequest_delete", args=[refill.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert RefillRequest.objects.filter(pk=refill.pk).exists()
    change = admin_session.get(
        reverse("admin:prescriptions_refillrequest_change", args=[refill.pk])
    )
    assert change.status_code == 200
    assert "Amoxicillin" in change.content.decode()
