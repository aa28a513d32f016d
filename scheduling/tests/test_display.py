"""Display values built in Python say exactly what the template filters said."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.template.defaultfilters import date as date_filter
from django.urls import reverse

from patients.templatetags.zoned_time import iso as iso_filter
from patients.timezones import format_in_zone
from scheduling.display import clock, day_heading, day_legend, iso, url_for, when_text

NEW_YORK = ZoneInfo("America/New_York")
TIMES = [
    dt.datetime(2030, 3, 4, 14, 5, tzinfo=dt.UTC),
    dt.datetime(2030, 1, 31, 23, 59, 30, 123, tzinfo=dt.UTC),
    # The hour repeated when New York's clocks go back, both times through it.
    dt.datetime(2030, 11, 3, 5, 30, tzinfo=dt.UTC),
    dt.datetime(2030, 11, 3, 6, 30, tzinfo=dt.UTC),
    dt.datetime(2030, 3, 10, 7, 0, tzinfo=dt.UTC),
]


@pytest.mark.parametrize("value", TIMES)
@pytest.mark.parametrize("tz", [NEW_YORK, ZoneInfo("Asia/Kolkata"), dt.UTC])
def test_times_read_as_the_filters_show_them(value: dt.datetime, tz: dt.tzinfo) -> None:
    local = value.astimezone(tz)
    assert when_text(value, tz) == format_in_zone(value, tz)
    assert clock(value, tz) == date_filter(local, "H:i")
    assert iso(value) == iso_filter(value)
    assert day_heading(local.date()) == date_filter(local.date(), "D j M")
    assert day_legend(local.date()) == date_filter(local.date(), "l j F")


def test_links_are_the_reversed_urls() -> None:
    pk = "5b0f3c7e-8a59-4a43-9d1c-3f0a3c1d2e4f"
    detail = url_for("scheduling:patient-appointment-detail", "appointment_id")
    assert detail(pk) == reverse("scheduling:patient-appointment-detail", args=[pk])


def test_slot_ids_are_the_slugified_keys() -> None:
    from django.utils.text import slugify

    from scheduling.display import slot_id
    from scheduling.slots import slot_key

    for value in TIMES:
        assert slot_id(slot_key(value)) == slugify(slot_key(value))


def test_rows_are_escaped_as_format_html_does() -> None:
    from django.utils.html import format_html_join
    from django.utils.safestring import mark_safe

    from scheduling.display import rows_html

    template = '<li title="{title}">{name}{extra}</li>'
    rows = [
        {"title": 'say "hi" & <go>', "name": "O'Brien <b>", "extra": mark_safe("<em>!</em>")},
        {"title": 7, "name": "", "extra": ""},
    ]
    assert rows_html(template, rows) == format_html_join("\n", template, rows)
    assert "&lt;b&gt;" in rows_html(template, rows)
