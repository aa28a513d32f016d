"""A visit written up and prescribed for, a refill asked for and approved: both portals, in a real browser."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from conftest import PASSWORD
from prescriptions.models import Prescription, RefillRequest, RefillStatus
from records.models import MedicalRecord
from records.tests.fixtures import at, today
from scheduling.models import AppointmentStatus
from scheduling.services import appointment_create

pytestmark = pytest.mark.browser


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


def test_a_visit_is_written_up_prescribed_for_and_refilled(
    live_url, new_page, provider, patient
) -> None:
    visit = appointment_create(
        patient=patient, provider=provider, date_time=at(today(), 9), reason="Persistent cough"
    )
    doctor, pat = new_page(), new_page()

    # The provider opens Pat's chart and writes up this morning's visit from its appointment.
    _sign_in_provider(doctor, live_url, provider)
    doctor.get_by_role("navigation", name="Provider portal").get_by_role(
        "link", name="Patients"
    ).click()
    doctor.get_by_role("link", name="Pat Jones").click()
    expect(doctor.get_by_role("heading", name="Appointments")).to_be_visible()
    doctor.locator(f'tr[data-appointment="{visit.pk}"]').get_by_role(
        "link", name="Write record"
    ).click()
    expect(doctor.get_by_role("heading", name="Write a record")).to_be_visible()
    doctor.get_by_label("Symptoms").fill("Dry cough for two weeks, no fever")
    doctor.get_by_label("Diagnosis").fill("Acute bronchitis <not a tag>")
    doctor.get_by_label("Treatment").fill("Rest, fluids; inhaler as needed")
    expect(doctor.get_by_label("Appointment", exact=True)).to_have_value(str(visit.pk))
    doctor.get_by_label("Also mark this appointment completed").check()
    doctor.get_by_role("button", name="Save the record").click()
    expect(doctor.get_by_text("The record is saved.")).to_be_visible()
    expect(doctor.get_by_text("Acute bronchitis <not a tag>")).to_be_visible()
    record = MedicalRecord.objects.get()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.COMPLETED
    assert record.appointment_id == visit.pk

    # ...and prescribes from the record.
    doctor.get_by_role("link", name="Prescribe from this record").click()
    doctor.get_by_label("Medication").fill("Albuterol inhaler")
    doctor.get_by_label("Dosage").fill("90 mcg, 2 puffs")
    doctor.get_by_label("Frequency").fill("Every 4 to 6 hours as needed")
    doctor.get_by_label("Duration").fill("30 days")
    doctor.get_by_label("Start date").fill(today().isoformat())
    doctor.get_by_label("End date").fill((today() + dt.timedelta(days=30)).isoformat())
    doctor.get_by_label("Refills").fill("2")
    expect(doctor.get_by_label("From the record")).to_have_value(str(record.pk))
    doctor.get_by_role("button", name="Write the prescription").click()
    expect(doctor.get_by_text("The prescription is written.")).to_be_visible()
    prescription = Prescription.objects.get()
    assert (prescription.medical_record_id, prescription.refills) == (record.pk, 2)

    # Pat sees the record and the prescription, and asks for a refill.
    _sign_in(pat, live_url, patient.user.email)
    expect(pat).to_have_url(f"{live_url}/patient/")
    pat.get_by_role("navigation", name="Patient portal").get_by_role("link", name="Records").click()
    pat.get_by_role("link", name=re.compile("Acute bronchitis")).click()
    expect(pat.get_by_text("Dry cough for two weeks, no fever")).to_be_visible()
    expect(pat.get_by_text("Anika Patel, MD").first).to_be_visible()
    pat.get_by_role("navigation", name="Patient portal").get_by_role(
        "link", name="Prescriptions"
    ).click()
    row = pat.locator(f'tr[data-prescription="{prescription.pk}"]')
    expect(row.locator("[data-refills]")).to_have_text("2")
    row.get_by_role("link", name="Albuterol inhaler").click()
    pat.get_by_label("Note for your provider (optional)").fill("Using it more at night")
    pat.get_by_role("button", name="Request a refill").click()
    expect(pat.get_by_text("Your refill request is sent.")).to_be_visible()
    expect(
        pat.get_by_text("Your refill request is waiting for your provider's decision.")
    ).to_be_visible()
    expect(pat.get_by_role("button", name="Request a refill")).to_have_count(0)

    # The provider approves it from the refill queue.
    doctor.get_by_role("navigation", name="Provider portal").get_by_role(
        "link", name="Refills"
    ).click()
    doctor.get_by_role("link", name="Decide for Pat Jones").click()
    expect(doctor.get_by_text("Using it more at night")).to_be_visible()
    doctor.get_by_role("button", name="Approve the refill").click()
    expect(doctor.get_by_text("Refill approved. 1 refill is left.")).to_be_visible()
    assert RefillRequest.objects.get().status == RefillStatus.APPROVED

    # Pat sees the refill count go down and the request approved.
    pat.reload()
    expect(pat.locator("dd[data-refills]")).to_have_text("1")
    expect(pat.locator(".decision .status")).to_have_text("Approved")
    pat.get_by_role("navigation", name="Patient portal").get_by_role(
        "link", name="Prescriptions"
    ).click()
    expect(pat.locator(f'tr[data-prescription="{prescription.pk}"] [data-refills]')).to_have_text(
        "1"
    )
