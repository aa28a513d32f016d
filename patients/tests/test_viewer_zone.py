"""Every time a person sees is in their own zone, named, in one format."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from messaging.push import for_viewer, message_payload
from messaging.services import message_create
from patients.models import PatientProfile
from patients.services import patient_register, patient_update_profile
from patients.timezones import viewing_as, zone_for_user, zone_named
from scheduling.services import appointment_create

pytestmark = pytest.mark.django_db

# A Wednesday in winter: 19:30 UTC is 14:30 in New York (EST), 13:30 in Chicago (CST).
WHEN = dt.datetime(2031, 1, 15, 19, 30, tzinfo=dt.UTC)


@pytest.fixture
def chicago_patient(patient: PatientProfile) -> PatientProfile:
    return patient_update_profile(profile=patient, time_zone="America/Chicago")


@pytest.fixture
def visit(chicago_patient, provider):
    return appointment_create(patient=chicago_patient, provider=provider, date_time=WHEN, reason="Check-up")


def test_patient_sees_an_appointment_in_their_own_zone_named(client, chicago_patient, visit) -> None:
    client.force_login(chicago_patient.user)
    page = client.get(reverse("scheduling:patient-appointment-detail", args=[visit.pk])).content.decode()
    assert "Wed 15 Jan 2031, 13:30 CST" in page
    assert "14:30 EST" not in page
    assert "your time" not in page


def test_provider_sees_the_same_appointment_in_theirs(provider_client, visit) -> None:
    detail = provider_client.get(reverse("scheduling:provider-appointment-detail", args=[visit.pk])).content.decode()
    assert "14:30" in detail and "EST" in detail
    assert "13:30 CST" not in detail


def test_time_elements_carry_whole_seconds_in_utc(client, chicago_patient, visit) -> None:
    client.force_login(chicago_patient.user)
    for name in ("scheduling:patient-appointments", "patients:dashboard"):
        page = client.get(reverse(name)).content.decode()
        stamps = re.findall(r'<time[^>]*datetime="([^"]+)"', page)
        assert stamps, name
        for stamp in stamps:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), (name, stamp)


def test_a_new_zone_in_the_profile_applies_on_the_next_page(client, patient, provider) -> None:
    visit = appointment_create(patient=patient, provider=provider, date_time=WHEN, reason="Check-up")
    client.force_login(patient.user)
    detail = reverse("scheduling:patient-appointment-detail", args=[visit.pk])
    assert "14:30 EST" in client.get(detail).content.decode()  # the practice's zone by default
    form = client.get(reverse("patients:profile")).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"date_of_birth": patient.date_of_birth.isoformat(), "time_zone": "Europe/Berlin"})
    response = client.post(reverse("patients:profile"), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.time_zone == "Europe/Berlin"
    assert "Wed 15 Jan 2031, 20:30 CET" in client.get(detail).content.decode()


def test_an_unknown_zone_is_refused_and_nothing_changes(client, chicago_patient) -> None:
    client.force_login(chicago_patient.user)
    form = client.get(reverse("patients:profile")).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"date_of_birth": chicago_patient.date_of_birth.isoformat(), "time_zone": "Mars/Olympus"})
    response = client.post(reverse("patients:profile"), data)
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    chicago_patient.refresh_from_db()
    assert chicago_patient.time_zone == "America/Chicago"


def test_registration_keeps_the_browser_zone_and_drops_an_unknown_one(db) -> None:
    common = {
        "password": "Velvet-thunder-canyon-8",
        "date_of_birth": dt.date(1990, 1, 2),
        "phone_number": "555-0100",
        "address": "1 Road",
        "emergency_contact": "A",
        "emergency_contact_phone": "555-0101",
        "base_url": "http://testserver/",
    }
    known = patient_register(email="a@example.org", full_name="Ann A", time_zone="America/Phoenix", **common)
    unknown = patient_register(email="b@example.org", full_name="Bo B", time_zone="Nowhere/Land", **common)
    assert known.time_zone == "America/Phoenix"
    assert unknown.time_zone == ""
    assert zone_for_user(unknown.user) == zone_named("America/New_York")


def test_registration_page_sends_the_zone_field(client) -> None:
    page = client.get(reverse("accounts:register")).content.decode()
    assert 'name="time_zone"' in page
    assert "js/register.js" in page


def test_a_live_message_shows_in_each_readers_zone(chicago_patient, provider) -> None:
    message = message_create(sender=provider.user, receiver=chicago_patient.user, content="Your results are in.")
    payload = {"type": "message.new", "message": message_payload(message)}
    with viewing_as(zone_for_user(chicago_patient.user)):
        patient_view = for_viewer(payload)["message"]["sent_at_display"]
    with viewing_as(zone_for_user(provider.user)):
        provider_view = for_viewer(payload)["message"]["sent_at_display"]
    assert patient_view.endswith(("CST", "CDT"))
    assert provider_view.endswith(("EST", "EDT"))
    assert patient_view != provider_view


def test_who_viewed_my_record_is_in_the_patients_zone(client, provider_client, chicago_patient) -> None:
    assert provider_client.get(reverse("providers:patient-chart", args=[chicago_patient.pk])).status_code == 200
    client.force_login(chicago_patient.user)
    page = client.get(reverse("patients:access-log")).content.decode()
    assert re.search(r"\d\d:\d\d C[SD]T", page), page
