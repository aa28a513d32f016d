"""Appointment emails to patients, each queued for the task worker after the surrounding
transaction commits (reminders: sent by the reminder job, which already runs in the worker).

They name the provider, the time (in the provider's zone, which is said) and
the place; never the reason or notes, which an inbox shared or read on a lock
screen should not show.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from healthcare.mail import email_enqueue
from patients.timezones import format_in_zone, zone_of
from scheduling import conf
from scheduling.models import Appointment


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
    email_enqueue(
        to=appointment.patient.user.email,
        subject=subject,
        body=render_to_string(template, _context(appointment, **extra)),
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


def send_reminder(appointment: Appointment) -> None:
    """The reminder, sent now: the reminder job runs in the task worker and marks
    each appointment sent as soon as the mail server has accepted it."""
    send_mail(
        "Reminder: your appointment",
        render_to_string("scheduling/email/reminder.txt", _context(appointment)),
        settings.DEFAULT_FROM_EMAIL,
        [appointment.patient.user.email],
        fail_silently=False,
    )
