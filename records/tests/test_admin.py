"""Medical records in the admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conftest import login_verified
from patients.models import PatientProfile
from patients.services import patient_create
from providers.models import ProviderProfile
from providers.services import provider_create
from records.models import MedicalRecord
from records.services import medical_record_create
from tests.admin_checks import query_count

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:records_medicalrecord_changelist"


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    # The admin site demands a verified second factor; this signs in with one.
    return login_verified(client, admin_user)


@pytest.fixture
def record(patient: PatientProfile, provider: ProviderProfile) -> MedicalRecord:
    return medical_record_create(
        patient=patient,
        provider=provider,
        record_date=dt.date(2030, 3, 4),
        diagnosis="Essential hypertension",
        symptoms="Headaches",
        treatment="Lisinopril 10 mg daily",
    )


def _make_records(count: int, *, start: int = 0) -> list[MedicalRecord]:
    # Each row has its own patient and provider, so a missing select_related
    # costs one query per row and shows up in the count.
    return [
        medical_record_create(
            patient=patient_create(
                email=f"charted{n}@example.org",
                full_name=f"Charted Patient{n:03d}",
                date_of_birth=dt.date(1980, 1, 1),
            ),
            provider=provider_create(
                email=f"author{n}@example.org", full_name=f"Author Doctor{n:03d}"
            ),
            record_date=dt.date(2030, 1, 1) + dt.timedelta(days=n),
            diagnosis=f"Diagnosis {n}",
        )
        for n in range(start, start + count)
    ]


def test_changelist_lists_records(admin_session: Client, record: MedicalRecord) -> None:
    response = admin_session.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Essential hypertension" in page
    assert "Pat Jones" in page
    assert "Anika Patel, MD" in page


def test_changelist_queries_do_not_grow_with_records(admin_session: Client) -> None:
    url = reverse(CHANGELIST)
    _make_records(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    few, _ = query_count(admin_session, url)
    _make_records(27, start=3)
    many, page = query_count(admin_session, url)

    assert MedicalRecord.objects.count() == 30
    assert "Charted Patient029" in page
    assert "Author Doctor029" in page
    assert many == few


def test_change_page_shows_the_record(admin_session: Client, record: MedicalRecord) -> None:
    response = admin_session.get(reverse("admin:records_medicalrecord_change", args=[record.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Lisinopril 10 mg daily" in page
    assert "admin-autocomplete" in page


def test_change_form_saves(admin_session: Client, record: MedicalRecord) -> None:
    response = admin_session.post(
        reverse("admin:records_medicalrecord_change", args=[record.pk]),
        {
            "patient": record.patient.pk,
            "provider": record.provider.pk,
            "appointment": "",
            "record_date": "2030-03-04",
            "symptoms": "Headaches",
            "diagnosis": "Essential hypertension, controlled",
            "treatment": "Lisinopril 10 mg daily",
            "notes": "",
        },
    )

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.diagnosis == "Essential hypertension, controlled"


def test_search_by_diagnosis_and_patient(
    admin_session: Client, record: MedicalRecord, other_patient, other_provider
) -> None:
    medical_record_create(
        patient=other_patient,
        provider=other_provider,
        record_date=dt.date(2030, 3, 5),
        diagnosis="Contact dermatitis",
    )

    for term, expected, absent in [
        ("hypertension", "Essential hypertension", "Contact dermatitis"),
        ("Riley", "Contact dermatitis", "Essential hypertension"),
        ("lisinopril", "Essential hypertension", "Contact dermatitis"),
    ]:
        response = admin_session.get(reverse(CHANGELIST), {"q": term})

        page = response.content.decode()
        assert response.context["cl"].result_count == 1, term
        assert expected in page
        assert absent not in page


def test_records_cannot_be_deleted(admin_session: Client, record: MedicalRecord) -> None:
    response = admin_session.post(
        reverse("admin:records_medicalrecord_delete", args=[record.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert MedicalRecord.objects.filter(pk=record.pk).exists()
