"""End-to-end journeys of signing in, in a real browser."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, live_url: str, email: str, password: str) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_patient_registers_verifies_signs_in_and_sees_the_dashboard(page, live_url) -> None:
    page.goto(f"{live_url}/accounts/register/")
    page.get_by_label("Full name").fill("Robin Park")
    page.get_by_label("Email").fill("robin.park@example.org")
    page.locator("#id_phone_number").fill("555-0111")
    page.get_by_label("Date of birth").fill("1991-08-30")
    page.get_by_label("Address").fill("4 Birch Road")
    page.get_by_label("Emergency contact name").fill("Alex Park")
    page.get_by_label("Emergency contact phone").fill("555-0112")
    page.locator("#id_password1").fill("Velvet-thunder-canyon-8")
    page.locator("#id_password2").fill("Velvet-thunder-canyon-8")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()

    _sign_in(page, live_url, "robin.park@example.org", "Velvet-thunder-canyon-8")
    expect(page).to_have_url(f"{live_url}/patient/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Robin Park")
    expect(page.get_by_role("navigation", name="Patient portal")).to_be_visible()


def test_provider_signs_in_with_a_totp_code(page, live_url, provider) -> None:
    device = TOTPDevice.objects.create(user=provider.user, name="phone", confirmed=True)
    _sign_in(page, live_url, provider.user.email, PASSWORD)
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_url}/provider/")
    expect(page.get_by_role("navigation", name="Provider portal")).to_be_visible()


def test_account_is_locked_after_five_failures(page, live_url, patient) -> None:
    for _n in range(5):
        _sign_in(page, live_url, patient.user.email, "wrong-password-123")
    _sign_in(page, live_url, patient.user.email, PASSWORD)
    expect(page.locator("#lockout")).to_contain_text("Too many failed sign-in attempts")
    page.goto(f"{live_url}/patient/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_idle_session_is_signed_out(page, live_url, patient, settings) -> None:
    settings.SESSION_COOKIE_AGE = 3
    _sign_in(page, live_url, patient.user.email, PASSWORD)
    expect(page).to_have_url(f"{live_url}/patient/")
    # The page itself goes to the sign-in screen once the idle time has passed.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fpatient%2F&expired=1"), timeout=10_000)
    expect(page.get_by_text("You were signed out after a period of inactivity.")).to_be_visible()
    page.goto(f"{live_url}/patient/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
