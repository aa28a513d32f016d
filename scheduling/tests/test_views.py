"""Scheduling pages: access for every persona, what each page shows and writes, query counts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import WORKING_HOURS
from patients.models import PatientProfile, PHIAccess
from providers.models import ProviderProfile
from providers.services import provider_create, relationship_deactivate
from scheduling.models import Appointment, AppointmentStatus, AppointmentType, ProviderTimeOff
from scheduling.selectors import available_slots
from scheduling.services import (
    appointment_book,
    appointment_create,
    calendar_feed_token_create,
)
from scheduling.slots import slot_key
from scheduling.tests.conftest import at, block, make_patients, next_weekday

pytestmark = pytest.mark.django_db


def _page(response) -> str:
    return response.content.decode()


def _field_errors(page: str, field: str) -> list[str]:
    return re.findall(rf'<p class="error[^"]*" id="id_{field}_error"[^>]*>(.*?)</p>', page)


@pytest.fixture
def appointment(
    patient: PatientProfile, provider: ProviderProfile, soon_day: dt.date
) -> Appointment:
    return appointment_book(
        patient=patient,
        provider=provider,
        starts_at=at(soon_day, 10),
        booked_by=patient.user,
        reason="Persistent cough",
    )


def _book_url(provider: ProviderProfile) -> str:
    return reverse("scheduling:patient-book-provider", kwargs={"provider_id": provider.pk})


# --- Access: every page, every persona ------------------------------------------------

PATIENT_PAGES: dict[str, Callable[[Appointment], str]] = {
    "patient-appointments": lambda a: reverse("scheduling:patient-appointments"),
    "patient-book": lambda a: reverse("scheduling:patient-book"),
    "patient-book-provider": lambda a: _book_url(a.provider),
    "patient-calendar-feed": lambda a: reverse("scheduling:patient-calendar-feed"),
    "patient-appointment-detail": lambda a: reverse(
        "scheduling:patient-appointment-detail", args=[a.pk]
    ),
    "patient-appointment-cancel": lambda a: reverse(
        "scheduling:patient-appointment-cancel", args=[a.pk]
    ),
    "patient-appointment-reschedule": lambda a: reverse(
        "scheduling:patient-appointment-reschedule", args=[a.pk]
    ),
    "patient-appointment-ics": lambda a: reverse("scheduling:patient-appointment-ics", args=[a.pk]),
}
PROVIDER_PAGES: dict[str, Callable[[Appointment], str]] = {
    "provider-calendar": lambda a: reverse("scheduling:provider-calendar"),
    "provider-book": lambda a: reverse("scheduling:provider-book"),
    "provider-time-off": lambda a: reverse("scheduling:provider-time-off"),
    "provider-appointment-detail": lambda a: reverse(
        "scheduling:provider-appointment-detail", args=[a.pk]
    ),
    "provider-appointment-reschedule": lambda a: reverse(
        "scheduling:provider-appointment-reschedule", args=[a.pk]
    ),
    "provider-appointment-ics": lambda a: reverse(
        "scheduling:provider-appointment-ics", args=[a.pk]
    ),
}
PATIENT_OBJECT_PAGES = [name for name in PATIENT_PAGES if name.startswith("patient-appointment-")]
PROVIDER_OBJECT_PAGES = [
    name for name in PROVIDER_PAGES if name.startswith("provider-appointment-")
]


@pytest.mark.parametrize("name", [*PATIENT_PAGES, *PROVIDER_PAGES])
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, appointment: Appointment, name: str
) -> None:
    url = {**PATIENT_PAGES, **PROVIDER_PAGES}[name](appointment)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", PATIENT_PAGES)
def test_providers_are_refused_patient_pages(
    provider_client: Client, appointment: Appointment, name: str
) -> None:
    assert provider_client.get(PATIENT_PAGES[name](appointment)).status_code == 403


@pytest.mark.parametrize("name", PROVIDER_PAGES)
def test_patients_are_refused_provider_pages(
    patient_client: Client, appointment: Appointment, name: str
) -> None:
    assert patient_client.get(PROVIDER_PAGES[name](appointment)).status_code == 403


@pytest.mark.parametrize("name", PATIENT_OBJECT_PAGES)
def test_another_patients_appointment_is_404(
    other_patient_client: Client, appointment: Appointment, name: str
) -> None:
    assert other_patient_client.get(PATIENT_PAGES[name](appointment)).status_code == 404


@pytest.mark.parametrize("name", PROVIDER_OBJECT_PAGES)
def test_another_providers_appointment_is_404(
    other_provider_client: Client, appointment: Appointment, name: str
) -> None:
    assert other_provider_client.get(PROVIDER_PAGES[name](appointment)).status_code == 404


@pytest.mark.parametrize("name", PATIENT_PAGES)
def test_the_patient_sees_every_patient_page(
    patient_client: Client, appointment: Appointment, name: str
) -> None:
    assert patient_client.get(PATIENT_PAGES[name](appointment)).status_code == 200


@pytest.mark.parametrize("name", PROVIDER_PAGES)
def test_the_provider_sees_every_provider_page(
    provider_client: Client, appointment: Appointment, name: str
) -> None:
    assert provider_client.get(PROVIDER_PAGES[name](appointment)).status_code == 200


def test_posts_on_someone_elses_appointment_are_404_and_change_nothing(
    other_patient_client: Client, other_provider_client: Client, appointment: Appointment
) -> None:
    pk = appointment.pk
    assert (
        other_patient_client.post(
            reverse("scheduling:patient-appointment-cancel", args=[pk])
        ).status_code
        == 404
    )
    for name, data in [
        ("provider-appointment-outcome", {"status": "completed"}),
        ("provider-appointment-cancel", {"reason": "x"}),
        ("provider-appointment-notes", {"notes": "x"}),
    ]:
        assert (
            other_provider_client.post(reverse(f"scheduling:{name}", args=[pk]), data).status_code
            == 404
        )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.notes) == (AppointmentStatus.SCHEDULED, "")


def test_the_navigation_offers_appointments_and_schedule(
    patient_client: Client, provider_client: Client
) -> None:
    assert 'href="/appointments/"' in _page(patient_client.get(reverse("scheduling:patient-book")))
    assert 'href="/appointments/schedule/"' in _page(
        provider_client.get(reverse("scheduling:provider-calendar"))
    )


# --- Finding a provider ----------------------------------------------------------------


@pytest.mark.parametrize("query", ["patel", "family medicine", "Primary", "anika care"])
def test_providers_are_found_by_name_specialization_or_department(
    patient_client: Client, provider: ProviderProfile, other_provider: ProviderProfile, query: str
) -> None:
    page = _page(patient_client.get(reverse("scheduling:patient-book"), {"q": query}))
    assert "Anika Patel, MD" in page
    assert "Omar Other" not in page


def test_providers_without_hours_are_not_listed(
    patient_client: Client, provider: ProviderProfile
) -> None:
    provider_create(email="no.hours@example.org", full_name="Nora Nohours")
    page = _page(patient_client.get(reverse("scheduling:patient-book")))
    assert "Anika Patel" in page
    assert "Nora Nohours" not in page


def test_a_search_without_matches_says_so(
    patient_client: Client, provider: ProviderProfile
) -> None:
    page = _page(patient_client.get(reverse("scheduling:patient-book"), {"q": "podiatry"}))
    assert "No provider matches that search" in page


# --- Booking -------------------------------------------------------------------------


def test_the_slot_page_offers_free_times_in_the_providers_zone(
    patient_client: Client,
    provider: ProviderProfile,
    other_patient: PatientProfile,
    soon_day: dt.date,
) -> None:
    appointment_create(patient=other_patient, provider=provider, date_time=at(soon_day, 9))
    response = patient_client.get(_book_url(provider), {"week": soon_day.isoformat()})

    page = _page(response)
    assert f'value="{slot_key(at(soon_day, 9, 30))}"' in page
    assert f'value="{slot_key(at(soon_day, 9))}"' not in page  # taken
    assert f'value="{slot_key(at(soon_day, 12))}"' not in page  # lunch
    assert "America/New_York" in page
    assert ">09:30</time>" in page


def test_a_patient_books_a_slot_and_is_sent_to_it(
    patient_client: Client,
    patient: PatientProfile,
    provider: ProviderProfile,
    soon_day: dt.date,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = patient_client.post(
            _book_url(provider),
            {"slot": slot_key(at(soon_day, 10)), "type": "follow-up", "reason": "Knee"},
        )

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "scheduling:patient-appointment-detail", args=[appointment.pk]
    )
    assert (appointment.patient, appointment.type, appointment.reason) == (
        patient,
        AppointmentType.FOLLOW_UP,
        "Knee",
    )
    assert len(mail.outbox) == 1
    page = _page(patient_client.get(response["Location"]))
    assert "Your appointment is booked" in page
    assert "Knee" in page


def test_a_slot_taken_meanwhile_says_so_with_a_fresh_list(
    patient_client: Client,
    provider: ProviderProfile,
    other_patient: PatientProfile,
    soon_day: dt.date,
) -> None:
    taken = at(soon_day, 10)
    appointment_create(patient=other_patient, provider=provider, date_time=taken)

    response = patient_client.post(
        _book_url(provider),
        {
            "slot": slot_key(taken),
            "type": "regular",
            "reason": "Kept",
            "week": soon_day.isoformat(),
        },
    )

    page = _page(response)
    assert response.status_code == 409
    assert _field_errors(page, "slot") == ["This slot was just taken. Please choose another time."]
    assert f'value="{slot_key(taken)}"' not in page
    assert f'value="{slot_key(at(soon_day, 10, 30))}"' in page
    assert 'value="Kept"' in page  # what they typed is kept
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "data, field",
    [
        ({"slot": "", "type": "regular"}, "slot"),
        ({"slot": "next tuesday", "type": "regular"}, "slot"),
        ({"slot": "2030-03-04T14:00:00Z", "type": "emergency"}, "type"),
        ({"slot": "2030-03-04T14:00:00Z", "type": "regular", "reason": "x" * 300}, "reason"),
    ],
)
def test_bad_booking_input_is_explained_next_to_the_field(
    patient_client: Client, provider: ProviderProfile, data: dict, field: str
) -> None:
    response = patient_client.post(_book_url(provider), data)

    assert response.status_code == 400
    assert _field_errors(_page(response), field)
    assert not Appointment.objects.exists()


def test_a_double_booked_patient_is_told_so(
    patient_client: Client,
    patient: PatientProfile,
    provider: ProviderProfile,
    other_provider: ProviderProfile,
    soon_day: dt.date,
) -> None:
    appointment_create(patient=patient, provider=other_provider, date_time=at(soon_day, 10))

    response = patient_client.post(
        _book_url(provider), {"slot": slot_key(at(soon_day, 10)), "type": "regular"}
    )

    assert response.status_code == 409
    assert "You already have an appointment at that time" in _page(response)


def test_an_unknown_provider_is_404(patient_client: Client, provider: ProviderProfile) -> None:
    no_hours = provider_create(email="no.hours@example.org", full_name="Nora Nohours")
    assert patient_client.get(_book_url(no_hours)).status_code == 404


# --- The patient's appointments ---------------------------------------------------------


def test_the_list_shows_upcoming_and_past(
    patient_client: Client,
    patient: PatientProfile,
    provider: ProviderProfile,
    appointment: Appointment,
) -> None:
    appointment_create(
        patient=patient,
        provider=provider,
        date_time=timezone.now() - dt.timedelta(days=30),
        reason="Old visit",
        status=AppointmentStatus.COMPLETED,
    )

    page = _page(patient_client.get(reverse("scheduling:patient-appointments")))
    upcoming, past = page.split('data-list="past"')

    assert "Persistent cough" in upcoming
    assert reverse("scheduling:patient-appointment-cancel", args=[appointment.pk]) in upcoming
    assert "Completed" in past
    # Times in the reader's zone (the practice's for this patient), named.
    assert re.search(r"\d\d:\d\d E[SD]T", upcoming)


def test_past_appointments_come_a_page_at_a_time_newest_first(
    patient_client: Client, patient: PatientProfile, provider: ProviderProfile
) -> None:
    now = timezone.now()
    for n in range(25):
        appointment_create(
            patient=patient,
            provider=provider,
            date_time=now - dt.timedelta(days=1 + n),
            reason=f"Visit {n:02d}",
            status=AppointmentStatus.COMPLETED,
        )
    url = reverse("scheduling:patient-appointments")
    first = _page(patient_client.get(url))
    second = _page(patient_client.get(url, {"page": 2}))
    beyond = _page(patient_client.get(url, {"page": "x"}))

    links = re.compile(r'href="/appointments/([0-9a-f-]{36})/"')
    newest = Appointment.objects.filter(patient=patient).order_by("-date_time")
    ids = [str(pk) for pk in newest.values_list("pk", flat=True)]
    assert links.findall(first.split('data-list="past"')[1]) == ids[:20]
    assert '<a href="?page=2">Older</a>' in first
    assert "Newer" not in first
    assert links.findall(second.split('data-list="past"')[1]) == ids[20:]
    assert '<a href="?page=1">Newer</a>' in second
    assert "Older" not in second
    # Anything but a page number is the first page.
    assert links.findall(beyond.split('data-list="past"')[1]) == ids[:20]


def test_a_patient_cancels_and_the_slot_is_offered_again(
    patient_client: Client, provider: ProviderProfile, appointment: Appointment, soon_day: dt.date
) -> None:
    key = slot_key(appointment.date_time)
    assert key not in _page(patient_client.get(_book_url(provider), {"week": soon_day.isoformat()}))

    response = patient_client.post(
        reverse("scheduling:patient-appointment-cancel", args=[appointment.pk])
    )

    appointment.refresh_from_db()
    assert response.status_code == 302
    assert appointment.status == AppointmentStatus.CANCELLED
    assert f'value="{key}"' in _page(
        patient_client.get(_book_url(provider), {"week": soon_day.isoformat()})
    )


def test_inside_the_cutoff_the_patient_is_told_to_call(
    patient_client: Client, patient: PatientProfile, provider: ProviderProfile
) -> None:
    soon = appointment_create(
        patient=patient, provider=provider, date_time=timezone.now() + dt.timedelta(hours=5)
    )
    # Booked days ago: past the minutes after booking when any change is still allowed.
    Appointment.objects.filter(pk=soon.pk).update(created_at=timezone.now() - dt.timedelta(days=3))

    detail = _page(
        patient_client.get(reverse("scheduling:patient-appointment-detail", args=[soon.pk]))
    )
    response = patient_client.post(
        reverse("scheduling:patient-appointment-cancel", args=[soon.pk]), follow=True
    )

    assert "until 24 hours before they start" in detail
    assert reverse("scheduling:patient-appointment-cancel", args=[soon.pk]) not in detail
    assert "Please call the practice" in _page(response)
    soon.refresh_from_db()
    assert soon.status == AppointmentStatus.SCHEDULED


def test_a_patient_reschedules(
    patient_client: Client, provider: ProviderProfile, appointment: Appointment, soon_day: dt.date
) -> None:
    url = reverse("scheduling:patient-appointment-reschedule", args=[appointment.pk])
    page = _page(patient_client.get(url, {"week": soon_day.isoformat()}))
    assert f'value="{slot_key(appointment.date_time)}"' not in page  # its own time is not offered

    response = patient_client.post(url, {"slot": slot_key(at(soon_day, 14))})

    moved = Appointment.objects.get(status=AppointmentStatus.SCHEDULED)
    assert response["Location"] == reverse("scheduling:patient-appointment-detail", args=[moved.pk])
    assert moved.date_time == at(soon_day, 14)
    assert moved.rescheduled_from_id == appointment.pk


def test_a_reschedule_into_a_taken_slot_keeps_the_old_one(
    patient_client: Client,
    other_patient: PatientProfile,
    provider: ProviderProfile,
    appointment: Appointment,
    soon_day: dt.date,
) -> None:
    appointment_create(patient=other_patient, provider=provider, date_time=at(soon_day, 14))

    response = patient_client.post(
        reverse("scheduling:patient-appointment-reschedule", args=[appointment.pk]),
        {"slot": slot_key(at(soon_day, 14))},
    )

    assert response.status_code == 409
    assert "just taken" in _page(response)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED


def test_an_appointment_downloads_as_ics(patient_client: Client, appointment: Appointment) -> None:
    response = patient_client.get(
        reverse("scheduling:patient-appointment-ics", args=[appointment.pk])
    )

    body = response.content.decode()
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert f"DTSTART:{appointment.date_time.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}\r\n" in body
    assert "SUMMARY:Appointment with Anika Patel\\, MD\r\n" in body
    assert f"UID:{appointment.pk}@" in body


# --- Calendar feed ---------------------------------------------------------------------


def test_the_feed_is_public_by_token_and_says_no_more_than_needed(
    client: Client, patient_client: Client, patient: PatientProfile, appointment: Appointment
) -> None:
    response = patient_client.post(
        reverse("scheduling:patient-calendar-feed"), {"action": "create"}
    )
    feed_url = re.search(r'id="feed-url" value="([^"]+)"', _page(response)).group(1)

    feed = client.get(feed_url)  # no session: calendar apps cannot sign in

    body = feed.content.decode()
    assert feed.status_code == 200
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    assert "SUMMARY:Appointment with Anika Patel\\, MD" in body
    assert "Persistent cough" not in body
    assert "Pat Jones" not in body
    assert "123-45" not in body and "6789" not in body
    assert "LOCATION:Building A\\, Room 101" in body


def test_a_revoked_feed_shows_nothing(
    client: Client, patient_client: Client, patient: PatientProfile, appointment
) -> None:
    _token, secret = calendar_feed_token_create(user=patient.user)
    url = reverse("scheduling:calendar-feed", kwargs={"token": secret})
    assert client.get(url).status_code == 200

    patient_client.post(reverse("scheduling:patient-calendar-feed"), {"action": "revoke"})

    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("scheduling:calendar-feed", kwargs={"token": "guess"})).status_code
        == 404
    )


def test_the_feed_address_is_shown_once(patient_client: Client) -> None:
    created = _page(
        patient_client.post(reverse("scheduling:patient-calendar-feed"), {"action": "create"})
    )
    later = _page(patient_client.get(reverse("scheduling:patient-calendar-feed")))

    secret_url = re.search(r'id="feed-url" value="([^"]+)"', created).group(1)
    assert secret_url not in later
    assert "A calendar address is active" in later


# --- Provider calendar -------------------------------------------------------------------


def test_the_week_shows_patient_type_reason_and_status(
    provider_client: Client, provider: ProviderProfile, appointment: Appointment, soon_day: dt.date
) -> None:
    block(provider, at(soon_day, 13), at(soon_day, 14), "Team meeting")

    page = _page(
        provider_client.get(reverse("scheduling:provider-calendar"), {"date": soon_day.isoformat()})
    )

    assert "Pat Jones" in page
    assert "Regular" in page
    assert "Persistent cough" in page
    assert '<span class="status status-scheduled">Scheduled</span>' in page
    assert ">10:00</time>" in page  # New York time, stored as 15:00 UTC
    assert "Team meeting" in page
    assert reverse("scheduling:provider-appointment-detail", args=[appointment.pk]) in page


def test_the_day_view_shows_only_that_day(
    provider_client: Client,
    provider: ProviderProfile,
    patient: PatientProfile,
    appointment: Appointment,
    soon_day: dt.date,
) -> None:
    other_day = next_weekday(1, now=at(soon_day, 12))
    appointment_create(
        patient=patient, provider=provider, date_time=at(other_day, 11), reason="Other day"
    )

    page = _page(
        provider_client.get(
            reverse("scheduling:provider-calendar"), {"view": "day", "date": soon_day.isoformat()}
        )
    )

    assert "Persistent cough" in page
    assert "Other day" not in page


def test_a_bad_calendar_date_falls_back_to_today(provider_client: Client) -> None:
    response = provider_client.get(
        reverse("scheduling:provider-calendar"), {"date": "yesterday", "view": "month"}
    )
    assert response.status_code == 200


def test_opening_an_appointment_records_a_phi_access(
    provider_client: Client, provider: ProviderProfile, appointment: Appointment
) -> None:
    provider_client.get(reverse("scheduling:provider-appointment-detail", args=[appointment.pk]))

    access = PHIAccess.objects.get()
    assert (access.accessor, access.patient, access.resource) == (
        provider.user,
        appointment.patient,
        "appointment",
    )


def test_the_provider_marks_completed_adds_notes_and_cannot_go_back(
    provider_client: Client, patient: PatientProfile, provider: ProviderProfile
) -> None:
    today = appointment_create(
        patient=patient, provider=provider, date_time=timezone.now() - dt.timedelta(minutes=40)
    )
    detail = reverse("scheduling:provider-appointment-detail", args=[today.pk])

    provider_client.post(
        reverse("scheduling:provider-appointment-outcome", args=[today.pk]), {"status": "completed"}
    )
    provider_client.post(
        reverse("scheduling:provider-appointment-notes", args=[today.pk]), {"notes": "Better."}
    )
    response = provider_client.post(
        reverse("scheduling:provider-appointment-outcome", args=[today.pk]),
        {"status": "no-show"},
        follow=True,
    )

    today.refresh_from_db()
    assert (today.status, today.notes) == (AppointmentStatus.COMPLETED, "Better.")
    assert "can no longer be changed" in _page(response)
    assert 'data-status="completed"' in _page(provider_client.get(detail))


def test_a_provider_cancels_only_with_a_reason(
    provider_client: Client, appointment: Appointment, django_capture_on_commit_callbacks
) -> None:
    url = reverse("scheduling:provider-appointment-cancel", args=[appointment.pk])

    response = provider_client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert _field_errors(_page(response), "reason")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED

    with django_capture_on_commit_callbacks(execute=True):
        provider_client.post(url, {"reason": "Clinic closed"})
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == (
        AppointmentStatus.CANCELLED,
        "Clinic closed",
    )
    assert "Clinic closed" in mail.outbox[-1].body


def test_a_former_patients_appointment_has_no_chart_link(
    provider_client: Client,
    provider: ProviderProfile,
    patient: PatientProfile,
    appointment: Appointment,
) -> None:
    chart = reverse("providers:patient-chart", kwargs={"patient_id": patient.pk})
    assert chart in _page(
        provider_client.get(
            reverse("scheduling:provider-appointment-detail", args=[appointment.pk])
        )
    )

    relationship_deactivate(link=provider.patient_links.get(patient=patient))

    page = _page(
        provider_client.get(
            reverse("scheduling:provider-appointment-detail", args=[appointment.pk])
        )
    )
    assert "Pat Jones" in page
    assert chart not in page


# --- Provider booking and time off -----------------------------------------------------


def test_a_provider_books_a_slot_for_their_patient(
    provider_client: Client, patient: PatientProfile, provider: ProviderProfile, soon_day: dt.date
) -> None:
    response = provider_client.post(
        reverse("scheduling:provider-book"),
        {
            "patient": patient.pk,
            "type": "regular",
            "reason": "Review",
            "slot": slot_key(at(soon_day, 11)),
        },
    )

    appointment = Appointment.objects.get()
    assert response["Location"] == reverse(
        "scheduling:provider-appointment-detail", args=[appointment.pk]
    )
    assert appointment.date_time == at(soon_day, 11)


def test_a_provider_squeezes_in_an_emergency_at_lunch(
    provider_client: Client, patient: PatientProfile, provider: ProviderProfile, soon_day: dt.date
) -> None:
    response = provider_client.post(
        reverse("scheduling:provider-book"),
        {
            "patient": patient.pk,
            "type": "emergency",
            "reason": "Chest pain",
            "emergency_date": soon_day.isoformat(),
            "emergency_time": "12:10",
            "duration_minutes": "20",
        },
    )

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.date_time, appointment.duration_minutes, appointment.type) == (
        at(soon_day, 12, 10),
        20,
        AppointmentType.EMERGENCY,
    )


def test_a_provider_cannot_book_for_someone_elses_patient(
    provider_client: Client, other_patient: PatientProfile, soon_day: dt.date
) -> None:
    response = provider_client.post(
        reverse("scheduling:provider-book"),
        {"patient": other_patient.pk, "type": "regular", "slot": slot_key(at(soon_day, 11))},
    )

    assert response.status_code == 400
    assert _field_errors(_page(response), "patient")
    assert not Appointment.objects.exists()


def test_a_regular_booking_needs_a_time(provider_client: Client, patient: PatientProfile) -> None:
    response = provider_client.post(
        reverse("scheduling:provider-book"), {"patient": patient.pk, "type": "regular"}
    )

    assert response.status_code == 400
    assert _field_errors(_page(response), "slot") == ["Choose a time."]


def test_time_off_removes_slots_for_patients_at_once(
    provider_client: Client,
    patient_client: Client,
    provider: ProviderProfile,
    appointment: Appointment,
    soon_day: dt.date,
) -> None:
    response = provider_client.post(
        reverse("scheduling:provider-time-off"),
        {"starts_on": soon_day.isoformat(), "ends_on": soon_day.isoformat(), "reason": "Holiday"},
        follow=True,
    )

    page = _page(response)
    assert "Time off saved" in page
    assert "1 booked appointment(s) fall in this time" in page
    block_row = ProviderTimeOff.objects.get()
    assert (block_row.starts_at, block_row.ends_at) == (
        at(soon_day, 0),
        at(soon_day + dt.timedelta(days=1), 0),
    )
    slots = _page(patient_client.get(_book_url(provider), {"week": soon_day.isoformat()}))
    assert not [
        k for k in re.findall(r'value="([^"]+Z)"', slots) if k.startswith(soon_day.isoformat())
    ]

    provider_client.post(reverse("scheduling:provider-time-off-delete", args=[block_row.pk]))
    slots = _page(patient_client.get(_book_url(provider), {"week": soon_day.isoformat()}))
    assert f'value="{slot_key(at(soon_day, 11))}"' in slots


def test_time_off_must_end_after_it_starts(provider_client: Client, soon_day: dt.date) -> None:
    response = provider_client.post(
        reverse("scheduling:provider-time-off"),
        {
            "starts_on": soon_day.isoformat(),
            "start_time": "15:00",
            "ends_on": soon_day.isoformat(),
            "end_time": "14:00",
        },
    )

    assert response.status_code == 400
    assert _field_errors(_page(response), "ends_on") == ["The time off must end after it starts."]
    assert not ProviderTimeOff.objects.exists()


def test_another_providers_time_off_cannot_be_removed(
    other_provider_client: Client, provider, soon_day
) -> None:
    blocked = block(provider, at(soon_day, 9), at(soon_day, 10))
    assert (
        other_provider_client.post(
            reverse("scheduling:provider-time-off-delete", args=[blocked.pk])
        ).status_code
        == 404
    )
    assert ProviderTimeOff.objects.filter(pk=blocked.pk).exists()


# --- Query counts: fixed, whatever the number of appointments ---------------------------------


def _query_count(client: Client, url: str, params: dict | None = None) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries), _page(response)


def _fill_week(
    provider: ProviderProfile, day: dt.date, patients: list[PatientProfile], *, start: int = 0
) -> None:
    # Every appointment has its own patient: a missing select_related shows up as one query per row.
    for n, patient in enumerate(patients):
        slot = start + n
        appointment_create(
            patient=patient,
            provider=provider,
            date_time=at(day + dt.timedelta(days=slot // 14), 9)
            + dt.timedelta(minutes=30 * (slot % 14)),
            reason=f"Visit {slot:03d}",
        )


# Every page: session, user with their profile, and the session saved again (idle
# timeout) inside a savepoint (3 statements). Slot page: + provider, then the
# slots themselves: appointments and time off in one query.
SLOT_PAGE_QUERIES = 8
# Calendar: + second factor, appointments (with patients), time off.
CALENDAR_QUERIES = 9
# Patient's list: + upcoming and a window of the past (no count).
PATIENT_LIST_QUERIES = 8


def test_slot_page_queries_do_not_grow_with_appointments(
    patient_client: Client, provider: ProviderProfile, django_assert_num_queries
) -> None:
    monday = next_weekday(7)
    monday -= dt.timedelta(days=monday.weekday())
    url = _book_url(provider)
    _fill_week(provider, monday, make_patients(3))
    patient_client.get(url)

    few, _ = _query_count(patient_client, url, {"week": monday.isoformat()})
    _fill_week(provider, monday, make_patients(40, start=3), start=3)
    with django_assert_num_queries(SLOT_PAGE_QUERIES):
        many, page = _query_count(patient_client, url, {"week": monday.isoformat()})

    assert many == few
    assert len(available_slots(provider)) > 0
    assert f'value="{slot_key(at(monday, 9))}"' not in page
    assert f'value="{slot_key(at(monday + dt.timedelta(days=3), 10))}"' in page


def test_calendar_queries_do_not_grow_with_appointments(
    provider_client: Client, provider: ProviderProfile, django_assert_num_queries
) -> None:
    monday = next_weekday(7)
    monday -= dt.timedelta(days=monday.weekday())
    url = reverse("scheduling:provider-calendar")
    _fill_week(provider, monday, make_patients(3, provider=provider))
    provider_client.get(url)

    few, _ = _query_count(provider_client, url, {"date": monday.isoformat()})
    _fill_week(provider, monday, make_patients(40, start=3, provider=provider), start=3)
    block(
        provider,
        at(monday + dt.timedelta(days=4), 13),
        at(monday + dt.timedelta(days=4), 17),
        "Training",
    )
    with django_assert_num_queries(CALENDAR_QUERIES):
        many, page = _query_count(provider_client, url, {"date": monday.isoformat()})

    assert many == few
    assert "Visit 042" in page
    assert "Sched Patient042" in page
    assert "Training" in page


def test_patient_list_queries_do_not_grow_with_appointments(
    patient_client: Client, patient: PatientProfile, django_assert_num_queries
) -> None:
    url = reverse("scheduling:patient-appointments")

    def appointments(count: int, start: int) -> None:
        for n in range(start, start + count):
            doctor = provider_create(
                email=f"doc{n}@example.org",
                full_name=f"Doctor {n:03d}",
                working_hours=WORKING_HOURS,
            )
            when = (
                timezone.now() + dt.timedelta(days=1 + n)
                if n % 2
                else timezone.now() - dt.timedelta(days=1 + n)
            )
            appointment_create(
                patient=patient,
                provider=doctor,
                date_time=when,
                status="scheduled" if n % 2 else "completed",
            )

    appointments(3, 0)
    patient_client.get(url)
    few, _ = _query_count(patient_client, url)
    appointments(30, 3)
    with django_assert_num_queries(PATIENT_LIST_QUERIES):
        many, page = _query_count(patient_client, url)

    assert many == few
    assert "Doctor 031" in page  # upcoming (odd)
    assert "Doctor 032" in page  # past (even), on the first page


@pytest.mark.parametrize("name", PROVIDER_OBJECT_PAGES)
def test_every_provider_page_of_an_appointment_logs_the_access(
    provider_client: Client, provider: ProviderProfile, appointment: Appointment, name: str
) -> None:
    provider_client.get(PROVIDER_PAGES[name](appointment))

    assert list(PHIAccess.objects.values_list("accessor", "patient", "resource", "object_id")) == [
        (provider.user.pk, appointment.patient.pk, "appointment", str(appointment.pk))
    ]


def test_the_patient_opening_her_own_appointment_is_not_logged(
    patient_client: Client, appointment: Appointment
) -> None:
    for name in PATIENT_OBJECT_PAGES:
        patient_client.get(PATIENT_PAGES[name](appointment))
    assert not PHIAccess.objects.exists()
