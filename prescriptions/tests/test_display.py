"""The patient's prescription rows written in Python are the markup the template's loop made."""

from __future__ import annotations

import uuid

from django.template import engines

from prescriptions.views import PrescriptionRow, _prescription_rows_html

# The loop that partials/prescription_row_table.html had, kept here as the reference.
_TEMPLATE_LOOP = """{% load i18n %}{% translate "Refill requested" as refill_requested %}{% for prescription in prescriptions %}
        <tr data-prescription="{{ prescription.pk }}">
          <th scope="row"><a href="{{ prescription.url }}">{{ prescription.medication }}</a></th>
          <td>{{ prescription.dosage }}, {{ prescription.frequency }}</td>
          <td>{{ prescription.start }} – {{ prescription.end }}{% if prescription.duration %} ({{ prescription.duration }}){% endif %}</td>
          <td data-refills>{{ prescription.refills }}</td>
          <td>{{ prescription.provider }}</td>
          <td><span class="status status-{{ prescription.status }}">{{ prescription.status_label }}</span>{% if prescription.refill_pending %} <span class="status status-pending">{{ refill_requested }}</span>{% endif %}</td>
        </tr>
      {% endfor %}"""  # noqa: E501


def _row(**changes: object) -> PrescriptionRow:
    values: dict[str, object] = {
        "pk": uuid.uuid4(),
        "url": "/prescriptions/x/?a=1&b=2",
        "medication": "Amoxicillin",
        "dosage": "500 mg",
        "frequency": "3x daily",
        "start": "1 Mar 2030",
        "end": "10 Mar 2030",
        "duration": "10 days",
        "refills": 2,
        "provider": "Dr Ann O'Brien, MD",
        "status": "active",
        "status_label": "Active",
        "refill_pending": False,
    }
    values.update(changes)
    return PrescriptionRow(**values)  # type: ignore[arg-type]


def test_rows_are_the_markup_of_the_template_loop() -> None:
    rows = [
        _row(),
        _row(refill_pending=True, duration="", refills=0),
        _row(medication='<script>alert("x")</script>', dosage="5 & 10 <mg>", status="completed"),
    ]
    expected = engines["django"].from_string(_TEMPLATE_LOOP).render({"prescriptions": rows})
    assert _prescription_rows_html(rows) == expected
    assert "&lt;script&gt;" in _prescription_rows_html(rows)
    assert _prescription_rows_html([]) == ""
