"""Provider portal pages: access for every persona, what each page shows, and what it writes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import WORKING_HOURS
from messaging.services import message_create
from patients.models import EmergencyAccess, PatientProfile, PHIAccess
from patients.services import EMERGENCY_ACCESS_DURATION, patient_create
from prescriptions.services import prescription_create, refill_request_create
from providers.models import ProviderProfile
from providers.services import relationship_deactivate
from providers.tests.factories import (
    NEW_YORK,
    make_appointments,
    make_patients,
    make_unread_messages,
    today_at,
)
from scheduling.models import AppointmentType
from scheduling.services import appointment_create

pytestmark = pytest.mark.django_db

SSN_PLAIN = ("123-45-6789", "123456789", "123 45 6789")
REASON = "Unconscious in the emergency department, allergies unknown."

UrlFor = Callable[[PatientProfile], str]
PAGES: dict[str, UrlFor] = {
    "dashboard": lambda p: reverse("providers:dashboard"),
    "profile": lambda p: reverse("providers:profile"),
    "patient-list": lambda p: reverse("providers:patient-list"),
    "patient-chart": lambda p: reverse("providers:patient-chart", args=[p.pk]),
    "emergency-access": lambda p: reverse("providers:emergency-access"),
}


def _page(response) -> str:
    return response.content.decode()


def _chart_url(patient: PatientProfile) -> str:
    return reverse("providers:patient-chart", kwargs={"patient_id": patient.pk})


def _query_count(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), _page(response)


def _field_errors(page: str, field: str) -> list[str]:
    """Error texts rendered for one field (partials/field.html ties them by id)."""
    return re.findall(rf'<p class="error" id="id_{field}_error">(.*?)</p>', page)


# --- Access: every page, every persona -------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, patient: PatientProfile, name: str
) -> None:
    url = PAGES[name](patient)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url)}"


@pytest.mark.parametrize("name", PAGES)
def test_patients_are_refused(patient_client: Client, patient: PatientProfile, name: str) -> None:
    response = patient_client.get(PAGES[name](patient))

    assert response.status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_staff_without_a_provider_profile_are_refused(
    staff_client: Client, patient: PatientProfile, name: str
) -> None:
    response = staff_client.get(PAGES[name](patient))

    assert response.status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_a_provider_without_a_verified_second_factor_is_not_let_in(
    client: Client, provider: ProviderProfile, patient: PatientProfile, name: str
) -> None:
    client.force_login(provider.user)

    response = client.get(PAGES[name](patient))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa-setup")
    assert not PHIAccess.objects.exists()


@pytest.mark.parametrize("name", PAGES)
def test_the_related_provider_sees_every_page(
    provider_client: Client, patient: PatientProfile, name: str
) -> None:
    response = provider_client.get(PAGES[name](patient))

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")  # PHI is never cached
    assert "no-store" in response["Cache-Control"]


def test_an_unrelated_provider_gets_404_for_the_chart(
    other_provider_client: Client, patient: PatientProfile
) -> None:
    response = other_provider_client.get(_chart_url(patient))

    assert response.status_code == 404
    assert "Pat Jones" not in _page(response)
    assert not PHIAccess.objects.exists()


def test_a_chart_of_an_unknown_id_is_404(provider_client: Client) -> None:
    response = provider_client.get(
        reverse("providers:patient-chart", args=["8d1f3a5e-0000-4000-8000-000000000000"])
    )

    assert response.status_code == 404


def test_the_chart_is_404_once_the_relationship_ends(
    provider_client: Client, provider: ProviderProfile, patient: PatientProfile
) -> None:
    relationship_deactivate(link=provider.patient_links.get(patient=patient))

    response = provider_client.get(_chart_url(patient))

    assert response.status_code == 404


def test_the_portal_navigation_offers_patients_and_profile(provider_client: Client) -> None:
    page = _page(provider_client.get(reverse("providers:dashboard")))

    assert f'href="{reverse("providers:patient-list")}"' in page
    assert f'href="{reverse("providers:profile")}"' in page


# --- Patient chart ------------------------------------------------------------------------


def test_the_chart_shows_demographics_with_the_ssn_masked(
    provider_client: Client, patient: PatientProfile
) -> None:
    page = _page(provider_client.get(_chart_url(patient)))

    for text in [
        "Pat Jones",
        "May 17, 1980",
        "555-0100",
        "12 Elm Street, Springfield",
        "Sam Jones",
        "555-0101",
        "INS-778899",
        "***-**-6789",
    ]:
        assert text in page, text
    assert re.search(r"<dt>Age</dt><dd>\d{2}</dd>", page)
    assert not any(secret in page for secret in SSN_PLAIN)
    assert "Emergency access until" not in page


def test_opening_the_chart_records_a_phi_access(
    provider_client: Client, provider: ProviderProfile, patient: PatientProfile
) -> None:
    provider_client.get(_chart_url(patient), REMOTE_ADDR="198.51.100.23")

    access = PHIAccess.objects.get()
    assert access.accessor == provider.user
    assert access.patient == patient
    assert access.resource == "chart"
    assert access.object_id == str(patient.pk)
    assert access.ip_address == "198.51.100.23"
    assert access.emergency is False


def test_each_opening_of_the_chart_is_recorded(
    provider_client: Client, patient: PatientProfile
) -> None:
    provider_client.get(_chart_url(patient))
    provider_client.get(_chart_url(patient))

    assert PHIAccess.objects.filter(patient=patient, resource="chart").count() == 2


def test_opening_the_chart_takes_a_fixed_number_of_queries(
    provider_client: Client, patient: PatientProfile, django_assert_num_queries
) -> None:
    provider_client.get(_chart_url(patient))

    # Session, user, second factor, profile, the patient with whether a care
    # relationship gives the access, and the access-log insert, plus the
    # session's activity stamp (3); then the clinical sections: upcoming and past
    # appointments (one query), a page of records and their total (one query), current
    # prescriptions with a page of past ones and their total (one), open refill
    # requests (5). records/tests/test_chart.py proves these stay fixed as the
    # chart fills.
    with django_assert_num_queries(13):
        response = provider_client.get(_chart_url(patient))

    assert response.status_code == 200


def test_age_is_counted_from_the_birthday(
    provider_client: Client, provider: ProviderProfile
) -> None:
    today = timezone.now().astimezone(NEW_YORK).date()
    born = today.replace(year=today.year - 30) + dt.timedelta(days=1)  # 30 tomorrow
    (young,) = make_patients(provider, 1, prefix="Young")
    young.date_of_birth = born
    young.save(update_fields=["date_of_birth"])

    page = _page(provider_client.get(_chart_url(young)))

    assert "<dt>Age</dt><dd>29</dd>" in page


# --- Dashboard ----------------------------------------------------------------------------


def test_the_dashboard_shows_todays_schedule_in_the_providers_zone(
    provider_client: Client, provider: ProviderProfile, patient: PatientProfile
) -> None:
    appointment_create(
        patient=patient,
        provider=provider,
        date_time=today_at(14, 30),
        type=AppointmentType.FOLLOW_UP,
        reason="Blood pressure check",
    )
    appointment_create(
        patient=patient,
        provider=provider,
        date_time=today_at(10, days=1),
        reason="Tomorrow's visit",
    )

    page = _page(provider_client.get(reverse("providers:dashboard")))

    assert "14:30" in page
    assert f'<a href="{_chart_url(patient)}">Pat Jones</a>' in page
    assert "Follow-up" in page
    assert "Blood pressure check" in page
    assert '<span class="status status-scheduled">Scheduled</span>' in page
    assert "Tomorrow's visit" not in page
    assert "America/New_York" in page


def test_the_dashboard_shows_patients_unread_messages_and_empty_refills(
    provider_client: Client, provider: ProviderProfile, patient: PatientProfile
) -> None:
    message_create(sender=patient.user, receiver=provider.user, content="Is my prescription ready?")

    page = _page(provider_client.get(reverse("providers:dashboard")))

    assert '<span class="badge" data-count="patients">1</span>' in page
    assert '<span class="badge" data-count="unread">1</span>' in page
    assert "Is my prescription ready?" in page
    assert "Pending refill requests" in page
    assert "No refill requests are waiting." in page
    assert "No appointments today." in page


def test_a_pending_refill_is_on_the_dashboard_and_the_chart(
    provider_client: Client, provider: ProviderProfile, patient: PatientProfile
) -> None:
    today = timezone.now().date()
    prescription = prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Lisinopril",
        dosage="10 mg",
        frequency="daily",
        start_date=today - dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=30),
        refills=2,
    )
    refill = refill_request_create(
        prescription=prescription, requested_by=patient.user, note="Running <low>"
    )
    refill_url = reverse("prescriptions:refill-detail", kwargs={"refill_id": refill.pk})

    board = _page(provider_client.get(reverse("providers:dashboard")))
    chart = _page(provider_client.get(_chart_url(patient)))

    assert '<span class="badge" data-count="refills">1</span>' in board
    assert f'<a href="{refill_url}">Pat Jones</a>' in board
    assert "· Lisinopril 10 mg" in board
    assert f'<li data-refill="{refill.pk}">' in chart
    assert "<strong>Lisinopril</strong> 10 mg" in chart
    assert "2 refills left" in chart
    assert "Running &lt;low&gt;" in chart
    assert f'<a href="{refill_url}">Decide</a>' in chart


def test_the_dashboard_does_not_link_a_former_patients_chart(
    provider_client: Client, provider: ProviderProfile, patient: PatientProfile
) -> None:
    appointment_create(patient=patient, provider=provider, date_time=today_at(11))
    relationship_deactivate(link=provider.patient_links.get(patient=patient))

    page = _page(provider_client.get(reverse("providers:dashboard")))

    assert "Pat Jones" in page
    assert _chart_url(patient) not in page


def test_the_dashboard_shows_no_other_providers_data(
    other_provider_client: Client, provider: ProviderProfile, patient: PatientProfile
) -> None:
    appointment_create(patient=patient, provider=provider, date_time=today_at(12), reason="Private")
    message_create(sender=patient.user, receiver=provider.user, content="For Dr Patel only")

    page = _page(other_provider_client.get(reverse("providers:dashboard")))

    assert "Pat Jones" not in page
    assert "Private" not in page
    assert "For Dr Patel only" not in page


# Session, user with their profile, second factor and the session's activity stamp (3), plus
# appointments with which of their patients are chartable (one query), the recent
# patients with the count of all (one), the latest unread messages with the unread
# count (one, shared with the navigation badge), pending refill requests with their
# count (one).
DASHBOARD_QUERIES = 10


def test_dashboard_queries_do_not_grow_with_the_data(
    provider_client: Client, provider: ProviderProfile, django_assert_num_queries
) -> None:
    url = reverse("providers:dashboard")
    patients = make_patients(provider, 2)
    make_appointments(provider, patients)
    make_unread_messages(provider, patients)
    provider_client.get(url)  # warm per-process caches (content types) before counting

    few, _ = _query_count(provider_client, url)
    more = make_patients(provider, 18, start=2)
    make_appointments(provider, more, start=len(patients))
    make_unread_messages(provider, more)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        many, page = _query_count(provider_client, url)

    assert many == few
    assert "Visit 019" in page
    assert '<span class="badge" data-count="patients">20</span>' in page
    assert '<span class="badge" data-count="unread">20</span>' in page


# --- Patient list ------------------------------------------------------------------------


def test_the_patient_list_shows_only_active_relationships(
    provider_client: Client,
    provider: ProviderProfile,
    patient: PatientProfile,
    other_patient: PatientProfile,
) -> None:
    (former,) = make_patients(provider, 1, prefix="Former")
    relationship_deactivate(link=provider.patient_links.get(patient=former))

    page = _page(provider_client.get(reverse("providers:patient-list")))

    assert f'<a href="{_chart_url(patient)}">Pat Jones</a>' in page
    assert "Riley Other" not in page
    assert "Former Number000" not in page
    assert "1 patient in your care." in page


def test_the_patient_list_searches_by_name(
    provider_client: Client, provider: ProviderProfile, patient
) -> None:
    make_patients(provider, 3)

    page = _page(provider_client.get(reverse("providers:patient-list"), {"q": "number001"}))

    assert "Patient Number001" in page
    assert "Patient Number000" not in page
    assert "Pat Jones" not in page
    assert "1 patient matches “number001”." in page


def test_a_search_without_matches_says_so(provider_client: Client, patient: PatientProfile) -> None:
    page = _page(provider_client.get(reverse("providers:patient-list"), {"q": "Riley"}))

    assert "No patient in your care matches that name." in page


def test_the_patient_list_is_paginated_by_25_keeping_the_search(
    provider_client: Client, provider: ProviderProfile
) -> None:
    make_patients(provider, 30)
    url = reverse("providers:patient-list")

    first = _page(provider_client.get(url, {"q": "Patient"}))
    second = _page(provider_client.get(url, {"q": "Patient", "page": 2}))

    assert "Patient Number024" in first
    assert "Patient Number025" not in first
    assert "Page 1 of 2" in first
    assert 'href="?q=Patient&amp;page=2"' in first
    assert "Patient Number025" in second
    assert "Patient Number029" in second
    assert "Patient Number000" not in second


# Session, user, second factor, profile and the activity stamp (3), plus the page
# with its total (one query).
PATIENT_LIST_QUERIES = 8


def test_patient_list_queries_do_not_grow_with_patients(
    provider_client: Client, provider: ProviderProfile, django_assert_num_queries
) -> None:
    url = reverse("providers:patient-list")
    make_patients(provider, 2)
    provider_client.get(url)

    few, _ = _query_count(provider_client, url)
    make_patients(provider, 28, start=2)
    with django_assert_num_queries(PATIENT_LIST_QUERIES):
        many, page = _query_count(provider_client, url)

    assert many == few
    assert "Patient Number024" in page


# --- Profile ---------------------------------------------------------------------------------


def _profile_post(**changes: str) -> dict[str, str]:
    data = {
        "credentials": "MD",
        "specialization": "Family Medicine",
        "department": "Primary Care",
        "office_location": "Building A, Room 101",
        "phone_number": "555-0142",
        "mon": "09:00-12:00, 13:00-17:00",
        "tue": "09:00-12:00, 13:00-17:00",
        "wed": "",
        "thu": "9:00-12:00",
        "fri": "13:00-17:00, 08:00-12:00",
        "sat": "",
        "sun": "",
        "slot_minutes": "15",
        "timezone": "America/Chicago",
    }
    data.update(changes)
    return data


def test_the_profile_form_shows_the_current_values(provider_client: Client) -> None:
    response = provider_client.get(reverse("providers:profile"))

    page = _page(response)
    form = response.context["form"]
    assert form["mon"].value() == "09:00-12:00, 13:00-17:00"
    assert form["sat"].value() == ""
    assert '<option value="America/New_York" selected>' in page
    assert '<option value="30" selected>' in page
    assert 'value="Building A, Room 101"' in page
    assert '<label for="id_mon">Monday</label>' in page


def test_saving_the_profile_updates_details_and_hours(
    provider_client: Client, provider: ProviderProfile
) -> None:
    response = provider_client.post(
        reverse("providers:profile"), _profile_post(department="Urgent Care"), follow=True
    )

    assert response.redirect_chain == [(reverse("providers:profile"), 302)]
    assert "Your profile is saved." in _page(response)
    provider.refresh_from_db()
    provider.user.refresh_from_db()
    assert provider.department == "Urgent Care"
    assert provider.user.phone_number == "555-0142"
    assert provider.working_hours == {
        "timezone": "America/Chicago",
        "slot_minutes": 15,
        "weekly": {
            "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
            "tue": [["09:00", "12:00"], ["13:00", "17:00"]],
            "thu": [["09:00", "12:00"]],
            "fri": [["08:00", "12:00"], ["13:00", "17:00"]],
        },
    }


def test_every_problem_in_the_hours_is_shown_at_once(provider_client: Client) -> None:
    response = provider_client.post(
        reverse("providers:profile"),
        _profile_post(sat="mornings", wed="09:00-12:00, 11:00-13:00", timezone="Nowhere/Else"),
    )

    page = _page(response)
    assert _field_errors(page, "sat") == [
        "“mornings” is not a time range; write ranges like 09:00-12:00, 13:00-17:00."
    ]
    assert _field_errors(page, "wed") == ["Wednesday: 09:00–12:00 overlaps 11:00–13:00."]
    assert _field_errors(page, "timezone") == [
        "Select a valid choice. Nowhere/Else is not one of the available choices."
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"wed": "09:00-12:00, 11:00-13:00"},
            "wed",
            "Wednesday: 09:00–12:00 overlaps 11:00–13:00.",
        ),
        ({"mon": "12:00-09:00"}, "mon", "Monday: 12:00–09:00 must end after it starts."),
        (
            {"sat": "mornings"},
            "sat",
            "“mornings” is not a time range; write ranges like 09:00-12:00, 13:00-17:00.",
        ),
        (
            {"slot_minutes": "60", "sun": "10:00-10:30"},
            "sun",
            "Sunday: 10:00–10:30 is shorter than one 60-minute slot.",
        ),
        (
            {"slot_minutes": "25"},
            "slot_minutes",
            "Select a valid choice. 25 is not one of the available choices.",
        ),
        (
            {"timezone": "Mars/Olympus_Mons"},
            "timezone",
            "Select a valid choice. Mars/Olympus_Mons is not one of the available choices.",
        ),
        (
            {"phone_number": "5" * 40},
            "phone_number",
            "Ensure this value has at most 32 characters (it has 40).",
        ),
    ],
)
def test_invalid_profile_input_is_explained_next_to_the_field_and_changes_nothing(
    provider_client: Client,
    provider: ProviderProfile,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = provider_client.post(reverse("providers:profile"), _profile_post(**changes))

    page = _page(response)
    assert response.status_code == 200
    assert _field_errors(page, field) == [message]
    assert f'aria-describedby="id_{field}_error"' in page
    provider.refresh_from_db()
    provider.user.refresh_from_db()
    assert provider.working_hours == WORKING_HOURS
    assert provider.user.phone_number == ""


# --- Break the glass -------------------------------------------------------------------------


def _break_glass(client: Client, **changes: str):
    data = {"full_name": "Riley Other", "date_of_birth": "1992-02-03", "reason": REASON}
    data.update(changes)
    return client.post(reverse("providers:emergency-access"), data, REMOTE_ADDR="203.0.113.7")


def test_break_the_glass_end_to_end(
    provider_client: Client, provider: ProviderProfile, other_patient: PatientProfile
) -> None:
    assert provider_client.get(_chart_url(other_patient)).status_code == 404

    response = _break_glass(provider_client, full_name="RILEY other")

    assert response.status_code == 302
    assert response["Location"] == _chart_url(other_patient)
    grant = EmergencyAccess.objects.get()
    assert (grant.provider, grant.patient, grant.reason) == (provider, other_patient, REASON)
    assert grant.ip_address == "203.0.113.7"

    chart = provider_client.get(response["Location"], REMOTE_ADDR="203.0.113.7")

    page = _page(chart)
    until = grant.expires_at.astimezone(NEW_YORK).strftime("%H:%M")
    assert chart.status_code == 200
    assert f"Emergency access until {until} — logged for review" in page
    assert "Riley Other" in page
    assert "***-**-7890" in page
    assert "234-56-7890" not in page
    access = PHIAccess.objects.get()
    assert (access.accessor, access.patient, access.resource) == (
        provider.user,
        other_patient,
        "chart",
    )
    assert access.emergency is True
    assert access.ip_address == "203.0.113.7"


def test_emergency_access_ends_after_its_hour(
    provider_client: Client, other_patient: PatientProfile
) -> None:
    _break_glass(provider_client)
    assert provider_client.get(_chart_url(other_patient)).status_code == 200

    now = timezone.now()
    EmergencyAccess.objects.update(
        granted_at=now - EMERGENCY_ACCESS_DURATION - dt.timedelta(seconds=1),
        expires_at=now - dt.timedelta(seconds=1),
    )

    assert provider_client.get(_chart_url(other_patient)).status_code == 404
    assert PHIAccess.objects.count() == 1


def test_the_emergency_grant_is_for_the_provider_who_asked(
    provider_client: Client, other_patient: PatientProfile, patient: PatientProfile
) -> None:
    _break_glass(provider_client)
    third = Client()
    third.force_login(patient.user)

    assert third.get(_chart_url(other_patient)).status_code == 403


def test_no_match_is_said_neutrally_and_grants_nothing(
    provider_client: Client, other_patient: PatientProfile
) -> None:
    response = _break_glass(provider_client, date_of_birth="1992-02-04")

    page = _page(response)
    assert response.status_code == 200
    assert "No patient matches that name and date of birth." in page
    assert "234-56-7890" not in page
    assert "riley.other@example.org" not in page
    assert not EmergencyAccess.objects.exists()


def test_several_matches_ask_for_more_detail_without_listing_them(
    provider_client: Client, other_patient: PatientProfile
) -> None:
    patient_create(
        email="riley.two@example.org",
        full_name="Riley Other",
        date_of_birth=dt.date(1992, 2, 3),
        insurance_number="INS-2222",
        address="99 Secret Lane",
    )

    response = _break_glass(provider_client)

    page = _page(response)
    assert response.status_code == 200
    assert "More than one patient matches that name and date of birth." in page
    assert "insurance number" in page
    assert "INS-2222" not in page
    assert "99 Secret Lane" not in page
    assert "riley.two@example.org" not in page
    assert not EmergencyAccess.objects.exists()

    chosen = _break_glass(provider_client, insurance_number="ins-2222")

    assert chosen.status_code == 302
    assert EmergencyAccess.objects.get().patient.insurance_number == "INS-2222"


def test_a_short_reason_is_refused_next_to_the_field(
    provider_client: Client, other_patient: PatientProfile
) -> None:
    response = _break_glass(provider_client, reason="urgent")

    assert response.status_code == 200
    assert _field_errors(_page(response), "reason") == [
        "Describe the emergency in at least 20 characters."
    ]
    assert not EmergencyAccess.objects.exists()


def test_break_the_glass_for_ones_own_patient_just_opens_the_chart(
    provider_client: Client, patient: PatientProfile
) -> None:
    response = _break_glass(provider_client, full_name="Pat Jones", date_of_birth="1980-05-17")

    assert response.status_code == 302
    assert response["Location"] == _chart_url(patient)
    assert not EmergencyAccess.objects.exists()
    chart = provider_client.get(response["Location"])
    assert "no emergency access was needed" in _page(chart)
    assert "Emergency access until" not in _page(chart)


def test_patients_cannot_break_the_glass(
    patient_client: Client, other_patient: PatientProfile
) -> None:
    response = _break_glass(patient_client)

    assert response.status_code == 403
    assert not EmergencyAccess.objects.exists()


def test_an_unverified_provider_cannot_break_the_glass(
    client: Client, provider: ProviderProfile, other_patient: PatientProfile
) -> None:
    client.force_login(provider.user)

    response = _break_glass(client)

    assert response["Location"] == reverse("accounts:mfa-setup")
    assert not EmergencyAccess.objects.exists()


# --- The SSN never leaves unmasked ----------------------------------------------------------


def test_no_page_ever_shows_the_ssn_unmasked(
    provider_client: Client,
    provider: ProviderProfile,
    patient: PatientProfile,
    other_patient: PatientProfile,
) -> None:
    appointment_create(patient=patient, provider=provider, date_time=today_at(9), reason="Check-up")
    message_create(sender=patient.user, receiver=provider.user, content="Hello")
    responses = [provider_client.get(PAGES[name](patient)) for name in PAGES]
    responses.append(provider_client.get(reverse("providers:patient-list"), {"q": "Pat"}))
    responses.append(_break_glass(provider_client))
    responses.append(provider_client.get(_chart_url(other_patient)))

    secrets = (*SSN_PLAIN, "234-56-7890", "234567890")
    assert "Check-up" in _page(responses[0])  # the dashboard scanned had the appointment on it
    for response in responses:
        assert response.status_code in {200, 302}
        assert not any(secret in _page(response) for secret in secrets)
