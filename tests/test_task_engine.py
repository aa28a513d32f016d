"""Email through the task engine: queued after commit, sealed in the queue, retried with
backoff, failures in the admin; the recurring jobs scheduled by `migrate` itself.

These run the queue by hand on the configured broker; tests/test_reminder_crash.py and
tests/test_rehearsal.py run the real worker process.
"""

from __future__ import annotations

import datetime as dt
import re
from multiprocessing import Value
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Failure, Schedule, Success, Task
from django_q.monitor import monitor
from django_q.queues import Queue
from django_q.scheduler import scheduler
from django_q.signing import SignedPackage
from django_q.worker import worker

from accounts.emails import send_verification_email
from healthcare import mail as portal_mail
from healthcare.schedules import schedule_ensure
from patients import crypto
from scheduling.services import appointment_book, appointment_create
from scheduling.tests.conftest import at, next_weekday


@pytest.fixture
def queued(monkeypatch):
    """Tasks go to the broker instead of running inline; yields a function that takes them out."""
    monkeypatch.setattr(Conf, "SYNC", False)
    broker = get_broker()
    broker.purge_queue()

    def take() -> list[dict]:
        tasks = []
        while True:
            batch = broker.dequeue()
            if not batch:
                return tasks
            for ack_id, payload in batch:
                tasks.append(SignedPackage.loads(payload))
                if ack_id is not None:
                    broker.acknowledge(ack_id)

    yield take
    broker.purge_queue()


def run(task: dict) -> Task:
    """Hand a queued task to django-q2's own worker and result monitor, in this process.

    Conf.SYNC only keeps them from closing the test's database connection; the task
    itself is not marked sync, so a failure is recorded as in production, not raised.
    """
    previous, Conf.SYNC = Conf.SYNC, True
    task_queue, result_queue = Queue(), Queue()
    try:
        task_queue.put(task)
        task_queue.put("STOP")
        worker(task_queue, result_queue, Value("f", -1))
        result_queue.put("STOP")
        monitor(result_queue, get_broker())
    finally:
        Conf.SYNC = previous
    return Task.objects.get(id=task["id"])


def retry_now(queued) -> dict:
    """Let the scheduler queue the pending retry at once, and take it off the queue."""
    Schedule.objects.filter(func=portal_mail.DELIVER).update(
        next_run=timezone.now() - dt.timedelta(seconds=1)
    )
    # Its first step closes "old" connections, which would be the test's own transaction.
    with mock.patch("django_q.scheduler.close_old_django_connections"):
        scheduler(broker=get_broker())
    assert not Schedule.objects.filter(func=portal_mail.DELIVER).exists()  # one-off, done
    # The recurring jobs are due too (their first run is "now"); only the email matters here.
    (task,) = [t for t in queued() if t["func"] == portal_mail.DELIVER]
    return task


