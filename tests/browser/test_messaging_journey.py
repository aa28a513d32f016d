"""Secure messaging in a real browser: two people, two browser contexts, live updates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from conftest import PASSWORD
from messaging.selectors import CONVERSATION_PAGE_SIZE

pytestmark = pytest.mark.browser

PAYLOADS_FILE = (
    Path(__file__).resolve().parents[2] / "messaging" / "tests" / "data" / "xss_payloads.txt"
)
BADGE_MIDDLEWARE = "messaging.middleware.UnreadBadgeMiddleware"


@pytest.fixture(autouse=True)
def _badge_middleware(settings):
    """The navigation badge needs messaging's middleware; until settings.py lists it, add it here.

    The in-process server built its middleware chain at start-up, so the
    chain is rebuilt with it, and rebuilt without it afterwards.
    """
    if BADGE_MIDDLEWARE in settings.MIDDLEWARE:
        yield
        return
    from healthcare.asgi import django_asgi_app

    before = list(settings.MIDDLEWARE)
    settings.MIDDLEWARE = [*before, BADGE_MIDDLEWARE]
    django_asgi_app.load_middleware(is_async=True)
    yield
    settings.MIDDLEWARE = before
    django_asgi_app.load_middleware(is_async=True)


def _payloads() -> list[str]:
    lines = PAYLOADS_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("# ")]


def _sign_in(page, live_url: str, user) -> None:
    device = None
    if user.requires_mfa:
        device = TOTPDevice.objects.filter(
            user=user, confirmed=True
        ).first() or TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if device is not None:
        expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
        code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Verify").click()
    expect(page.locator("nav.main-nav")).to_be_visible()


def _conversation(live_url: str, other) -> str:
    return f"{live_url}/messages/with/{other.pk}/"


def _socket_open(page) -> None:
    expect(page.locator('body[data-messaging-socket="open"]')).to_have_count(1)


def _watch_for_scripts(page) -> list[str]:
    """Record every dialog (alert, confirm, prompt) the page opens, and dismiss it."""
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


class SocketSwitch:
    """Routes a page's messaging socket through a switch, to take it down and bring it back at will."""

    def __init__(self, page, *, down: bool = False) -> None:
        self.page = page
        self.down = down
        self.open: list = []
        page.route_web_socket(re.compile(r"/ws/messages/$"), self._route)

    def _route(self, socket) -> None:
        if self.down:
            socket.close(code=1012, reason="down for the test")
            return
        server = socket.connect_to_server()
        self.open.append((socket, server))

    def take_down(self) -> None:
        self.down = True
        # Both ends: the page sees a dropped socket, the server a departed consumer.
        for socket, server in self.open:
            server.close(code=1001, reason="down for the test")
            socket.close(code=1012, reason="down for the test")
        self.open.clear()
        expect(self.page.locator('body[data-messaging-socket="closed"]')).to_have_count(1)

    def bring_back(self) -> None:
        self.down = False
        # The page reconnects at once when the browser says it is online again.
        self.page.evaluate("window.dispatchEvent(new Event('online'))")
        _socket_open(self.page)


