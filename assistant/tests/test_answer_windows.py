"""The assistant reads out a few items of a long list and sends the rest to the page."""

from __future__ import annotations

import pytest

from assistant.tests.helpers import Conversation
from records.tests.fixtures import make_prescriptions

pytestmark = pytest.mark.django_db


def test_a_long_prescription_list_is_read_five_at_a_time(patient, provider) -> None:
    make_prescriptions(patient, provider, 8)

    reply = Conversation(patient.user).say("what are my prescriptions")

    assert "You have 8 active prescriptions" in reply.text
    assert "Medication 004" in reply.text
    assert "Medication 005" not in reply.text
    assert "3 more are on your prescriptions page." in reply.text
