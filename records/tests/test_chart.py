"""The clinical sections of the provider's patient chart, and the refill card of the provider dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import PHIAccess
from patients.timezones import DEFAULT_FORMAT, format_in_zone
from prescriptions.services import refill_request_create
from providers.services import relationship_activate
from providers.tests import factories as provider_factories
from providers.tests.factories import make_patients
from records.services import medical_record_create
from records.tests.fixtures import at, make_appointments, make_prescriptions, make_records, today
from scheduling.services import appointment_cancel, appointment_create

pytestmark = pytest.mark.django_db

# Session, user with their provider profile, second factor, the patient (with whether a care
# relationship gives the access), the access-log insert and the session's activity
# stamp (3), then upcoming and past appointments (one query), a page of records (rows
# and total in one query), current prescriptions with a page of past ones and its total
# (one) and open refill requests.
CHART_QUERIES = 13
# The dashboard's own (see providers/tests/test_views.py) plus the pending refills with their count.
DASHBOARD_QUERIES = 10


def _chart(patient) -> str:
    return reverse("providers:patient-chart", kwargs={"patient_id": patient.pk})


def _query_count(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    end = page.find("</section>", start)
    return page[start:end]


def test_the_chart_shows_appointments_records_prescriptions_and_open_refills(
    provider_client: Client, provider, other_provider, patient, visit, record, prescription, refill
) -> None:
    relationship_activate(provider=other_provider, patient=patient)
    upcoming = appointment_create(
        patient=patient,
        provider=other_provider,
        date_time=at(today() + dt.timedelta(days=2), 11),
        reason="Skin check",
    )
    make_prescriptions(patient, provider, 1, ended=True)

    page = provider_client.get(_chart(patient)).content.decode()

    appointments = _section(page, "appointments")
    assert "Persistent cough" in appointments and "Skin check" in appointments
    assert "Omar Other, DO" in appointments
    # This morning's visit of the signed-in provider can be written up; the colleague's cannot.
    assert (
        f"{reverse('records:record-create', kwargs={'patient_id': patient.pk})}?appointment={visit.pk}"
        in appointments
    )
    assert f"?appointment={upcoming.pk}" not in appointments
    records = _section(page, "records")
    assert "Seasonal allergic rhinitis" in records
    assert reverse("records:record-detail", kwargs={"record_id": record.pk}) in records
    prescriptions = _section(page, "prescriptions")
    current, past = prescriptions.split("<h3>Past</h3>")
    assert "Cetirizine" in current and "Refill requested" in current
    assert "Medication 000" in past and "Completed" in past
    refills = _section(page, "refills")
    assert "Cetirizine" in refills and "Running low" in refills
    assert reverse("prescriptions:refill-detail", kwargs={"refill_id": refill.pk}) in refills
    # The demographics stay as they were: the SSN masked.
    assert "***-**-6789" in page and "123-45-6789" not in page


def test_the_chart_lists_the_records_newest_first(
    provider_client: Client, provider, patient
) -> None:
    make_records(patient, provider, 3)

    records = _section(provider_client.get(_chart(patient)).content.decode(), "records")

    assert (
        records.index("Diagnosis 000")
        < records.index("Diagnosis 001")
        < records.index("Diagnosis 002")
    )


def test_a_record_shows_its_visit_time_and_escaped_texts(
    provider_client: Client, provider, patient, visit
) -> None:
    medical_record_create(
        patient=patient,
        provider=provider,
        record_date=today(),
        diagnosis="",
        symptoms="Cough <3 days>",
        appointment=visit,
    )

    records = _section(provider_client.get(_chart(patient)).content.decode(), "records")

    when = format_in_zone(visit.date_time, provider.zone, DEFAULT_FORMAT)
    assert f"· appointment of {when}</p>" in records
    assert " · Visit</a></h3>" in records
    assert '<p class="clinical-text">Symptoms: Cough &lt;3 days&gt;</p>' in records
    assert "Treatment:" not in records


def test_a_cancelled_appointment_cannot_be_written_up(
    provider_client: Client, provider, patient, visit
) -> None:
    appointment_cancel(appointment=visit, by=provider.user, reason="Provider ill")

    appointments = _section(provider_client.get(_chart(patient)).content.decode(), "appointments")

    assert "Cancelled" in appointments
    assert "Write record" not in appointments


def test_the_chart_offers_writing_only_with_a_care_relationship(
    emergency_client: Client, provider_client: Client, patient, visit, refill
) -> None:
    own = provider_client.get(_chart(patient)).content.decode()
    emergency = emergency_client.get(_chart(patient)).content.decode()

    for link in ("Write a record", ">Prescribe<", "Write record", ">Decide<"):
        assert link in own
        assert link not in emergency
    assert "Emergency access until" in emergency
    assert "Cetirizine" in emergency  # reading is allowed


def test_opening_the_chart_is_logged_once(
    provider_client: Client, patient, record, prescription
) -> None:
    provider_client.get(_chart(patient))

    assert list(PHIAccess.objects.values_list("resource", flat=True)) == ["chart"]


def test_the_chart_takes_the_same_queries_however_full_it_is(
    provider_client: Client, provider, patient, django_assert_num_queries
) -> None:
    url = _chart(patient)
    make_appointments(patient, provider, 2)
    make_records(patient, provider, 2)
    prescriptions = make_prescriptions(patient, provider, 2)
    # One past prescription: an empty page of them skips reading rows.
    make_prescriptions(patient, provider, 1, start=40, ended=True)
    refill_request_create(prescription=prescriptions[0], requested_by=patient.user)
    provider_client.get(url)

    few, _ = _query_count(provider_client, url)
    make_appointments(patient, provider, 20, start=2, days=-2)
    make_appointments(patient, provider, 20, days=3)
    make_records(patient, provider, 25, start=2)
    more = make_prescriptions(patient, provider, 25, start=2)
    make_prescriptions(patient, provider, 5, start=30, ended=True)
    for prescription in more[:10]:
        refill_request_create(prescription=prescription, requested_by=patient.user)
    with django_assert_num_queries(CHART_QUERIES):
        many, page = _query_count(provider_client, url)

    assert many == few
    # The newest records, a page of them, with the way to the older ones.
    assert "Diagnosis 000" in page and "Diagnosis 009" in page
    assert "Diagnosis 010" not in page
    assert "records_page=2#records" in page
    assert "Medication 034" in page
    assert page.count("data-refill=") == 11


def test_older_records_are_on_the_next_pages_of_the_chart(
    provider_client: Client, provider, patient
) -> None:
    make_records(patient, provider, 25)

    page = provider_client.get(_chart(patient), {"records_page": 3}).content.decode()
    records = _section(page, "records")

    assert "Diagnosis 020" in records and "Diagnosis 024" in records
    assert "Diagnosis 019" not in records
    assert "Page 3 of 3" in records


def test_a_records_page_past_the_end_or_not_a_number_falls_back_as_paginator_does(
    provider_client: Client, provider, patient
) -> None:
    make_records(patient, provider, 25)

    past_end = _section(
        provider_client.get(_chart(patient), {"records_page": 9}).content.decode(), "records"
    )
    below_one = _section(
        provider_client.get(_chart(patient), {"records_page": 0}).content.decode(), "records"
    )
    not_a_number = _section(
        provider_client.get(_chart(patient), {"records_page": "x"}).content.decode(), "records"
    )

    assert "Diagnosis 024" in past_end and "Page 3 of 3" in past_end
    assert "Diagnosis 024" in below_one and "Page 3 of 3" in below_one
    assert "Diagnosis 000" in not_a_number and "Page 1 of 3" in not_a_number


# --- Dashboard -------------------------------------------------------------------------------


def test_the_dashboard_lists_pending_refills_of_the_providers_patients(
    provider_client: Client, other_provider, other_patient, refill
) -> None:
    theirs = make_prescriptions(other_patient, other_provider, 1)[0]
    refill_request_create(
        prescription=theirs, requested_by=other_patient.user, note="Not for Dr Patel"
    )

    page = provider_client.get(reverse("providers:dashboard")).content.decode()

    card = _section(page, "refills-h")
    assert '<span class="badge" data-count="refills">1</span>' in card
    assert reverse("prescriptions:refill-detail", kwargs={"refill_id": refill.pk}) in card
    assert "Pat Jones" in card and "Cetirizine 10 mg" in card
    assert "Riley Other" not in page and "Medication 000" not in page
    assert "No refill requests are waiting." not in card


def test_the_dashboard_refill_card_takes_the_same_queries_however_many_wait(
    provider_client: Client, provider, django_assert_num_queries
) -> None:
    url = reverse("providers:dashboard")
    patients = make_patients(provider, 2)
    provider_factories.make_appointments(
        provider, patients
    )  # a full dashboard, as its own test has
    for patient in patients:
        refill_request_create(
            prescription=make_prescriptions(patient, provider, 1)[0], requested_by=patient.user
        )
    provider_client.get(url)

    few, _ = _query_count(provider_client, url)
    more = make_patients(provider, 10, start=2)
    provider_factories.make_appointments(provider, more, start=2)
    for patient in more:
        refill_request_create(
            prescription=make_prescriptions(patient, provider, 1)[0], requested_by=patient.user
        )
    with django_assert_num_queries(DASHBOARD_QUERIES):
        many, page = _query_count(provider_client, url)

    assert many == few
    assert '<span class="badge" data-count="refills">12</span>' in page
    assert page.count("data-refill=") == 5  # the oldest five; the rest are one click away