def test_a_message_appears_for_the_other_side_without_reload_and_the_receipt_comes_back(
    live_url, new_page, patient, provider
) -> None:
    patient_page, provider_page = new_page(), new_page()
    _sign_in(patient_page, live_url, patient.user)
    _sign_in(provider_page, live_url, provider.user)

    # The provider waits on the inbox; the patient opens the conversation.
    provider_page.goto(f"{live_url}/messages/")
    patient_page.goto(_conversation(live_url, provider.user))
    _socket_open(provider_page)
    _socket_open(patient_page)
    provider_page.evaluate("window.__sameDocument = true")
    patient_page.evaluate("window.__sameDocument = true")

    patient_page.get_by_role("textbox", name="Message").fill("Hello Dr Patel,\nmy rash is back.")
    patient_page.get_by_role("button", name="Send").click()

    mine = patient_page.locator(".message-mine").last
    expect(mine.locator(".message-body")).to_have_text("Hello Dr Patel,\nmy rash is back.")
    expect(mine.locator("[data-status]")).to_have_text("Sent")

    # The provider's inbox and badge update live.
    row = provider_page.locator(f'[data-partner-id="{patient.user.pk}"]')
    expect(row.locator("[data-unread]")).to_have_text("1 unread")
    expect(
        provider_page.get_by_role("navigation", name="Provider portal").locator(
            '[data-badge="messages"]'
        )
    ).to_have_text("1")
    expect(provider_page.locator('.menu-toggle [data-badge="messages"]')).to_have_text("1")

    # Opening the conversation reads it; the patient sees "Read" without reloading.
    row.get_by_role("link", name="Pat Jones").click()
    expect(provider_page.locator(".message-theirs .message-body")).to_have_text(
        "Hello Dr Patel,\nmy rash is back."
    )
    expect(mine.locator("[data-status]")).to_have_text(re.compile(r"^Read "))
    _socket_open(provider_page)

    # And the answer arrives live on the patient's page, then is read while shown.
    provider_page.evaluate("window.__sameDocument = true")
    provider_page.get_by_role("textbox", name="Message").fill("Please come in tomorrow at 10.")
    provider_page.get_by_role("button", name="Send").click()
    expect(patient_page.locator(".message-theirs .message-body")).to_have_text(
        "Please come in tomorrow at 10."
    )
    expect(provider_page.locator(".message-mine [data-status]")).to_have_text(re.compile(r"^Read "))
    expect(
        patient_page.get_by_role("navigation", name="Patient portal").locator(
            '[data-badge="messages"]'
        )
    ).to_be_hidden()

    assert patient_page.evaluate("window.__sameDocument") is True
    assert provider_page.evaluate("window.__sameDocument") is True


def test_a_page_whose_socket_dropped_catches_up_on_reconnect(
    live_url, new_page, patient, provider
) -> None:
    patient_page, provider_page = new_page(), new_page()
    _sign_in(patient_page, live_url, patient.user)
    _sign_in(provider_page, live_url, provider.user)
    switch = SocketSwitch(patient_page)
    patient_page.goto(_conversation(live_url, provider.user))
    provider_page.goto(_conversation(live_url, patient.user))
    _socket_open(patient_page)
    _socket_open(provider_page)
    patient_page.evaluate("window.__sameDocument = true")

    switch.take_down()
    provider_page.get_by_role("textbox", name="Message").fill("Sent while your socket was down")
    provider_page.get_by_role("button", name="Send").click()
    expect(provider_page.locator(".message-mine .message-body")).to_have_text(
        "Sent while your socket was down"
    )
    patient_page.wait_for_timeout(500)
    expect(patient_page.locator(".message-body")).to_have_count(0)

    switch.bring_back()
    expect(patient_page.locator(".message-theirs .message-body")).to_have_text(
        "Sent while your socket was down"
    )
    expect(provider_page.locator(".message-mine [data-status]")).to_have_text(re.compile(r"^Read "))
    assert patient_page.evaluate("window.__sameDocument") is True


