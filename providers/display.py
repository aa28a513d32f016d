"""What each row of the provider's pages shows (chart, patient list, dashboard), worked out once per page.

A page lists a few dozen rows; through template filters each row would pay
for several lookups, a zone conversion, date formats and a URL reversal. Here
each row becomes a plain dict of the strings the template prints (it escapes
them as it would the model's fields), so the HTML is the same.
"""

from __future__ import annotations

import datetime as dt
import html
import unicodedata
from typing import Any
from uuid import UUID

from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from patients.timezones import DEFAULT_FORMAT, format_in_zone
from prescriptions.models import PrescriptionStatus
from providers.selectors import ProviderDashboard
from records.selectors import ClinicalChart
from scheduling.display import rows_html, when_text
from scheduling.models import AppointmentStatus, AppointmentType

Row = dict[str, Any]

# As get_type_display / get_status_display (a value outside the choices shows as stored).
_TYPE_LABELS = dict(AppointmentType.choices)
_STATUS_LABELS = dict(AppointmentStatus.choices)

_PLACEHOLDER = UUID(int=0)


class _UrlOf:
    """A URL pattern with one id in it, reversed once; each row fills in its own id.

    Reversing is the costliest part of a row; the ids are UUIDs, so the
    placeholder's text appears nowhere else in the path.
    """

    def __init__(self, name: str, kwarg: str) -> None:
        self.pattern = reverse(name, kwargs={kwarg: _PLACEHOLDER})

    def __call__(self, pk: object) -> str:
        return self.pattern.replace(str(_PLACEHOLDER), str(pk))


def _shortened(text: str, length: int) -> str:
    """As ``Truncator(text).chars(length)``, without its lazy-string set-up for the usual text
    that fits: one that has no more characters than ``length`` comes back whole (NFC, as
    Truncator returns it)."""
    if len(text) <= length:
        return unicodedata.normalize("NFC", text)
    return Truncator(text).chars(length)


def _day(value: dt.date) -> str:
    # As the `date:"j M Y"` filter ("3 Jun 2025") without parsing the format for every date.
    return f"{value.day} {MONTHS_3[value.month].title()} {value.year:04d}"


def _birthday(value: dt.date) -> str:
    # As `date:"M j, Y"`: "Jun 3, 2025".
    return f"{MONTHS_3[value.month].title()} {value.day}, {value.year:04d}"


def _iso(value: dt.datetime) -> str:
    # As zoned_time's `iso` filter: UTC, whole seconds.
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The chart's rows as markup, one template per table filled in by rows_html (every
# value escaped): a template loop pays for each variable, tag and translation of
# every row, several times what the page's queries cost. Same HTML as the
# templates in providers/chart/ drew.
_APPOINTMENT_ROW = (
    '<tr data-appointment="{pk}">\n'
    '  <td><time datetime="{iso}">{when}</time></td>\n'
    "  <td>{provider}</td>\n"
    "  <td>{type}</td>\n"
    "  <td>{reason}</td>\n"
    '  <td><span class="status status-{status}">{status_label}</span></td>\n'
    "  <td>{write}</td>\n"
    "</tr>"
)
_RECORD_ROW = (
    '<li data-record="{pk}">\n'
    '  <h3><a href="{url}">{day} · {title}</a></h3>\n'
    '  <p class="meta">{provider}{appointment}</p>\n'
    "  {symptoms}{treatment}\n"
    "</li>"
)
_PRESCRIPTION_ROW = (
    '<tr data-prescription="{pk}">\n'
    '  <th scope="row"><a href="{url}">{medication}</a></th>\n'
    "  <td>{dosage}, {frequency}</td>\n"
    "  <td>{start} – {end}{duration}</td>\n"
    "  <td data-refills>{refills}</td>\n"
    "  <td>{provider}</td>\n"
    '  <td><span class="status status-{status}">{status_label}</span>{pending}</td>\n'
    "</tr>"
)