class Refusing:
    """A mail server that is down."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages) -> int:
        raise ConnectionRefusedError("mail server down")


def test_the_page_only_queues_the_email_and_the_worker_sends_it(
    patient_client, patient, provider, queued, django_capture_on_commit_callbacks
) -> None:
    day = next_weekday(4)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(
            patient=patient, provider=provider, starts_at=at(day, 10), booked_by=patient.user
        )

    assert mail.outbox == []  # nothing left in the request
    (task,) = queued()
    assert task["func"] == portal_mail.DELIVER
    assert task["name"] == "email to p***@example.org: Your appointment is booked"

    run(task)
    assert [m.to for m in mail.outbox] == [[patient.user.email]]
    assert "Anika Patel" in mail.outbox[0].body


def test_a_rolled_back_transaction_queues_nothing(patient, queued) -> None:
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        send_verification_email(user=patient.user, base_url="https://portal.example.org")
        raise RuntimeError

    assert queued() == []


def test_reset_link_is_sealed_in_the_queue(
    client, patient, queued, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password-reset"), {"email": patient.user.email})

    (task,) = queued()
    assert mail.outbox == []
    raw = repr(task)
    assert "/accounts/password/reset/" not in raw
    assert patient.user.email not in raw  # only the masked address, in the name
    sealed = task["args"][0]
    assert "/accounts/password/reset/" in crypto.decrypt(sealed)

    run(task)
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", message.body).group(0)
    assert client.get(link, follow=True).status_code == 200


def test_a_failed_email_is_retried_later_with_a_doubling_delay(
    patient, queued, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_RETRY_BASE_SECONDS = 30
    settings.EMAIL_RETRY_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        send_verification_email(user=patient.user, base_url="https://portal.example.org")
    (task,) = queued()

    settings.EMAIL_BACKEND = "tests.test_task_engine.Refusing"
    started = timezone.now()
    first = run(task)
    assert not first.success
    assert "mail server down" in first.result
    (retry,) = Schedule.objects.filter(func=portal_mail.DELIVER)
    assert retry.schedule_type == Schedule.ONCE
    assert dt.timedelta(seconds=29) < retry.next_run - started < dt.timedelta(seconds=40)

    # The second attempt fails too: the next one waits twice as long.
    started = timezone.now()
    second = run(retry_now(queued))
    assert not second.success
    assert second.name == first.name  # the admin sees one email's attempts under one name
    (retry,) = Schedule.objects.filter(func=portal_mail.DELIVER)
    assert dt.timedelta(seconds=59) < retry.next_run - started < dt.timedelta(seconds=70)

    # The third and last attempt gives up: nothing more is scheduled, three failures listed.
    third_task = retry_now(queued)
    assert not run(third_task).success
    assert not Schedule.objects.filter(func=portal_mail.DELIVER).exists()
    assert Failure.objects.filter(func=portal_mail.DELIVER).count() == 3
    assert mail.outbox == []

    # The mail server is back: the admin's "resubmit" of the failure delivers it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run(third_task | {"id": "resubmitted"}).success
    assert [m.subject for m in mail.outbox] == ["Confirm your email address"]


def test_failures_are_listed_in_the_admin(
    staff_client, patient, settings, queued, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_BACKEND = "tests.test_task_engine.Refusing"
    with django_capture_on_commit_callbacks(execute=True):
        send_verification_email(user=patient.user, base_url="https://portal.example.org")
    (task,) = queued()
    run(task)

    failure = Failure.objects.get()
    assert "mail server down" in failure.result
    page = staff_client.get("/admin/django_q/failure/")
    assert page.status_code == 200
    assert "email to p***@example.org: Confirm your email address" in page.content.decode()
    assert patient.user.email not in page.content.decode()
    assert staff_client.get(f"/admin/django_q/failure/{failure.pk}/change/").status_code == 200
    assert staff_client.get("/admin/django_q/schedule/").status_code == 200


def test_task_admin_needs_the_second_factor(client, admin_user, patient_client) -> None:
    client.force_login(admin_user)  # password only, no second factor
    assert client.get("/admin/django_q/failure/").status_code == 302
    assert patient_client.get("/admin/django_q/failure/").status_code == 302


def test_successful_emails_are_recorded(patient, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_verification_email(user=patient.user, base_url="https://portal.example.org")
    assert len(mail.outbox) == 1
    assert Success.objects.filter(func=portal_mail.DELIVER).count() == 1


def test_migrate_schedules_the_recurring_jobs(db) -> None:
    # The test database was built by `migrate`, which created these.
    reminders = Schedule.objects.get(name="Appointment reminders")
    expiry = Schedule.objects.get(name="Prescription expiry")
    assert (reminders.func, reminders.schedule_type, reminders.minutes) == (
        "scheduling.tasks.reminders_send",
        Schedule.MINUTES,
        15,
    )
    assert (expiry.func, expiry.minutes) == ("prescriptions.tasks.prescriptions_expire_due", 60)
    assert reminders.repeats == -1


def test_migrate_again_keeps_an_admins_change_and_adds_nothing(db) -> None:
    by_default = Schedule.objects.count()  # every job the apps schedule at migrate
    Schedule.objects.filter(name="Appointment reminders").update(minutes=5)
    Schedule.objects.filter(name="Prescription expiry").delete()

    call_command("migrate", verbosity=0)
    schedule_ensure(
        name="Appointment reminders", func="scheduling.tasks.reminders_send", minutes=15
    )

    assert Schedule.objects.get(name="Appointment reminders").minutes == 5
    assert Schedule.objects.filter(name="Prescription expiry").count() == 1
    assert Schedule.objects.count() == by_default >= 2


def test_the_scheduled_jobs_run(patient, provider) -> None:
    from prescriptions.tasks import prescriptions_expire_due
    from scheduling.tasks import reminders_send

    appointment_create(
        patient=patient, provider=provider, date_time=timezone.now() + dt.timedelta(hours=3)
    )
    mail.outbox.clear()
    assert reminders_send() == "1 reminders sent"
    assert [m.subject for m in mail.outbox] == ["Reminder: your appointment"]
    assert reminders_send() == "0 reminders sent"
    assert prescriptions_expire_due() == "0 prescriptions completed"
