"""Record pages: the patient's list, record and summary; providers writing, reading and amending records."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import PatientProfile, PHIAccess
from prescriptions.services import prescription_create
from providers.services import relationship_activate
from records.models import MedicalRecord
from records.services import medical_record_create
from records.tests.fixtures import at, make_prescriptions, make_records, today
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_create

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


def _detail(record: MedicalRecord) -> str:
    return reverse("records:record-detail", kwargs={"record_id": record.pk})


def _create_url(patient: PatientProfile) -> str:
    return reverse("records:record-create", kwargs={"patient_id": patient.pk})


def _form_data(**overrides) -> dict[str, str]:
    data = {
        "record_date": today().isoformat(),
        "symptoms": "Dry cough for two weeks",
        "diagnosis": "Acute bronchitis",
        "treatment": "Rest and fluids",
        "notes": "",
        "appointment": "",
    }
    data.update(overrides)
    return data


# --- The patient's records ---------------------------------------------------------------------


def test_the_patient_sees_their_records_newest_first_with_provider_and_appointment(
    patient_client: Client, patient, provider, visit, other_patient, other_provider
) -> None:
    older = medical_record_create(
        patient=patient,
        provider=provider,
        record_date=today() - dt.timedelta(days=30),
        diagnosis="Sprained ankle",
    )
    newer = medical_record_create(
        patient=patient,
        provider=provider,
        record_date=today(),
        diagnosis="Acute bronchitis",
        appointment=visit,
    )
    medical_record_create(
        patient=other_patient, provider=other_provider, record_date=today(), diagnosis="Eczema"
    )

    page = _page(patient_client.get(reverse("records:patient-record-list")))

    assert page.index("Acute bronchitis") < page.index("Sprained ankle")
    assert _detail(newer) in page and _detail(older) in page
    assert "With Anika Patel, MD" in page
    assert re.search(r"Appointment of \w{3} \d+ \w{3} \d{4}, 09:00 E[SD]T", page)
    assert "Eczema" not in page
    assert reverse("records:patient-summary") in page


def test_the_record_list_says_when_there_are_none(patient_client: Client) -> None:
    page = _page(patient_client.get(reverse("records:patient-record-list")))

    assert "You have no visit records yet." in page


def test_the_record_list_queries_do_not_grow_with_records(
    patient_client: Client, patient, provider, django_assert_max_num_queries
) -> None:
    url = reverse("records:patient-record-list")
    make_records(patient, provider, 2)
    patient_client.get(url)

    few, _ = _query_count(patient_client, url)
    make_records(patient, provider, 28, start=2)
    # Session, user, patient profile, a page of records (its rows carry the total),
    # and the session's activity stamp (3).
    with django_assert_max_num_queries(8):
        many, page = _query_count(patient_client, url)

    assert many == few
    # Newest first, a page at a time: the latest is shown, the oldest waits on page 2.
    assert "Diagnosis 000" in page
    assert "Diagnosis 029" not in page and "page=2" in page


def test_the_patient_reads_a_record_with_its_history_and_prescriptions(
    patient_client: Client, patient, provider, record
) -> None:
    prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Cetirizine",
        dosage="10 mg",
        frequency="once daily",
        start_date=today(),
        end_date=today(),
        medical_record=record,
    )

    response = patient_client.get(_detail(record))

    page = _page(response)
    assert response.status_code == 200
    assert "Seasonal allergic rhinitis" in page
    assert "Sneezing, itchy eyes" in page
    assert "Anika Patel, MD" in page
    assert "Cetirizine" in page
    assert "wrote the record" in page
    assert "Amend this record" not in page
    assert not PHIAccess.objects.exists()  # a patient reading her own record is not logged


def test_record_text_is_escaped(patient_client: Client, patient, provider) -> None:
    record = medical_record_create(
        patient=patient,
        provider=provider,
        record_date=today(),
        diagnosis=XSS,
        symptoms=f"Line one\n{XSS}",
    )

    page = _page(patient_client.get(_detail(record)))

    assert XSS not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Line one<br>" in page


def test_another_patients_record_is_404(other_patient_client: Client, record) -> None:
    assert other_patient_client.get(_detail(record)).status_code == 404


def test_the_health_summary_lists_records_and_medication_for_print(
    patient_client: Client, patient, provider, record
) -> None:
    make_prescriptions(patient, provider, 1)
    make_prescriptions(patient, provider, 1, start=1, ended=True)

    response = patient_client.get(reverse("records:patient-summary"))

    page = _page(response)
    assert response.status_code == 200
    assert "Health summary of Pat Jones" in page
    assert (
        page.index("Current medication")
        < page.index("Medication 000")
        < page.index("Past medication")
    )
    assert page.index("Past medication") < page.index("Medication 001")
    assert "Seasonal allergic rhinitis" in page
    assert 'href="/static/css/print.css" media="print"' in page
    assert "123-45-6789" not in page


def test_the_summary_queries_do_not_grow(
    patient_client: Client, patient, provider, django_assert_max_num_queries
) -> None:
    url = reverse("records:patient-summary")
    make_records(patient, provider, 2)
    make_prescriptions(patient, provider, 2)
    patient_client.get(url)

    few, _ = _query_count(patient_client, url)
    make_records(patient, provider, 20, start=2)
    make_prescriptions(patient, provider, 20, start=2)
    # Session, user, patient profile, upcoming appointments, records, prescriptions
    # (current and past), and the session's activity stamp (3).
    with django_assert_max_num_queries(11):
        many, page = _query_count(patient_client, url)

    assert many == few
    assert "Diagnosis 021" in page and "Medication 021" in page


@pytest.mark.parametrize("name", ["records:patient-record-list", "records:patient-summary"])
def test_providers_are_refused_the_patient_pages(provider_client: Client, name: str) -> None:
    assert provider_client.get(reverse(name)).status_code == 403


# --- Providers read records -----------------------------------------------------------------


def test_the_provider_reads_a_record_and_the_access_is_logged(
    provider_client: Client, provider, record
) -> None:
    response = provider_client.get(_detail(record), REMOTE_ADDR="198.51.100.9")

    page = _page(response)
    assert response.status_code == 200
    assert "Seasonal allergic rhinitis" in page
    assert "Amend this record" in page
    assert "Prescribe from this record" in page
    access = PHIAccess.objects.get()
    assert (access.accessor, access.patient, access.resource) == (
        provider.user,
        record.patient,
        "medical_record",
    )
    assert (access.object_id, access.ip_address, access.emergency) == (
        str(record.pk),
        "198.51.100.9",
        False,
    )


def test_a_colleague_caring_for_the_patient_reads_but_cannot_amend(
    other_provider_client: Client, other_provider, patient, record
) -> None:
    relationship_activate(provider=other_provider, patient=patient)

    page = _page(other_provider_client.get(_detail(record)))
    amend = other_provider_client.get(
        reverse("records:record-update", kwargs={"record_id": record.pk})
    )

    assert "Seasonal allergic rhinitis" in page
    assert "Amend this record" not in page
    assert "Prescribe from this record" in page
    assert amend.status_code == 403


def test_under_emergency_access_a_record_is_read_only_and_flagged(
    emergency_client: Client, other_provider, patient, record
) -> None:
    response = emergency_client.get(_detail(record))

    page = _page(response)
    assert response.status_code == 200
    assert "Emergency access until" in page
    assert "Amend this record" not in page and "Prescribe from this record" not in page
    assert PHIAccess.objects.get().emergency is True
    assert emergency_client.get(_create_url(patient)).status_code == 403
    posted = emergency_client.post(_create_url(patient), _form_data())
    assert posted.status_code == 403
    assert MedicalRecord.objects.count() == 1


def test_an_unrelated_provider_gets_404(other_provider_client: Client, patient, record) -> None:
    assert other_provider_client.get(_detail(record)).status_code == 404
    assert other_provider_client.get(_create_url(patient)).status_code == 404
    assert other_provider_client.post(_create_url(patient), _form_data()).status_code == 404
    assert MedicalRecord.objects.count() == 1


def test_the_record_page_queries_do_not_grow_with_its_history(
    provider_client: Client, provider, patient, record, django_assert_max_num_queries
) -> None:
    url = _detail(record)
    provider_client.get(url)
    few, _ = _query_count(provider_client, url)
    for n in range(10):
        provider_client.post(
            reverse("records:record-update", kwargs={"record_id": record.pk}),
            _form_data(record_date=record.record_date.isoformat(), diagnosis=f"Revision {n}"),
        )
    make_prescriptions(patient, provider, 5, medical_record=record)

    # Session, user, second factor, provider profile, the record, its history, its
    # prescriptions, the relationship check and the access-log insert, and the
    # session's activity stamp (3).
    with django_assert_max_num_queries(13):
        many, page = _query_count(provider_client, url)

    assert many == few
    assert page.count("amended the record") == 10
    assert "Medication 004" in page


# --- Providers write records ------------------------------------------------------------------


def test_the_write_form_offers_todays_visit_and_logs_the_opening(
    provider_client: Client, provider, patient, visit
) -> None:
    response = provider_client.get(_create_url(patient), {"appointment": visit.pk})

    page = _page(response)
    assert response.status_code == 200
    assert f'value="{today().isoformat()}"' in page
    assert f'<option value="{visit.pk}" selected>' in page
    assert "Persistent cough" in page
    assert (
        PHIAccess.objects.filter(
            accessor=provider.user, patient=patient, resource="medical_record"
        ).count()
        == 1
    )


def test_writing_a_record_completes_the_appointment_and_shows_the_record(
    provider_client: Client, provider, patient, visit
) -> None:
    response = provider_client.post(
        _create_url(patient), _form_data(appointment=str(visit.pk), complete_appointment="on")
    )

    record = MedicalRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(record)
    assert (record.patient, record.provider, record.appointment) == (patient, provider, visit)
    assert record.diagnosis == "Acute bronchitis"
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.COMPLETED
    page = _page(provider_client.get(response["Location"]))
    assert "The record is saved." in page
    assert "Anika Patel" in page and "wrote the record" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"record_date": "2999-01-01"}, "record_date", "The record date cannot be in the future."),
        ({"record_date": "not a date"}, "record_date", "Enter a valid date."),
        (
            {"appointment": "00000000-0000-0000-0000-000000000000"},
            "appointment",
            "Select a valid choice.",
        ),
        (
            {"complete_appointment": "on"},
            "complete_appointment",
            "Choose the appointment to mark completed.",
        ),
    ],
    ids=["future date", "not a date", "unknown appointment", "complete without appointment"],
)
def test_bad_input_is_explained_next_to_the_field_and_writes_nothing(
    provider_client: Client, patient, overrides, field: str, message: str
) -> None:
    response = provider_client.post(_create_url(patient), _form_data(**overrides))

    page = _page(response)
    assert response.status_code == 400
    assert message in " ".join(_field_errors(page, field))
    assert 'value="Dry cough for two weeks"' in page or "Dry cough for two weeks</textarea>" in page
    assert not MedicalRecord.objects.exists()


def test_a_record_without_clinical_text_is_refused(provider_client: Client, patient) -> None:
    response = provider_client.post(
        _create_url(patient), _form_data(symptoms="", diagnosis="", treatment="")
    )

    assert response.status_code == 400
    assert "Write at least the symptoms, the diagnosis or the treatment." in _page(response)
    assert not MedicalRecord.objects.exists()


def test_a_future_appointment_cannot_be_completed_from_the_record(
    provider_client: Client, provider, patient, visit
) -> None:
    # Visits are offered up to today; one from tomorrow is not a choice at all.
    tomorrow = appointment_create(
        patient=patient, provider=provider, date_time=at(today() + dt.timedelta(days=1), 9)
    )

    response = provider_client.post(
        _create_url(patient), _form_data(appointment=str(tomorrow.pk), complete_appointment="on")
    )

    assert response.status_code == 400
    assert _field_errors(_page(response), "appointment")
    assert not MedicalRecord.objects.exists()
    tomorrow.refresh_from_db()
    assert tomorrow.status == AppointmentStatus.SCHEDULED


# --- Amending -------------------------------------------------------------------------------------


def test_the_author_amends_and_the_record_page_shows_who_changed_what(
    provider_client: Client, provider, record
) -> None:
    url = reverse("records:record-update", kwargs={"record_id": record.pk})
    form = _page(provider_client.get(url))
    assert "Seasonal allergic rhinitis</textarea>" in form

    response = provider_client.post(
        url,
        _form_data(
            record_date=record.record_date.isoformat(),
            symptoms=record.symptoms,
            diagnosis="Perennial allergic rhinitis",
            treatment=record.treatment,
            notes="Consider allergy testing",
        ),
    )

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.diagnosis == "Perennial allergic rhinitis"
    page = _page(provider_client.get(_detail(record)))
    assert "The record is amended" in page
    history = page[page.index('id="history-h"') :]
    assert "Anika Patel</strong>" in history
    assert "amended the record" in history
    assert (
        '<tr data-field="diagnosis"><th scope="row">Diagnosis</th><td><del>Seasonal allergic rhinitis</del></td><td><ins>Perennial allergic rhinitis</ins></td></tr>'
        in history
    )
    assert (
        '<tr data-field="notes"><th scope="row">Notes</th><td><del>—</del></td><td><ins>Consider allergy testing</ins></td></tr>'
        in history
    )
    assert 'data-field="treatment"' not in history
    # The patient sees the same history on her own page.
    assert history.count("amended the record") == 1


def test_an_amendment_with_bad_input_changes_nothing(provider_client: Client, record) -> None:
    url = reverse("records:record-update", kwargs={"record_id": record.pk})

    response = provider_client.post(url, _form_data(record_date="2999-01-01", diagnosis="Changed"))

    assert response.status_code == 400
    assert _field_errors(_page(response), "record_date") == [
        "The record date cannot be in the future."
    ]
    record.refresh_from_db()
    assert record.diagnosis == "Seasonal allergic rhinitis"


def test_the_patient_cannot_open_the_provider_forms(
    patient_client: Client, patient, record
) -> None:
    assert patient_client.get(_create_url(patient)).status_code == 403
    assert (
        patient_client.get(
            reverse("records:record-update", kwargs={"record_id": record.pk})
        ).status_code
        == 403
    )


def test_amending_another_providers_record_is_refused(
    provider_client: Client, patient, other_provider
) -> None:
    relationship_activate(provider=other_provider, patient=patient)
    theirs = medical_record_create(
        patient=patient, provider=other_provider, record_date=today(), diagnosis="Eczema"
    )

    response = provider_client.post(
        reverse("records:record-update", kwargs={"record_id": theirs.pk}),
        _form_data(diagnosis="Changed"),
    )

    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.diagnosis == "Eczema"


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, record, patient) -> None:
    for url in (
        reverse("records:patient-record-list"),
        reverse("records:patient-summary"),
        _detail(record),
        _create_url(patient),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