def appointment_rows(
    chart: ClinicalChart, *, zone: dt.tzinfo, can_write: bool, write_url: str
) -> SafeString:
    """Upcoming appointments first, then the recent past ones, with the "Write record" link."""
    write_link = format_html('<a href="{}?appointment={{}}">{}</a>', write_url, _("Write record"))
    return rows_html(
        _APPOINTMENT_ROW,
        (
            {
                "pk": a["pk"],
                "iso": _iso(a["date_time"]),
                "when": when_text(a["date_time"], zone),
                "provider": _provider_name(
                    a["provider__user__full_name"], a["provider__credentials"]
                ),
                "type": _TYPE_LABELS.get(a["type"], a["type"]),
                "reason": a["reason"] or "—",
                "status": a["status"],
                "status_label": _STATUS_LABELS.get(a["status"], a["status"]),
                # The id is a UUID: nothing in it to escape.
                "write": mark_safe(write_link.format(a["pk"]))  # noqa: S308
                if can_write and a["pk"] in chart.documentable_ids
                else "",
            }
            for a in chart.appointments
        ),
    )


def _provider_name(full_name: str, credentials: str) -> str:
    # As ProviderProfile.display_name, from plain values.
    return f"{full_name}, {credentials}" if credentials else full_name


def _clinical_text(label: str, text: str) -> SafeString | str:
    # As `<p class="clinical-text">{% translate "Symptoms:" %} {{ text }}</p>` when there is text.
    return format_html('<p class="clinical-text">{} {}</p>', label, text) if text else ""


def record_rows(records: list[dict[str, Any]], *, zone: dt.tzinfo) -> SafeString:
    """A page of visit records (records.selectors.CHART_RECORD_COLUMNS): date, diagnosis and
    the start of symptoms and treatment."""
    url = _UrlOf("records:record-detail", "record_id")
    visit, symptoms, treatment = _("Visit"), _("Symptoms:"), _("Treatment:")
    appointment_of = _("appointment of %(when)s")
    rows = []
    for r in records:
        appointment_at = r["appointment__date_time"]
        rows.append(
            {
                "pk": r["pk"],
                "url": url(r["pk"]),
                "day": _day(r["record_date"]),
                "title": _shortened(r["diagnosis"], 80) if r["diagnosis"] else visit,
                "provider": _provider_name(
                    r["provider__user__full_name"], r["provider__credentials"]
                ),
                # As blocktranslate: the translation as it is, the value escaped.
                "appointment": mark_safe(  # noqa: S308
                    " · " + appointment_of % {"when": html.escape(when_text(appointment_at, zone))}
                )
                if appointment_at is not None
                else "",
                "symptoms": _clinical_text(
                    symptoms, _shortened(r["symptoms"], 160) if r["symptoms"] else ""
                ),
                "treatment": _clinical_text(
                    treatment, _shortened(r["treatment"], 160) if r["treatment"] else ""
                ),
            }
        )
    return rows_html(_RECORD_ROW, rows)


def prescription_rows(prescriptions: list[dict[str, Any]]) -> SafeString:
    """Prescriptions (prescriptions.selectors.prescription_list_page's values) as the chart's
    tables show them, each linking to its page."""
    url = _UrlOf("prescriptions:prescription-detail", "prescription_id")
    pending = format_html(' <span class="status status-pending">{}</span>', _("Refill requested"))
    return rows_html(
        _PRESCRIPTION_ROW,
        (
            {
                "pk": p["pk"],
                "url": url(p["pk"]),
                "medication": p["medication_name"],
                "dosage": p["dosage"],
                "frequency": p["frequency"],
                "start": _day(p["start_date"]),
                "end": _day(p["end_date"]),
                "duration": format_html(" ({})", p["duration"]) if p["duration"] else "",
                "refills": p["refills"],
                "provider": _provider_name(
                    p["provider__user__full_name"], p["provider__credentials"]
                ),
                "status": p["shown_status"],
                "status_label": PrescriptionStatus(p["shown_status"]).label,
                "pending": pending if p["refill_pending"] else "",
            }
            for p in prescriptions
        ),
    )


