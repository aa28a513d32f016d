"""The idle sign-out is announced and can be put off (WCAG 2.2.1); typing counts as activity.

The idle limit is made short (12 s, warning 8 s before) so the journey takes
seconds, not minutes; the page reads both from the server's settings.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = pytest.mark.browser

IDLE = 12
WARN = 8


@pytest.fixture
def short_idle(settings) -> None:
    settings.SESSION_COOKIE_AGE = IDLE
    settings.SESSION_IDLE_WARNING_SECONDS = WARN


def _sign_in(page, live_url: str, email: str) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/patient/")


def _server_session_alive(page, live_url: str) -> bool:
    # A request of its own (it renews the session too, so it is made only at the end of a step).
    response = page.request.get(f"{live_url}/accounts/security/", max_redirects=0)
    return response.status == 200


def test_warning_offers_to_stay_signed_in_and_typing_keeps_the_session(
    page, live_url, patient, short_idle
) -> None:
    _sign_in(page, live_url, patient.user.email)
    page.goto(f"{live_url}/messages/compose/")
    field = page.locator("main textarea, main input[type=text]").first
    expect(field).to_be_visible()

    # Typing for longer than the whole idle limit: no warning, and the server keeps the session.
    started = time.monotonic()
    while time.monotonic() - started < IDLE + 3:
        field.press_sequentially("a", delay=0)
        expect(page.get_by_role("dialog")).to_be_hidden()
        page.wait_for_timeout(700)
    assert page.url == f"{live_url}/messages/compose/"
    # The keep-alive requests reached the server: the session outlived its idle limit.
    assert _server_session_alive(page, live_url)
    assert field.input_value().startswith("aaaa")

    # Then nothing: the warning opens as a modal dialog with the focus on "Stay signed in".
    dialog = page.get_by_role("dialog", name="Are you still there?")
    expect(dialog).to_be_visible(timeout=(IDLE - WARN + 3) * 1000)
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    with page.expect_request(lambda r: r.url.endswith("/accounts/session/keep-alive/")):
        page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    # What was typed is still there, and the field has the focus back.
    expect(field).to_be_focused()
    assert field.input_value().startswith("aaaa")

    # No activity at all: at the limit the page goes to sign-in and says why.
    page.wait_for_url(f"{live_url}/accounts/login/**", timeout=(IDLE + 5) * 1000)
    expect(page.get_by_text("You were signed out after a period of inactivity.")).to_be_visible()
    assert not _server_session_alive(page, live_url)


def test_explicit_sign_out_says_only_that(page, live_url, patient, short_idle) -> None:
    _sign_in(page, live_url, patient.user.email)
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url(f"{live_url}/accounts/login/")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.wait_for_timeout(1500)
    expect(page.get_by_text("period of inactivity")).to_have_count(0)
