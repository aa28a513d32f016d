"""Calendar files as two independent calendar libraries read them: clean text, nothing
clinical, a link back to the portal, and a SEQUENCE that counts changes."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
import pytest
import vobject
from django.test import Client
from django.urls import reverse

from accounts.models import User
from patients.models import PatientProfile
from providers.models import ProviderProfile
from scheduling import ics
from scheduling.models import Appointment
from scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    calendar_feed_token_create,
)
from scheduling.tests.conftest import at

pytestmark = pytest.mark.django_db

REASON = "Persistent cough; HIV test results"
NOTES = "Diagnosis: suspected pneumonia"
# A lone CR, a vertical tab, an escape, a C1 control and a Unicode line separator.
DIRTY = "\r\x0b\x1b\x85\u2028"


@pytest.fixture
def dirty_appointment(
    patient: PatientProfile, provider: ProviderProfile, soon_day: dt.date
) -> Appointment:
    appointment = appointment_book(
        patient=patient,
        provider=provider,
        starts_at=at(soon_day, 10),
        booked_by=patient.user,
        reason=REASON,
    )
    Appointment.objects.filter(pk=appointment.pk).update(notes=NOTES)
    # Names and places typed elsewhere (the admin, an import) may hold anything.
    User.objects.filter(pk=provider.user_id).update(full_name=f"Anika{DIRTY}Patel")
    ProviderProfile.objects.filter(pk=provider.pk).update(
        office_location=f"Building A{DIRTY}Room 101, 2nd floor"
    )
    return appointment


def _parse_both(body: str) -> tuple[icalendar.Calendar, vobject.base.Component]:
    """Both libraries must accept the whole file (vobject refuses stray control characters)."""
    return icalendar.Calendar.from_ical(body), vobject.readOne(body)


def _only_event(body: str) -> tuple[icalendar.Event, vobject.base.Component]:
    parsed_ical, parsed_vobject = _parse_both(body)
    events = parsed_ical.walk("VEVENT")
    assert len(events) == 1
    return events[0], parsed_vobject.vevent


def _assert_clean_and_non_clinical(body: str) -> None:
    assert REASON not in body and "cough" not in body
    assert "Diagnosis" not in body and "pneumonia" not in body
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]", body)
    # CR only as part of the CRLF line ends.
    assert "\r" not in body.replace("\r\n", "")


def test_patient_download_is_clean_for_both_libraries_and_links_back(
    patient_client: Client, dirty_appointment: Appointment
) -> None:
    url = reverse("scheduling:patient-appointment-ics", args=[dirty_appointment.pk])
    body = patient_client.get(url).content.decode()

    event, vevent = _only_event(body)
    _assert_clean_and_non_clinical(body)
    detail = reverse("scheduling:patient-appointment-detail", args=[dirty_appointment.pk])
    assert str(event["SUMMARY"]) == "Appointment with Anika Patel, MD"
    assert vevent.summary.value == "Appointment with Anika Patel, MD"
    assert str(event["LOCATION"]) == "Building A Room 101, 2nd floor"
    assert vevent.location.value == "Building A Room 101, 2nd floor"
    assert str(event["URL"]) == f"http://testserver{detail}"
    assert f"http://testserver{detail}" in vevent.description.value
    assert event.decoded("DTSTART") == dirty_appointment.date_time
    assert int(event["SEQUENCE"]) == 0 and vevent.sequence.value == "0"


def test_provider_download_names_no_patient_and_no_reason(
    provider_client: Client, dirty_appointment: Appointment, patient: PatientProfile
) -> None:
    url = reverse("scheduling:provider-appointment-ics", args=[dirty_appointment.pk])
    body = provider_client.get(url).content.decode()

    event, vevent = _only_event(body)
    _assert_clean_and_non_clinical(body)
    assert patient.full_name not in body
    assert str(event["SUMMARY"]) == "Patient appointment (Regular)"
    assert vevent.location.value == "Building A Room 101, 2nd floor"
    detail = reverse("scheduling:provider-appointment-detail", args=[dirty_appointment.pk])
    assert str(event["URL"]) == f"http://testserver{detail}"


def test_feed_is_clean_for_both_libraries_and_links_back(
    client: Client, patient: PatientProfile, dirty_appointment: Appointment
) -> None:
    _token, secret = calendar_feed_token_create(user=patient.user)
    body = client.get(
        reverse("scheduling:calendar-feed", kwargs={"token": secret})
    ).content.decode()

    event, vevent = _only_event(body)
    _assert_clean_and_non_clinical(body)
    assert vevent.summary.value == "Appointment with Anika Patel, MD"
    detail = reverse("scheduling:patient-appointment-detail", args=[dirty_appointment.pk])
    assert str(event["URL"]) == f"http://testserver{detail}"


def test_links_use_the_configured_portal_address(
    settings, patient_client: Client, dirty_appointment: Appointment
) -> None:
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    url = reverse("scheduling:patient-appointment-ics", args=[dirty_appointment.pk])
    event, _vevent = _only_event(patient_client.get(url).content.decode())

    assert str(event["URL"]).startswith("https://portal.example.org/appointments/")


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "lone\rreturn",
        "tab\tand\nnewline",
        "nul\x00byte",
        "form\x0cfeed\x1f",
        "del\x7fc1\x9d",
        "separators\u2028\u2029",
        "semi;comma,back\\slash",
        "Ünïcode " * 30,
    ],
)
def test_every_text_value_parses_in_both_libraries(text: str) -> None:
    appointment = Appointment(
        date_time=dt.datetime(2030, 3, 10, 6, 30, tzinfo=dt.UTC), duration_minutes=30
    )
    body = ics.calendar(
        [(appointment, ics.EventText(summary=text, location=text, url="https://x.example/a/"))],
        name=text,
    )

    event, vevent = _only_event(body)
    expected = " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())
    assert str(event["SUMMARY"]) == expected == vevent.summary.value
    assert str(event["LOCATION"]) == expected == vevent.location.value
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_sequence_counts_changes_from_zero(
    patient: PatientProfile, provider: ProviderProfile, soon_day: dt.date
) -> None:
    booked = appointment_book(
        patient=patient, provider=provider, starts_at=at(soon_day, 10), booked_by=patient.user
    )
    assert booked.sequence == 0

    # A time change saved from anywhere (here the ORM, as the admin does).
    booked.date_time = at(soon_day, 11)
    booked.save()
    booked.refresh_from_db()
    assert booked.sequence == 1

    # Saving what a calendar does not show is not a change for it.
    booked.notes = "Bring the inhaler"
    booked.save(update_fields=["notes", "updated_at"])
    booked.refresh_from_db()
    assert booked.sequence == 1

    moved = appointment_reschedule(appointment=booked, starts_at=at(soon_day, 14), by=patient.user)
    booked.refresh_from_db()
    assert booked.sequence == 2  # the old event is now cancelled
    assert moved.sequence == 0  # a new event (new UID)

    appointment_cancel(appointment=moved, by=patient.user)
    moved.refresh_from_db()
    assert moved.sequence == 1
    event, vevent = _only_event(ics.calendar([(moved, ics.EventText(summary="x"))]))
    assert int(event["SEQUENCE"]) == 1 and vevent.sequence.value == "1"
    assert str(event["STATUS"]) == "CANCELLED"
