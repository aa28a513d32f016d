"""Staff reads of patient data in the admin are in the PHI access log, shown to the patient."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from assistant.models import AIInteraction
from conftest import login_verified
from messaging.services import message_create
from patients.models import PatientProfile, PHIAccess, PHIResource
from scheduling.models import Appointment
from scheduling.services import appointment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    return login_verified(client, admin_user)


def _appointments(
    patient: PatientProfile, provider, count: int, *, start: int = 0
) -> list[Appointment]:
    base = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    return [
        appointment_create(
            patient=patient,
            provider=provider,
            date_time=base + dt.timedelta(days=n),
            reason="Cough",
        )
        for n in range(start, start + count)
    ]


def _logged(accessor: User) -> list[tuple[object, str, str]]:
    return sorted(
        (row.patient_id, row.resource, row.object_id)
        for row in PHIAccess.objects.filter(accessor=accessor)
    )


def _inserts_into_the_log(queries: CaptureQueriesContext) -> int:
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].upper().startswith("INSERT") and "phi_access_log" in q["sql"]
    )


def test_change_view_of_a_profile_is_logged(admin_session: Client, admin_user, patient) -> None:
    response = admin_session.get(reverse("admin:patients_patientprofile_change", args=[patient.pk]))

    assert response.status_code == 200
    assert _logged(admin_user) == [(patient.pk, PHIResource.PROFILE, str(patient.pk))]


@pytest.mark.parametrize("view", ["change", "history"])
def test_change_and_history_views_of_an_appointment_are_logged(
    admin_session: Client, admin_user, patient, provider, view: str
) -> None:
    (appointment,) = _appointments(patient, provider, 1)

    response = admin_session.get(
        reverse(f"admin:scheduling_appointment_{view}", args=[appointment.pk])
    )

    assert response.status_code == 200
    assert _logged(admin_user) == [(patient.pk, PHIResource.APPOINTMENT, str(appointment.pk))]
    row = PHIAccess.objects.get(accessor=admin_user)
    assert row.ip_address == "127.0.0.1" and row.emergency is False


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("admin:records_medicalrecord_change", "record"),
        ("admin:prescriptions_prescription_change", "prescription"),
        ("admin:messaging_message_change", "message"),
        ("admin:assistant_aiinteraction_change", "interaction"),
        ("admin:accounts_user_change", "user"),
    ],
)
def test_every_phi_model_logs_its_patient(
    admin_session: Client, admin_user, patient, provider, url_name: str, make: str
) -> None:
    from prescriptions.services import prescription_create
    from records.services import medical_record_create

    if make == "record":
        obj = medical_record_create(
            patient=patient, provider=provider, record_date=timezone.localdate(), diagnosis="Asthma"
        )
    elif make == "prescription":
        obj = prescription_create(
            patient=patient,
            provider=provider,
            medication_name="Salbutamol",
            dosage="100 mcg",
            frequency="as needed",
            duration="30 days",
            start_date=timezone.localdate(),
            end_date=timezone.localdate() + dt.timedelta(days=30),
        )
    elif make == "message":
        obj = message_create(
            sender=provider.user, receiver=patient.user, content="Your results are in"
        )
    elif make == "interaction":
        obj = AIInteraction.objects.create(
            user=patient.user,
            input_text="book me in",
            response_text="When?",
            detected_intent="book",
            confidence_score=0.9,
        )
    else:
        obj = patient.user

    response = admin_session.get(reverse(url_name, args=[obj.pk]))

    assert response.status_code == 200
    assert [patient_id for patient_id, _r, _o in _logged(admin_user)] == [patient.pk]


def test_a_staff_account_page_logs_nobody(admin_session: Client, admin_user, provider) -> None:
    response = admin_session.get(reverse("admin:accounts_user_change", args=[provider.user.pk]))

    assert response.status_code == 200
    assert _logged(admin_user) == []


def test_filtered_changelist_logs_each_patient_shown_once_in_one_insert(
    admin_session: Client, admin_user, patient, other_patient, provider, other_provider
) -> None:
    _appointments(patient, provider, 3)
    _appointments(other_patient, other_provider, 2, start=5)

    with CaptureQueriesContext(connection) as queries:
        response = admin_session.get(
            reverse("admin:scheduling_appointment_changelist"), {"status": "scheduled"}
        )

    assert response.status_code == 200
    assert response.context["cl"].result_count == 5
    logged = _logged(admin_user)
    assert sorted(patient_id for patient_id, _r, _o in logged) == sorted(
        [patient.pk, other_patient.pk]
    )
    assert _inserts_into_the_log(queries) == 1


def test_a_search_is_a_filtered_changelist(
    admin_session: Client, admin_user, patient, other_patient
) -> None:
    response = admin_session.get(
        reverse("admin:patients_patientprofile_changelist"), {"q": "Pat Jones"}
    )

    assert response.status_code == 200
    assert [patient_id for patient_id, _r, _o in _logged(admin_user)] == [patient.pk]


def test_unfiltered_changelist_and_paging_log_nothing(
    admin_session: Client, admin_user, patient, provider
) -> None:
    _appointments(patient, provider, 2)

    admin_session.get(reverse("admin:scheduling_appointment_changelist"))
    admin_session.get(reverse("admin:scheduling_appointment_changelist"), {"o": "1", "p": "1"})

    assert _logged(admin_user) == []


def test_log_queries_do_not_grow_with_the_rows_shown(
    admin_session: Client, patient, provider, other_patient, other_provider
) -> None:
    url = reverse("admin:scheduling_appointment_changelist")
    _appointments(patient, provider, 2)
    with CaptureQueriesContext(connection) as few:
        admin_session.get(url, {"status": "scheduled"})
    _appointments(other_patient, other_provider, 20, start=10)
    with CaptureQueriesContext(connection) as many:
        admin_session.get(url, {"status": "scheduled"})

    assert len(many) == len(few)


def test_the_patient_sees_staff_views_in_who_viewed_my_record(
    admin_session: Client, admin_user, patient, patient_client: Client
) -> None:
    admin_session.get(reverse("admin:patients_patientprofile_change", args=[patient.pk]))

    page = patient_client.get(reverse("patients:access-log")).content.decode()

    assert admin_user.full_name in page
    assert "Practice staff" in page
    assert "Profile and contact details" in page
