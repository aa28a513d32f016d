"""Appointment emails to patients, each sent after the surrounding transaction commits.

They name the provider, the time (in the provider's zone, which is said) and
the place; never the reason or notes, which an inbox shared or read on a lock
screen should not show.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from patients.timezones import format_in_zone, zone_of
from scheduling import conf
from scheduling.models import Appointment

logger = logging.getLogger(__name__)


def _context(appointment: Appointment, **extra: object) -> dict[str, object]:
    base = conf.portal_url()
    zone = zone_of(appointment.provider)
    return {
        "name": appointment.patient.user.full_name,
        "provider": appointment.provider.display_name,
        "location": appointment.provider.office_location,
        "when": format_in_zone(appointment.date_time, zone),
        "zone": getattr(zone, "key", "UTC"),
        "minutes": appointment.duration_minutes,
        "cutoff_hours": int(conf.cancel_cutoff().total_seconds() // 3600),
        "link": base + reverse("scheduling:patient-appointments") if base else "",
        **extra,
    }


def _send(appointment: Appointment, subject: str, template: str, **extra: object) -> None:
    to = appointment.patient.user.email
    body = render_to_string(template, _context(appointment, **extra))
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    )


def send_booked(appointment: Appointment) -> None:
    _send(appointment, "Your appointment is booked", "scheduling/email/booked.txt")


def send_rescheduled(appointment: Appointment, *, previous: Appointment) -> None:
    _send(
        appointment,
        "Your appointment has moved",
        "scheduling/email/rescheduled.txt",
        previous=format_in_zone(previous.date_time, zone_of(previous.provider)),
    )


def send_cancelled(appointment: Appointment, *, by_provider: bool) -> None:
    _send(
        appointment,
        "Your appointment is cancelled",
        "scheduling/email/cancelled.txt",
        by_provider=by_provider,
        cancellation_reason=appointment.cancellation_reason if by_provider else "",
    )


def send_reminder(appointment: Appointment, *, claimed_at: dt.datetime) -> None:
    """The reminder, after commit; if it cannot be sent its claim is given back."""
    to = appointment.patient.user.email
    body = render_to_string("scheduling/email/reminder.txt", _context(appointment))
    pk = appointment.pk

    def deliver() -> None:
        try:
            send_mail(
                "Reminder: your appointment",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [to],
                fail_silently=False,
            )
        except Exception:
            logger.exception(
                "Reminder for appointment %s could not be sent; it will be retried.", pk
            )
            Appointment.objects.filter(pk=pk, reminder_sent_at=claimed_at).update(
                reminder_sent_at=None
            )
            raise

    transaction.on_commit(deliver)
