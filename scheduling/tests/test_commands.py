"""`manage.py send_appointment_reminders`, as cron runs it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from scheduling.models import Appointment
from scheduling.services import appointment_create
from scheduling.tests.conftest import make_patients

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: emails go out on commit


def _run() -> str:
    out = StringIO()
    call_command("send_appointment_reminders", stdout=out)
    return out.getvalue()


def test_running_twice_sends_each_reminder_once(provider) -> None:
    tomorrow, later = make_patients(2, provider=provider)
    due = appointment_create(
        patient=tomorrow, provider=provider, date_time=timezone.now() + dt.timedelta(hours=20)
    )
    appointment_create(
        patient=later, provider=provider, date_time=timezone.now() + dt.timedelta(hours=30)
    )

    first, second = _run(), _run()

    assert first.strip() == "Sent 1 appointment reminder."
    assert second.strip() == "Sent 0 appointment reminders."
    assert [m.to for m in mail.outbox] == [[tomorrow.user.email]]
    body = mail.outbox[0].body
    assert "Anika Patel, MD" in body
    assert "America/New_York" in body
    assert Appointment.objects.get(pk=due.pk).reminder_sent_at is not None
