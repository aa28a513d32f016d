"""Showing an aware datetime in a provider's (or any) zone, from Python and from templates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.template import Context, Template

from patients.timezones import UTC, format_in_zone, in_zone, zone_of
from providers.models import ProviderProfile

WINTER = dt.datetime(2031, 1, 15, 15, 0, tzinfo=dt.UTC)  # 10:00 EST
SUMMER = dt.datetime(2031, 7, 15, 15, 0, tzinfo=dt.UTC)  # 11:00 EDT


def _provider(working_hours: object) -> ProviderProfile:
    return ProviderProfile(working_hours=working_hours)  # unsaved: only the zone matters


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("America/New_York", "America/New_York"),
        (zoneinfo.ZoneInfo("Europe/Berlin"), "Europe/Berlin"),
        (_provider({"timezone": "Asia/Tokyo"}), "Asia/Tokyo"),
        (_provider({}), "UTC"),
        (_provider({"timezone": "Mars/Olympus_Mons"}), "UTC"),
        (_provider({"timezone": "../../etc/passwd"}), "UTC"),
        (_provider(None), "UTC"),
        ("", "UTC"),
        (None, "UTC"),
    ],
)
def test_zone_of_falls_back_to_utc(source: object, expected: str) -> None:
    assert str(zone_of(source)) == expected


def test_in_zone_converts_the_wall_clock_not_the_instant() -> None:
    local = in_zone(WINTER, "America/New_York")

    assert (local.hour, local.minute) == (10, 0)
    assert local == WINTER


def test_in_zone_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        in_zone(dt.datetime(2031, 1, 15, 15, 0), UTC)  # noqa: DTZ001 - the point of the test


def test_format_in_zone_follows_daylight_saving() -> None:
    provider = _provider({"timezone": "America/New_York"})

    assert format_in_zone(WINTER, provider) == "Wed 15 Jan 2031, 10:00 EST"
    assert format_in_zone(SUMMER, provider) == "Tue 15 Jul 2031, 11:00 EDT"
    assert format_in_zone(WINTER, provider, "H:i") == "10:00"


def _render(source: str, **context: object) -> str:
    return Template("{% load zoned_time %}" + source).render(Context(context))


def test_zoned_filter_formats_in_the_providers_zone() -> None:
    provider = _provider({"timezone": "America/New_York"})

    assert _render("{{ when|zoned:provider }}", when=WINTER, provider=provider) == (
        "Wed 15 Jan 2031, 10:00 EST"
    )
    assert _render('{{ when|zoned:"UTC" }}', when=WINTER) == "Wed 15 Jan 2031, 15:00 UTC"


def test_in_zone_filter_chains_with_date() -> None:
    # Django would convert a plain datetime back to the active zone (UTC) before `date`.
    assert _render('{{ when|in_zone:"Asia/Tokyo"|date:"H:i T" }}', when=WINTER) == "00:00 JST"


def test_zone_name_filter() -> None:
    provider = _provider({"timezone": "America/New_York"})

    assert _render("{{ provider|zone_name }}", provider=provider) == "America/New_York"
    assert _render("{{ provider|zone_name }}", provider=_provider({})) == "UTC"


@pytest.mark.parametrize("value", [None, "", "tomorrow", dt.date(2031, 1, 15)])
def test_filters_render_nothing_for_what_is_not_a_datetime(value: object) -> None:
    assert _render('{{ when|zoned:"UTC" }}|{{ when|in_zone:"UTC" }}', when=value) == "|"