def refill_rows(refills: list[dict[str, Any]], *, zone: dt.tzinfo) -> list[Row]:
    """The patient's open refill requests (prescriptions.selectors.pending_refill_rows_of_patient):
    what, when asked, refills left, the note."""
    url = _UrlOf("prescriptions:refill-detail", "refill_id")
    return [
        {
            "pk": r["pk"],
            "url": url(r["pk"]),
            "medication": r["medication_name"],
            "dosage": r["dosage"],
            "when": format_in_zone(r["created_at"], zone, DEFAULT_FORMAT),
            "refills": r["refills"],
            "note": _shortened(r["note"], 160) if r["note"] else "",
        }
        for r in refills
    ]


def patient_rows(patients: list[dict[str, Any]]) -> list[Row]:
    """The patient list's rows (see providers.selectors.patient_list_page), each linking to the chart."""
    url = _UrlOf("providers:patient-chart", "patient_id")
    return [
        {
            "url": url(p["pk"]),
            "name": p["full_name"],
            "born": _birthday(p["date_of_birth"]),
            "phone": p["phone_number"] or "—",
            "email": p["email"],
        }
        for p in patients
    ]


def _clock(value: dt.datetime, zone: dt.tzinfo) -> str:
    # As `|timezone:zone|time:"H:i"`: "09:30".
    local = value.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"


def _day_and_clock(value: dt.datetime, zone: dt.tzinfo) -> str:
    # As `|timezone:zone|date:"M j, H:i"`: "Jun 3, 09:30".
    local = value.astimezone(zone)
    return f"{MONTHS_3[local.month].title()} {local.day}, {local.hour:02d}:{local.minute:02d}"


# A row of today's schedule, as the dashboard's template drew it (see _APPOINTMENT_ROW).
_TODAY_ROW = (
    "<tr>\n"
    '  <td><time datetime="{iso}">{time}</time></td>\n'
    "  <td>{patient}</td>\n"
    "  <td>{type}</td>\n"
    "  <td>{reason}</td>\n"
    '  <td><span class="status status-{status}">{status_label}</span></td>\n'
    "</tr>"
)


def dashboard_rows(board: ProviderDashboard, refills: list[dict[str, Any]]) -> dict[str, Any]:
    """The dashboard's lists: today's appointments (their rows' markup), recent patients,
    unread messages, refills (prescriptions.selectors.pending_refill_rows_and_count_for_provider)."""
    chart_url = _UrlOf("providers:patient-chart", "patient_id")
    refill_url = _UrlOf("prescriptions:refill-detail", "refill_id")
    zone = board.tz
    return {
        "appointments": rows_html(
            _TODAY_ROW,
            (
                {
                    "iso": _iso(a["date_time"]),
                    "time": _clock(a["date_time"], zone),
                    "patient": format_html(
                        '<a href="{}">{}</a>', chart_url(a["patient_id"]), a["patient_name"]
                    )
                    if a["patient_id"] in board.chartable_patient_ids
                    else a["patient_name"],
                    "type": _TYPE_LABELS.get(a["type"], a["type"]),
                    "reason": a["reason"] or "—",
                    "status": a["status"],
                    "status_label": _STATUS_LABELS.get(a["status"], a["status"]),
                }
                for a in board.appointments
            ),
        ),
        "recent_patients": [
            {"url": chart_url(p["pk"]), "name": p["full_name"]} for p in board.recent_patients
        ],
        "unread_messages": [
            {
                "sender": m["sender_name"],
                "iso": _iso(m["sent_at"]),
                "when": _day_and_clock(m["sent_at"], zone),
                "content": _shortened(m["content"], 90),
            }
            for m in board.unread_messages
        ],
        "refills": [
            {
                "pk": r["pk"],
                "url": refill_url(r["pk"]),
                "patient": r["patient_name"],
                "medication": r["medication_name"],
                "dosage": r["dosage"],
                "iso": _iso(r["created_at"]),
                "when": _day_and_clock(r["created_at"], zone),
            }
            for r in refills
        ],
    }
