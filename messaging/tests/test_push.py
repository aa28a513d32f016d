"""The time format of messages: the pages' and the live updates' own, fast formatter."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from messaging.push import display_time
from patients.timezones import format_in_zone, viewing_as


@pytest.mark.parametrize(
    "zone",
    ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", None],
)
def test_message_times_read_as_every_other_time_in_the_portal(zone: str | None) -> None:
    # Every 97 minutes through a year, and every 5 minutes of the days around
    # the clock changes of these zones (Lord Howe's moves by half an hour):
    # the hours they skip and repeat, and a zone without any.
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    moments = [start + dt.timedelta(minutes=97 * n, seconds=n % 60) for n in range(5_420)]
    for day in ("03-07", "03-28", "04-04", "10-03", "10-24", "10-31"):
        around = dt.datetime.fromisoformat(f"2026-{day}T00:00:00+00:00")
        moments += [around + dt.timedelta(minutes=5 * n) for n in range(3 * 288)]
    with viewing_as(zoneinfo.ZoneInfo(zone) if zone else None):
        assert [display_time(m) for m in moments] == [format_in_zone(m, "UTC") for m in moments]


def test_no_time_shows_nothing() -> None:
    assert display_time(None) == ""