def test_known_xss_payloads_never_run_on_either_side(
    live_url, new_page, patient, provider, settings
) -> None:
    payloads = _payloads()
    # More than two pages, so the server-rendered pages below are each full.
    assert len(payloads) >= 2 * CONVERSATION_PAGE_SIZE
    # No periodic session checks while the payloads go out one request at a time.
    settings.WEBSOCKET_SESSION_CHECK_SECONDS = 600
    patient_page, provider_page = new_page(), new_page()
    patient_dialogs, provider_dialogs = (
        _watch_for_scripts(patient_page),
        _watch_for_scripts(provider_page),
    )
    _sign_in(patient_page, live_url, patient.user)
    _sign_in(provider_page, live_url, provider.user)
    # Both messaging sockets stay down while the payloads go out: the shared
    # in-memory SQLite test database refuses concurrent access, and the pages
    # must render everything themselves once they connect.
    patient_switch = SocketSwitch(patient_page, down=True)
    provider_switch = SocketSwitch(provider_page, down=True)
    patient_page.goto(_conversation(live_url, provider.user))
    provider_page.goto(_conversation(live_url, patient.user))

    # Sent through the page, as a provider would (the page script posts the form).
    box = provider_page.get_by_role("textbox", name="Message")
    for payload in payloads:
        box.fill(payload)
        provider_page.get_by_role("button", name="Send").click()
        expect(box).to_have_value("")
    sent = provider_page.locator(".message-mine .message-body")
    assert sent.all_text_contents() == payloads

    # The patient's page catches up over the socket and renders them itself...
    patient_switch.bring_back()
    received = patient_page.locator(".message-theirs .message-body")
    expect(received).to_have_count(len(payloads))
    assert received.all_text_contents() == payloads
    # ...reads them, and the provider's page gets the receipts when it reconnects.
    expect(
        patient_page.get_by_role("navigation", name="Patient portal").locator(
            '[data-badge="messages"]'
        )
    ).to_be_hidden()
    provider_switch.bring_back()
    expect(provider_page.locator(".message-mine [data-status]").last).to_have_text(
        re.compile(r"^Read ")
    )

    # Rendered by the server after a reload: the latest page, then the earlier one.
    patient_page.reload()
    size = CONVERSATION_PAGE_SIZE
    expect(received).to_have_count(size)
    assert received.all_text_contents() == payloads[-size:]
    patient_page.get_by_role("link", name="Show earlier messages").click()
    earlier = payloads[:-size][-size:]
    expect(received).to_have_count(len(earlier))
    assert received.all_text_contents() == earlier

    for page in (patient_page, provider_page):
        page.wait_for_timeout(500)  # let any injected timer or load handler fire
        assert page.evaluate("typeof window.__xss") == "undefined"
        markup = page.locator(
            ".message-list :is(script, img, svg, iframe, object, embed, a, input, select, textarea,"
            " details, video, audio, style, meta, base, form, marquee, table, template, math)"
        )
        assert markup.count() == 0
    assert patient_dialogs == [] and provider_dialogs == []


def test_without_javascript_everything_works_by_page_loads(
    live_url, browser_instance, patient, provider
) -> None:
    contexts = [browser_instance.new_context(java_script_enabled=False) for _ in range(2)]
    try:
        patient_page, provider_page = (context.new_page() for context in contexts)
        _sign_in(patient_page, live_url, patient.user)
        _sign_in(provider_page, live_url, provider.user)

        patient_page.goto(f"{live_url}/messages/compose/")
        patient_page.get_by_label("To").select_option(label="Anika Patel, MD (Family Medicine)")
        patient_page.get_by_role("textbox", name="Message").fill("Sent without JavaScript")
        patient_page.get_by_role("button", name="Send").click()
        expect(patient_page).to_have_url(_conversation(live_url, provider.user))
        expect(patient_page.locator(".message-mine [data-status]")).to_have_text("Sent")

        provider_page.goto(f"{live_url}/messages/")
        expect(
            provider_page.get_by_role("navigation", name="Provider portal").locator(
                '[data-badge="messages"]'
            )
        ).to_have_text("1")
        provider_page.get_by_role("link", name="Pat Jones").click()
        expect(provider_page.locator(".message-theirs .message-body")).to_have_text(
            "Sent without JavaScript"
        )
        provider_page.get_by_role("textbox", name="Message").fill("Answered without JavaScript")
        provider_page.get_by_role("button", name="Send").click()
        expect(provider_page.locator(".message-mine .message-body")).to_have_text(
            "Answered without JavaScript"
        )

        patient_page.reload()
        expect(patient_page.locator(".message-mine [data-status]")).to_have_text(
            re.compile(r"^Read ")
        )
        expect(patient_page.locator(".message-theirs .message-body")).to_have_text(
            "Answered without JavaScript"
        )
    finally:
        for context in contexts:
            context.close()
