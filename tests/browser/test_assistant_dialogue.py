"""The assistant's buttons and its transfer preview in a real browser: a proposed time is a
button that sends the same turn as saying it, and a message to the care team is shown in full
before it is sent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assistant.models import AIInteraction
from assistant.tests.helpers import at, next_weekday
from messaging.models import Message
from scheduling.models import Appointment
from tests.browser.test_assistant_journeys import _sign_in

pytestmark = pytest.mark.browser


def test_a_slot_button_click_books_after_the_proposal_and_nothing_before(
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
    assert not Appointment.objects.exists()

    # The button says the time, and clicking it is the same turn as saying "14:30".
    page.locator("#reply-extras").get_by_role("button", name="14:30").click()
    expect(log.locator(".turn-user").last).to_have_text("You 14:30")
    expect(log).to_contain_text("Booked:")
    booked = Appointment.objects.get(patient=patient)
    assert (booked.provider, booked.date_time) == (provider, at(tuesday, 14, 30))
    row = AIInteraction.objects.order_by("-interaction_timestamp").first()
    assert (row.input_text, row.outcome) == ("14:30", "booked")
    # The conversation is not numbered: no list markers on either side.
    markers = page.evaluate(
        "Array.from(document.querySelectorAll('#chat-log > li'))"
        ".map(li => getComputedStyle(li).listStyleType)"
    )
    assert markers and set(markers) == {"none"}
    # Replies are announced: the list sits in a polite live region, no item is an alert.
    expect(page.locator("#chat-live[role=log][aria-live=polite] #chat-log")).to_have_count(1)
    expect(page.locator("#chat-log li[role=alert]")).to_have_count(0)


def test_a_transfer_shows_the_exact_text_before_sending_it(
    live_url, page, patient, provider, settings, tmp_path
):
    settings.VOSK_MODEL_PATH = str(tmp_path / "no-model")
    _sign_in(page, live_url, patient.user.email)
    page.goto(f"{live_url}/assistant/")
    log = page.locator("#chat-log")
    page.get_by_label("Type your question").fill("what are your hours")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("Building A", timeout=60_000)
    page.get_by_label("Type your question").fill(
        "tell doctor patel that my ssn is 123-45-6789 and the rash is worse"
    )
    page.keyboard.press("Enter")
    expect(log).to_contain_text("Shall I send it?")
    shown = log.locator(".transfer-preview pre").last
    expect(shown).to_contain_text("Conversation with the assistant:")
    expect(shown).to_contain_text("what are your hours")
    expect(shown).not_to_contain_text("6789")
    # The patient's own bubble is replaced by what was kept: the number is gone there too.
    expect(log.locator(".turn-user").last).to_contain_text("[removed]")
    expect(log.locator(".turn-user").last).not_to_contain_text("6789")
    text = shown.inner_text()
    assert not Message.objects.exists()

    page.locator("#reply-extras").get_by_role("button", name="Yes").click()
    expect(page).to_have_url(f"{live_url}/messages/with/{provider.user.pk}/")
    sent = Message.objects.get()
    assert sent.content == text
    assert "[removed]" in sent.content and "6789" not in sent.content


def test_a_typed_overdose_gets_911_and_poison_control_and_nothing_is_done(
    live_url, page, patient, provider, settings, tmp_path
):
    import datetime as dt

    from prescriptions.models import RefillRequest
    from prescriptions.services import prescription_create

    today = dt.date.today()
    prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Lisinopril",
        dosage="10 mg",
        frequency="Once daily",
        start_date=today,
        end_date=today + dt.timedelta(days=90),
        refills=3,
    )
    settings.VOSK_MODEL_PATH = str(tmp_path / "no-model")
    _sign_in(page, live_url, patient.user.email)
    page.goto(f"{live_url}/assistant/")
    page.get_by_label("Type your question").fill(
        "my little boy got into my lisinopril and swallowed a handful, can I get a refill"
    )
    page.keyboard.press("Enter")
    # The reply itself, not the page's standing footer, names both numbers.
    log = page.locator("#chat-log")
    expect(log).to_contain_text("1-800-222-1222", timeout=60_000)
    expect(log).to_contain_text("911")
    assert not Appointment.objects.exists()
    assert not RefillRequest.objects.exists()
    row = AIInteraction.objects.order_by("-interaction_timestamp").first()
    assert row.outcome == "emergency_advised"


def test_a_past_heart_attack_mentioned_while_booking_does_not_interrupt_the_booking(
    live_url, page, patient, provider, settings, tmp_path
):
    settings.VOSK_MODEL_PATH = str(tmp_path / "no-model")
    _sign_in(page, live_url, patient.user.email)
    page.goto(f"{live_url}/assistant/")
    log = page.locator("#chat-log")
    page.get_by_label("Type your question").fill(
        "my dad died of a heart attack years ago so I want a check-up with Dr. Patel next Tuesday afternoon"
    )
    page.keyboard.press("Enter")
    expect(log).to_contain_text("Shall I book", timeout=60_000)
    expect(log).not_to_contain_text("911")
    assert (
        AIInteraction.objects.order_by("-interaction_timestamp").first().outcome
        != "emergency_advised"
    )
