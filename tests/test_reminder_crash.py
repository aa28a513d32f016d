"""A reminder run killed half-way and started again sends each reminder exactly once.

Real processes, a real mail server: `manage.py send_appointment_reminders` (the
function the worker's schedule calls) runs as its own process against a slow
aiosmtpd server, is killed with SIGKILL while a reminder is in flight, and is
run again. The mail server counts what it accepted, per patient.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from scheduling.models import Appointment
from scheduling.services import appointment_create
from scheduling.tests.conftest import make_patients
from tests.servers import ROOT, server_env, shared_database_url
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db(transaction=True)

CLAIM_SECONDS = 15  # SCHEDULING_REMINDER_CLAIM_SECONDS for the runs below: longer than a start-up


def _run(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_appointment_reminders"],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def _sent() -> int:
    return Appointment.objects.filter(reminder_sent_at__isnull=False).count()


def test_a_reminder_run_killed_between_messages_sends_each_reminder_once(
    provider, tmp_path: Path
) -> None:
    patients = make_patients(5, provider=provider)
    for hours, patient in enumerate(patients, start=2):
        appointment_create(
            patient=patient, provider=provider, date_time=timezone.now() + dt.timedelta(hours=hours)
        )
    log = tmp_path / "reminders.log"

    with SmtpSink(rcpt_delay=1.0) as smtp:
        env = server_env(
            shared_database_url(),
            EMAIL_URL=smtp.url,
            SCHEDULING_REMINDER_CLAIM_SECONDS=str(CLAIM_SECONDS),
        )
        recorder = smtp.recorder

        # Killed while the third reminder is in flight: two accepted and marked sent,
        # the third claimed and waiting for the server's answer.
        first = _run(env, log)
        try:
            deadline = time.monotonic() + 120
            while not (_sent() == 2 and len(recorder.recipients_seen) == 3):
                assert first.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
        finally:
            first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        killed_at = timezone.now()
        in_flight = Appointment.objects.get(
            reminder_claimed_at__isnull=False, reminder_sent_at__isnull=True
        )
        assert len(recorder.messages) == 2

        # Started again at once: the in-flight claim is young, so another live run
        # might still hold it; the restart leaves it and sends the rest.
        second = _run(env, log)
        assert second.wait(timeout=120) == 0, log.read_text()
        in_flight.refresh_from_db()
        assert in_flight.reminder_sent_at is None
        assert len(recorder.messages) == 4

        # Once the claim is older than SCHEDULING_REMINDER_CLAIM_SECONDS it was
        # abandoned: the next run sends it.
        time.sleep(max(0.0, CLAIM_SECONDS + 0.5 - (timezone.now() - killed_at).total_seconds()))
        third = _run(env, log)
        assert third.wait(timeout=120) == 0, log.read_text()

        counts = recorder.count_per_recipient()

    assert counts == {patient.user.email: 1 for patient in patients}
    assert _sent() == 5
    assert "Sent 1 appointment reminder." in log.read_text()
