"""The patient's own pages: dashboard, profile and "who viewed my record"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from messaging.services import message_create, message_mark_read
from patients.crypto import keyed_hash
from patients.models import PatientProfile, PHIAccess, PHIResource
from patients.services import emergency_access_grant, patient_create, phi_access_record
from prescriptions.models import PrescriptionStatus
from prescriptions.services import prescription_create
from providers.models import ProviderProfile
from providers.services import provider_create
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_create

pytestmark = pytest.mark.django_db

PERSONA_SSN = "123-45-6789"
OTHER_SSN = "234-56-7890"  # other_patient's
PAGES = ["patients:dashboard", "patients:profile", "patients:access-log"]
# 15:00 UTC on a winter Wednesday is 10:00 in New York (the provider's zone).
APPOINTMENT_AT = dt.datetime(2031, 1, 15, 15, 0, tzinfo=dt.UTC)


def _page(response: HttpResponse) -> str:
    return response.content.decode()


def assert_ssn_not_shown(page: str) -> None:
    assert PERSONA_SSN not in page
    assert PERSONA_SSN.replace("-", "") not in page
    assert "123-45" not in page


def _appointments(
    patient: PatientProfile, provider: ProviderProfile, count: int, *, start: int = 0
) -> None:
    # One a day from `start`: the database refuses overlapping appointments.
    for n in range(start, start + count):
        appointment_create(
            patient=patient,
            provider=provider,
            date_time=APPOINTMENT_AT + dt.timedelta(days=n),
            reason=f"Visit reason {n:03d}",
        )


def _prescriptions(patient: PatientProfile, provider: ProviderProfile, count: int) -> None:
    today = timezone.localdate()
    for n in range(count):
        prescription_create(
            patient=patient,
            provider=provider,
            medication_name=f"Medication {n:03d}",
            dosage="10 mg",
            frequency="once a day",
            start_date=today,
            end_date=today + dt.timedelta(days=90),
            refills=2,
        )


def _messages(sender: User, receiver: User, count: int) -> None:
    start = timezone.now() - dt.timedelta(hours=count + 1)
    for n in range(count):
        message_create(
            sender=sender,
            receiver=receiver,
            content=f"Message body {n:03d}",
            sent_at=start + dt.timedelta(hours=n),
        )


def _accesses(patient: PatientProfile, accessor: User, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        access = phi_access_record(accessor=accessor, patient=patient, resource=PHIResource.CHART)
        # Distinct, ordered times: row n is n minutes after the first.
        PHIAccess.objects.filter(pk=access.pk).update(
            accessed_at=dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=n)
        )


# --- Who may open the pages ----------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client: Client, name: str) -> None:
    url = reverse(name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("name", PAGES)
def test_provider_is_refused(provider_client: Client, name: str) -> None:
    assert provider_client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_staff_is_refused(staff_client: Client, name: str) -> None:
    assert staff_client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_patient_opens_their_page(patient_client: Client, name: str) -> None:
    response = patient_client.get(reverse(name))

    assert response.status_code == 200
    assert "Pat Jones" in _page(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", PAGES)
def test_no_page_shows_the_ssn_in_full(
    patient_client: Client, patient, provider, name: str
) -> None:
    phi_access_record(accessor=provider.user, patient=patient, resource=PHIResource.PROFILE)

    assert_ssn_not_shown(_page(patient_client.get(reverse(name))))


# --- Dashboard -------------------------------------------------------------------------


def test_dashboard_shows_next_appointments_in_the_patients_zone(
    patient_client: Client, patient, provider
) -> None:
    _appointments(patient, provider, 1)

    page = _page(patient_client.get(reverse("patients:dashboard")))

    # The patient chose no zone: the practice's (New York), named.
    assert "Wed 15 Jan 2031, 10:00 EST" in page
    assert 'datetime="2031-01-15T15:00:00Z"' in page
    assert "Anika Patel, MD" in page
    assert "Visit reason 000" in page


def test_dashboard_shows_the_patients_zone_when_the_provider_has_none(
    patient_client: Client, patient
) -> None:
    no_zone = provider_create(
        email="dr.nozone@example.org", full_name="Nadia Nozone", password=None
    )
    appointment_create(patient=patient, provider=no_zone, date_time=APPOINTMENT_AT)

    page = _page(patient_client.get(reverse("patients:dashboard")))

    assert "Wed 15 Jan 2031, 10:00 EST" in page


def test_dashboard_leaves_out_past_and_cancelled_appointments(
    patient_client: Client, patient, provider
) -> None:
    appointment_create(
        patient=patient,
        provider=provider,
        date_time=timezone.now() - dt.timedelta(days=2),
        reason="Already happened",
        status=AppointmentStatus.COMPLETED,
    )
    appointment_create(
        patient=patient,
        provider=provider,
        date_time=APPOINTMENT_AT,
        reason="Called off",
        status=AppointmentStatus.CANCELLED,
    )

    page = _page(patient_client.get(reverse("patients:dashboard")))

    assert "Already happened" not in page
    assert "Called off" not in page
    assert "No upcoming appointments." in page


def test_dashboard_shows_at_most_five_active_prescriptions(
    patient_client: Client, patient, provider
) -> None:
    _prescriptions(patient, provider, 7)
    today = timezone.localdate()
    prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Finished Medication",
        dosage="5 mg",
        frequency="twice a day",
        start_date=today - dt.timedelta(days=30),
        end_date=today - dt.timedelta(days=1),
        status=PrescriptionStatus.COMPLETED,
    )

    page = _page(patient_client.get(reverse("patients:dashboard")))

    assert len(re.findall(r"Medication \d{3}", page)) == 5
    assert "Medication 000" in page
    assert "Finished Medication" not in page
    assert "2 refills left" in page


def test_dashboard_shows_unread_messages_only(patient_client: Client, patient, provider) -> None:
    _messages(provider.user, patient.user, 7)
    read = message_create(sender=provider.user, receiver=patient.user, content="Seen this one")
    message_mark_read(message=read)

    response = patient_client.get(reverse("patients:dashboard"))

    page = _page(response)
    assert response.context["unread_count"] == 7
    assert "7 unread messages in total." in page
    assert "Message body 006" in page  # the newest
    assert "Message body 000" not in page  # only the latest five are listed
    assert "Seen this one" not in page


def test_dashboard_empty_states(patient_client: Client) -> None:
    page = _page(patient_client.get(reverse("patients:dashboard")))

    assert "No upcoming appointments." in page
    assert "No active prescriptions." in page
    assert "No unread messages." in page


def test_other_patient_never_sees_the_first_patients_dashboard_data(
    other_patient_client: Client, patient, provider
) -> None:
    _appointments(patient, provider, 2)
    _prescriptions(patient, provider, 2)
    _messages(provider.user, patient.user, 2)

    page = _page(other_patient_client.get(reverse("patients:dashboard")))

    assert "Riley Other" in page
    for secret in ("Visit reason 000", "Medication 000", "Message body 000", "Pat Jones"):
        assert secret not in page
    assert "No upcoming appointments." in page


def test_dashboard_queries_do_not_grow_with_data(
    patient_client: Client, patient, provider, django_assert_max_num_queries
) -> None:
    url = reverse("patients:dashboard")
    _appointments(patient, provider, 2)
    _prescriptions(patient, provider, 2)
    _messages(provider.user, patient.user, 2)
    patient_client.get(url)  # warm per-process caches before counting

    with CaptureQueriesContext(connection) as few:
        patient_client.get(url)
    _appointments(patient, provider, 18, start=2)
    _prescriptions(patient, provider, 18)
    _messages(provider.user, patient.user, 18)
    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as many:
        response = patient_client.get(url)

    assert response.context["unread_count"] == 20
    assert len(response.context["appointments"]) == 5
    assert len(many) == len(few)


@pytest.mark.urls("patients.tests.urls_portal_only")
def test_shortcuts_hidden_while_their_pages_do_not_exist(patient_client: Client) -> None:
    page = _page(patient_client.get("/patient/"))

    assert "Welcome, Pat Jones" in page
    assert "Book an appointment" not in page
    assert "Message a provider" not in page
    assert "Ask the assistant" not in page


@pytest.mark.urls("patients.tests.urls_with_shortcuts")
def test_shortcuts_link_to_booking_messages_and_assistant(patient_client: Client) -> None:
    page = _page(patient_client.get("/patient/"))

    assert 'href="/scheduling/patient-book/">Book an appointment' in page
    assert 'href="/messaging/compose/">Message a provider' in page
    assert 'href="/assistant/chat/">Ask the assistant' in page


# --- Profile ---------------------------------------------------------------------------


def _profile_data(**changes: str) -> dict[str, str]:
    data = {
        "full_name": "Pat Jones",
        "date_of_birth": "1980-05-17",
        "phone_number": "555-0100",
        "address": "12 Elm Street, Springfield",
        "emergency_contact": "Sam Jones",
        "emergency_contact_phone": "555-0101",
        "insurance_number": "INS-778899",
        "ssn": "",
    }
    data.update(changes)
    return data


def _reload(profile: PatientProfile) -> PatientProfile:
    return PatientProfile.objects.select_related("user").get(pk=profile.pk)


def test_profile_shows_current_details_and_only_the_masked_ssn(patient_client: Client) -> None:
    page = _page(patient_client.get(reverse("patients:profile")))

    assert 'value="12 Elm Street, Springfield"' in page
    assert 'value="1980-05-17"' in page
    assert 'value="INS-778899"' in page
    assert "***-**-6789" in page
    ssn_input = re.search(r'<input[^>]*name="ssn"[^>]*>', page)
    assert ssn_input is not None
    assert "value=" not in ssn_input.group(0)
    assert_ssn_not_shown(page)


def test_profile_says_when_no_ssn_is_on_file(client: Client) -> None:
    profile = patient_create(
        email="no.ssn@example.org", full_name="Noah Number", date_of_birth=dt.date(1990, 1, 1)
    )
    client.force_login(profile.user)

    page = _page(client.get(reverse("patients:profile")))

    assert "not on file" in page
    assert "***-**-" not in page


def test_profile_update_persists_and_is_audited(patient_client: Client, patient) -> None:
    response = patient_client.post(
        reverse("patients:profile"),
        _profile_data(
            full_name="Patricia Jones",
            phone_number="555-0199",
            address="34 Oak Avenue, Springfield",
            date_of_birth="1980-05-18",
            emergency_contact="Alex Jones",
            emergency_contact_phone="555-0177",
            insurance_number="INS-000111",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:profile")
    stored = _reload(patient)
    assert stored.user.full_name == "Patricia Jones"
    assert stored.user.phone_number == "555-0199"
    assert stored.address == "34 Oak Avenue, Springfield"
    assert stored.date_of_birth == dt.date(1980, 5, 18)
    assert stored.emergency_contact == "Alex Jones"
    assert stored.emergency_contact_phone == "555-0177"
    assert stored.insurance_number == "INS-000111"
    assert stored.ssn == PERSONA_SSN
    profile_entry = (
        LogEntry.objects.get_for_object(stored).filter(action=LogEntry.Action.UPDATE).get()
    )
    assert profile_entry.actor == patient.user
    assert profile_entry.changes_dict["address"] == [
        "12 Elm Street, Springfield",
        "34 Oak Avenue, Springfield",
    ]
    user_entry = (
        LogEntry.objects.get_for_object(stored.user).filter(action=LogEntry.Action.UPDATE).get()
    )
    assert user_entry.actor == patient.user
    assert user_entry.changes_dict["full_name"] == ["Pat Jones", "Patricia Jones"]

    page = _page(patient_client.get(response["Location"]))
    assert "Your profile has been saved." in page
    assert 'value="34 Oak Avenue, Springfield"' in page


def test_blank_ssn_keeps_the_one_on_file(patient_client: Client, patient) -> None:
    patient_client.post(reverse("patients:profile"), _profile_data(address="New Street 1"))

    stored = _reload(patient)
    assert stored.address == "New Street 1"
    assert stored.ssn == PERSONA_SSN
    assert stored.ssn_hash == keyed_hash(PERSONA_SSN)


def test_new_ssn_replaces_the_old_one_and_stays_masked(patient_client: Client, patient) -> None:
    response = patient_client.post(reverse("patients:profile"), _profile_data(ssn="321 54 9870"))

    assert response.status_code == 302
    stored = _reload(patient)
    assert stored.ssn == "321-54-9870"
    assert stored.ssn_hash == keyed_hash("321-54-9870")
    page = _page(patient_client.get(reverse("patients:profile")))
    assert "***-**-9870" in page
    assert "321-54" not in page
    assert "321549870" not in page


@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ("12-345", "Enter a Social Security number as 9 digits"),
        ("666-12-3456", "This is not a valid Social Security number."),
    ],
)
def test_invalid_ssn_is_explained_and_changes_nothing(
    patient_client: Client, patient, entered: str, message: str
) -> None:
    response = patient_client.post(
        reverse("patients:profile"), _profile_data(ssn=entered, address="Somewhere else")
    )

    page = _page(response)
    assert response.status_code == 200
    assert re.search(rf'<p class="error" id="id_ssn_error">{re.escape(message)}', page)
    assert entered not in page
    stored = _reload(patient)
    assert stored.address == "12 Elm Street, Springfield"
    assert stored.ssn == PERSONA_SSN
    assert_ssn_not_shown(page)


def _masked_page(page: str) -> str:
    """The page with the number typed (its last four digits) and the CSRF token masked."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    page = re.sub(r'data-csrf-token="[^"]+"', "", page)  # the keep-alive's copy of the token
    return re.sub(r"\*\*\*-\*\*-\d{4}", "***-**-####", page)


@pytest.mark.parametrize("new_ssn", [OTHER_SSN, "345-67-8901"])
def test_another_patients_ssn_and_an_unused_one_get_the_same_answer(
    patient_client: Client, patient, other_patient, new_ssn: str
) -> None:
    data = _profile_data(ssn=new_ssn, address="Somewhere else", full_name="Changed Name")

    response = patient_client.post(reverse("patients:profile"), data)
    shown = patient_client.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:profile")
    page = _page(shown)
    assert "Your profile has been saved." in page
    assert "could not" not in page.lower() and "already" not in page
    assert new_ssn not in page and new_ssn.replace("-", "") not in page
    assert f"***-**-{new_ssn[-4:]}" in page  # the number typed is the one on file now
    stored = _reload(patient)
    assert (stored.ssn, stored.address, stored.user.full_name) == (
        new_ssn,
        "Somewhere else",
        "Changed Name",
    )
    assert _reload(other_patient).ssn == OTHER_SSN


def test_duplicate_and_unused_ssn_pages_are_the_same_but_for_the_digits(
    patient_client: Client, patient, other_patient
) -> None:
    pages = []
    for ssn in (OTHER_SSN, "345-67-8901"):
        response = patient_client.post(
            reverse("patients:profile"), _profile_data(ssn=ssn), follow=True
        )
        pages.append(_masked_page(_page(response)))

    assert pages[0] == pages[1]


def test_date_of_birth_in_the_future_is_refused(patient_client: Client, patient) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = patient_client.post(
        reverse("patients:profile"), _profile_data(date_of_birth=tomorrow.isoformat())
    )

    assert response.status_code == 200
    assert "The date of birth cannot be in the future." in _page(response)
    assert _reload(patient).date_of_birth == dt.date(1980, 5, 17)


def test_required_name_and_phone_format_are_checked(patient_client: Client, patient) -> None:
    response = patient_client.post(
        reverse("patients:profile"), _profile_data(full_name="", phone_number="call me")
    )

    page = _page(response)
    assert response.status_code == 200
    assert "This field is required." in page
    assert "Enter a phone number using digits" in page
    assert _reload(patient).user.full_name == "Pat Jones"


def test_other_patient_edits_only_their_own_profile(
    other_patient_client: Client, patient, other_patient
) -> None:
    page = _page(other_patient_client.get(reverse("patients:profile")))
    assert "Riley Other" in page
    assert "Pat Jones" not in page
    assert "12 Elm Street" not in page

    other_patient_client.post(
        reverse("patients:profile"),
        _profile_data(full_name="Riley Other", date_of_birth="1992-02-03", address="Riley's place"),
    )

    assert _reload(other_patient).address == "Riley's place"
    assert _reload(patient).address == "12 Elm Street, Springfield"


def test_provider_cannot_post_to_the_profile(provider_client: Client, patient) -> None:
    response = provider_client.post(reverse("patients:profile"), _profile_data(address="Hijacked"))

    assert response.status_code == 403
    assert _reload(patient).address == "12 Elm Street, Springfield"


# --- Who viewed my record -----------------------------------------------------------


def test_access_log_lists_a_providers_access(patient_client: Client, patient, provider) -> None:
    phi_access_record(
        accessor=provider.user,
        patient=patient,
        resource=PHIResource.CHART,
        ip_address="203.0.113.9",
    )

    response = patient_client.get(reverse("patients:access-log"))

    page = _page(response)
    assert "Anika Patel, MD" in page
    assert "Provider" in page
    assert "Your chart (health record)" in page
    assert "UTC" in page
    assert "203.0.113.9" not in page  # where staff sat is not the patient's business
    assert "Yes, emergency access" not in page


def test_access_log_flags_emergency_access(patient_client: Client, patient, other_provider) -> None:
    emergency_access_grant(
        provider=other_provider,
        patient=patient,
        reason="Unconscious in the emergency department, no chart available.",
    )
    phi_access_record(accessor=other_provider.user, patient=patient, resource=PHIResource.CHART)

    page = _page(patient_client.get(reverse("patients:access-log")))

    assert "Omar Other, DO" in page
    assert "Yes, emergency access" in page


def test_access_log_names_staff_as_practice_staff(
    patient_client: Client, patient, admin_user
) -> None:
    phi_access_record(accessor=admin_user, patient=patient, resource="billing_export")

    page = _page(patient_client.get(reverse("patients:access-log")))

    assert "Ada Admin" in page
    assert "Practice staff" in page
    assert "Billing export" in page  # an unknown resource is shown as written


def test_access_log_shows_nothing_of_other_patients(
    other_patient_client: Client, patient, provider
) -> None:
    phi_access_record(accessor=provider.user, patient=patient, resource=PHIResource.CHART)

    page = _page(other_patient_client.get(reverse("patients:access-log")))

    assert "Anika Patel" not in page
    assert "Nobody at the practice has opened your record yet." in page


def test_access_log_is_paginated_newest_first(patient_client: Client, patient, provider) -> None:
    _accesses(patient, provider.user, 30)
    url = reverse("patients:access-log")

    first = patient_client.get(url)
    second = patient_client.get(url, {"page": 2})

    first_rows = list(first.context["page"].object_list)
    second_rows = list(second.context["page"].object_list)
    assert len(first_rows) == 25
    assert first_rows[0].accessed_at.minute == 29
    assert "Page 1 of 2" in _page(first)
    assert 'href="?page=2"' in _page(first)
    assert len(second_rows) == 5
    assert second_rows[-1].accessed_at.minute == 0
    assert "30 accesses recorded." in _page(second)


def test_access_log_is_read_only(patient_client: Client, patient, provider) -> None:
    phi_access_record(accessor=provider.user, patient=patient, resource=PHIResource.CHART)

    response = patient_client.post(reverse("patients:access-log"), {})

    assert response.status_code == 405
    assert PHIAccess.objects.filter(patient=patient).count() == 1


def test_access_log_queries_do_not_grow_with_rows(
    patient_client: Client, patient, provider, admin_user, django_assert_max_num_queries
) -> None:
    url = reverse("patients:access-log")
    _accesses(patient, provider.user, 2)
    patient_client.get(url)  # warm per-process caches before counting

    with CaptureQueriesContext(connection) as few:
        patient_client.get(url)
    _accesses(patient, provider.user, 10, start=2)
    _accesses(patient, admin_user, 8, start=12)
    with django_assert_max_num_queries(9), CaptureQueriesContext(connection) as many:
        response = patient_client.get(url)

    assert response.context["page"].paginator.count == 20
    assert "Practice staff" in _page(response)
    assert len(many) == len(few)
