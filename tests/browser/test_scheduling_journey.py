"""Booking journeys in a real browser: book, see it, the provider completes it; cancel and rebook."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from conftest import PASSWORD
from providers.services import provider_create
from scheduling.models import Appointment, AppointmentStatus

pytestmark = pytest.mark.browser


def _zone_where_it_is_midday() -> str:
    """An Etc/GMT zone whose clock reads 12:xx now, so today's slots last for hours."""
    offset = 12 - timezone.now().astimezone(dt.UTC).hour  # -11 … +12
    if offset == 0:
        return "Etc/GMT"
    # POSIX sign: Etc/GMT-5 is five hours ahead of UTC.
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture
def clinic(db, settings):
    settings.SCHEDULING_MIN_LEAD_MINUTES = 0
    return provider_create(
        email="dr.rivera@example.org",
        full_name="Lena Rivera",
        password=PASSWORD,
        credentials="MD",
        specialization="Pulmonology",
        department="Respiratory",
        office_location="Building C",
        working_hours={
            "timezone": _zone_where_it_is_midday(),
            "slot_minutes": 30,
            "weekly": {
                day: [["08:00", "20:00"]]
                for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
        },
    )


# Tests name live_url before the page: the database is then set up before Playwright
# starts its event loop in this thread (Django refuses to set it up under a running loop).


def _sign_in(page, live_url: str, email: str) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _sign_in_provider(page, live_url: str, provider) -> None:
    device = TOTPDevice.objects.create(user=provider.user, name="phone", confirmed=True)
    _sign_in(page, live_url, provider.user.email)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_url}/provider/")


def _pick_first_slot(page) -> str:
    """Choose the first time offered (its radio is drawn as a pill: click the label)."""
    radio = page.locator("input[name=slot]").first
    value, radio_id = radio.get_attribute("value"), radio.get_attribute("id")
    page.locator(f'label[for="{radio_id}"]').click()
    expect(radio).to_be_checked()
    return value


def test_patient_books_and_the_provider_completes_it(live_url, new_page, patient, clinic) -> None:
    page = new_page()
    _sign_in(page, live_url, patient.user.email)
    page.get_by_role("navigation", name="Patient portal").get_by_role(
        "link", name="Appointments"
    ).click()
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Name, specialization or department").fill("pulmonology")
    page.get_by_role("button", name="Find a provider").click()
    page.get_by_role("link", name="Lena Rivera, MD").click()
    # The patient never chose a zone: the practice's applies, and is named.
    expect(page.get_by_text(f"Times are in your time zone, {settings.PORTAL_TIME_ZONE}")).to_be_visible()

    slot = _pick_first_slot(page)
    page.get_by_label("Type of visit").select_option("follow-up")
    page.get_by_label("Reason for the visit").fill("Wheezing at night")
    page.get_by_role("button", name="Review booking").click()
    # The review names the provider, the time, the reason and the rule before anything is booked.
    expect(page.get_by_role("heading", name="Review your appointment")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Lena Rivera, MD")
    expect(page.locator("main")).to_contain_text("Wheezing at night")
    expect(page.locator("#change-rule")).to_contain_text("change or cancel it online")
    assert not Appointment.objects.filter(patient=patient).exists()
    page.get_by_role("button", name="Book appointment").click()

    expect(page.get_by_text("Your appointment is booked")).to_be_visible()
    expect(page.get_by_role("heading", name="Appointment with Lena Rivera, MD")).to_be_visible()
    appointment = Appointment.objects.get(patient=patient)
    assert appointment.date_time == dt.datetime.fromisoformat(slot)
    page.get_by_role("link", name="← All appointments").click()
    upcoming = page.locator('[data-list="upcoming"]')
    expect(upcoming).to_contain_text("Lena Rivera, MD")
    expect(upcoming).to_contain_text("Wheezing at night")

    doctor = new_page()
    _sign_in_provider(doctor, live_url, clinic)
    doctor.get_by_role("navigation", name="Provider portal").get_by_role(
        "link", name="Schedule"
    ).click()
    entry = doctor.locator(".calendar-appointments li", has_text="Pat Jones")
    expect(entry).to_contain_text("Follow-up")
    expect(entry).to_contain_text("Wheezing at night")
    expect(entry).to_contain_text("Scheduled")
    entry.get_by_role("link").click()
    doctor.get_by_role("button", name="Mark completed").click()

    expect(doctor.get_by_text("Marked completed.")).to_be_visible()
    expect(doctor.locator("[data-status]")).to_have_text("Completed")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    expect(doctor.get_by_role("button", name="Mark completed")).to_have_count(0)


def test_patient_cancels_and_the_slot_is_offered_again(live_url, page, patient, clinic) -> None:
    _sign_in(page, live_url, patient.user.email)
    page.goto(f"{live_url}/appointments/book/")
    page.get_by_role("link", name="Lena Rivera, MD").click()
    # Next week: far enough ahead to cancel online (the cut-off is 24 hours).
    page.get_by_role("navigation", name="Weeks").get_by_role("link").nth(1).click()
    expect(page).to_have_url(re.compile(r"week=\d{4}-\d{2}-\d{2}"))
    next_week = page.url
    slot = _pick_first_slot(page)
    page.get_by_role("button", name="Review booking").click()
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_text("Your appointment is booked")).to_be_visible()

    page.get_by_role("link", name="Cancel appointment").click()
    page.get_by_role("button", name="Cancel appointment").click()

    expect(page.get_by_text("Your appointment is cancelled")).to_be_visible()
    expect(page.locator(".status")).to_have_text("Cancelled")
    page.goto(next_week)
    expect(page.locator(f'input[name=slot][value="{slot}"]')).to_have_count(1)
    assert Appointment.objects.get(patient=patient).status == AppointmentStatus.CANCELLED
