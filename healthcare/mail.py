"""Outgoing email, sent by the task worker instead of the request.

A page that stores something and emails about it renders the message while it
has the request, then hands it to the task engine once the transaction commits:
a slow or failing mail server can neither slow the page nor lose the email.

The message travels encrypted (FIELD_ENCRYPTION_KEY): the queue and the task
results the admin sees hold links that sign a person in (password reset,
invitation), which must not be readable there. The task's name says what kind of
email it is and to which masked address, which is what an admin needs to act.

A failed delivery raises, so each failed attempt is a Failure in the admin, and
schedules the next attempt itself with a doubling delay
(EMAIL_RETRY_BASE_SECONDS, then twice that, ...; EMAIL_RETRY_ATTEMPTS in all).
A Schedule row, not the cluster's redelivery, because the Redis broker never
redelivers and a fixed delay would hammer a mail server that is down.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from patients import crypto

logger = logging.getLogger(__name__)

DELIVER = "healthcare.mail.email_deliver"


def mask_address(address: str) -> str:
    """`m***@example.org`: enough for an admin to tell messages apart, not to read an address."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def email_enqueue(*, to: str, subject: str, body: str) -> None:
    """Queue one plain-text email for the worker after the current transaction commits.

    Outside a transaction it is queued at once. A rolled-back transaction sends nothing.
    """
    sealed = crypto.encrypt(json.dumps({"to": to, "subject": subject, "body": body}))
    name = _task_name(to, subject)
    transaction.on_commit(lambda: async_task(DELIVER, sealed, 1, task_name=name))


def email_deliver(sealed: str, attempt: int = 1) -> None:
    """The task: send the message; on failure schedule the next attempt and raise."""
    message = json.loads(crypto.decrypt(sealed))
    try:
        EmailMessage(
            message["subject"], message["body"], settings.DEFAULT_FROM_EMAIL, [message["to"]]
        ).send(fail_silently=False)
    except Exception:
        attempts = int(getattr(settings, "EMAIL_RETRY_ATTEMPTS", 8))
        if attempt < attempts:
            delay = retry_delay(attempt)
            name = _task_name(message["to"], message["subject"])
            Schedule.objects.create(
                name=f"retry {attempt + 1}: {name}"[:100],
                func=DELIVER,
                args=repr((sealed, attempt + 1)),
                kwargs=repr({"q_options": {"task_name": name}}),
                schedule_type=Schedule.ONCE,
                repeats=-1,  # a one-off: the scheduler deletes it once it has queued the task
                next_run=timezone.now() + delay,
            )
            logger.warning(
                "Email %r (attempt %s of %s) failed; next attempt in %s.",
                name,
                attempt,
                attempts,
                delay,
            )
        else:
            logger.error(
                "Email %r failed %s times; giving up.",
                _task_name(message["to"], message["subject"]),
                attempts,
            )
        raise


def retry_delay(attempt: int) -> dt.timedelta:
    """Wait before attempt `attempt + 1`: the base delay, doubled after each failure, at most a day."""
    base = int(getattr(settings, "EMAIL_RETRY_BASE_SECONDS", 30))
    return dt.timedelta(seconds=min(base * 2 ** (attempt - 1), 24 * 60 * 60))


def _task_name(to: str, subject: str) -> str:
    return f"email to {mask_address(to)}: {subject}"[:100]
