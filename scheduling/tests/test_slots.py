"""Slot arithmetic: working hours minus busy time, inside a window (pure, no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from providers.working_hours import parse_working_hours
from scheduling.slots import (
    by_week,
    free_slots,
    merge_intervals,
    parse_slot_key,
    parse_week,
    slot_key,
    window_for,
)

NY = ZoneInfo("America/New_York")
UTC = dt.UTC
HOURS = parse_working_hours(
    {
        "timezone": "America/New_York",
        "slot_minutes": 30,
        "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "10:00"]]},
    }
)
MONDAY = dt.date(2030, 3, 4)


def ny(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def starts(slots) -> list[str]:
    return [s.starts_at.strftime("%a %H:%M") for s in slots]


def test_slots_follow_the_working_hours_of_each_weekday() -> None:
    slots = free_slots(
        HOURS, busy=[], earliest=ny(MONDAY, 0), until=ny(MONDAY + dt.timedelta(days=2), 0)
    )

    assert starts(slots)[:7] == [
        "Mon 09:00",
        "Mon 09:30",
        "Mon 10:00",
        "Mon 10:30",
        "Mon 11:00",
        "Mon 11:30",
        "Mon 13:00",
    ]
    assert "Mon 12:00" not in starts(slots)  # lunch
    assert starts(slots)[-3:] == ["Mon 16:30", "Tue 09:00", "Tue 09:30"]
    assert all(s.minutes == 30 for s in slots)
    assert len(slots) == 14 + 2


def test_no_slots_on_days_without_hours() -> None:
    wednesday = MONDAY + dt.timedelta(days=2)
    assert (
        free_slots(
            HOURS, busy=[], earliest=ny(wednesday, 0), until=ny(wednesday + dt.timedelta(days=5), 0)
        )
        == []
    )


def test_booked_time_removes_every_slot_it_touches() -> None:
    # 09:45–10:45 touches the 09:30, 10:00 and 10:30 slots.
    busy = [(ny(MONDAY, 9, 45), ny(MONDAY, 10, 45))]
    slots = free_slots(HOURS, busy=busy, earliest=ny(MONDAY, 0), until=ny(MONDAY, 12))

    assert starts(slots) == ["Mon 09:00", "Mon 11:00", "Mon 11:30"]


def test_an_appointment_ending_when_a_slot_starts_does_not_block_it() -> None:
    busy = [(ny(MONDAY, 9), ny(MONDAY, 9, 30))]
    slots = free_slots(HOURS, busy=busy, earliest=ny(MONDAY, 0), until=ny(MONDAY, 10, 30))

    assert starts(slots) == ["Mon 09:30", "Mon 10:00"]


def test_time_off_spanning_days_removes_all_their_slots() -> None:
    busy = [(ny(MONDAY, 11), ny(MONDAY + dt.timedelta(days=1), 9, 30))]
    slots = free_slots(
        HOURS, busy=busy, earliest=ny(MONDAY, 0), until=ny(MONDAY + dt.timedelta(days=2), 0)
    )

    assert starts(slots) == ["Mon 09:00", "Mon 09:30", "Mon 10:00", "Mon 10:30", "Tue 09:30"]


def test_overlapping_busy_intervals_are_merged() -> None:
    merged = merge_intervals(
        [
            (ny(MONDAY, 10), ny(MONDAY, 11)),
            (ny(MONDAY, 9), ny(MONDAY, 10)),
            (ny(MONDAY, 10, 30), ny(MONDAY, 12)),
            (ny(MONDAY, 14), ny(MONDAY, 15)),
        ]
    )
    assert merged == [(ny(MONDAY, 9), ny(MONDAY, 12)), (ny(MONDAY, 14), ny(MONDAY, 15))]


def test_nothing_before_the_earliest_start_is_offered() -> None:
    # Now 10:05 with a two-hour lead: the first slot is 13:00 (12:05 falls in lunch).
    earliest, until = window_for(NY, now=ny(MONDAY, 10, 5), lead=dt.timedelta(hours=2), days=1)
    slots = free_slots(HOURS, busy=[], earliest=earliest, until=until)

    assert starts(slots)[0] == "Mon 13:00"
    assert earliest == ny(MONDAY, 12, 5)


def test_the_horizon_ends_at_local_midnight_after_the_last_day() -> None:
    earliest, until = window_for(NY, now=ny(MONDAY, 8), lead=dt.timedelta(0), days=1)
    slots = free_slots(HOURS, busy=[], earliest=earliest, until=until)

    assert until == ny(MONDAY + dt.timedelta(days=1), 0)
    assert {s.starts_at.date() for s in slots} == {MONDAY}


def test_slots_are_correct_when_clocks_go_forward() -> None:
    # 2030-03-10 is the Sunday US clocks go from 02:00 to 03:00.
    hours = parse_working_hours(
        {
            "timezone": "America/New_York",
            "slot_minutes": 30,
            "weekly": {"sun": [["01:00", "04:00"]], "mon": [["09:00", "10:00"]]},
        }
    )
    sunday = dt.date(2030, 3, 10)
    slots = free_slots(
        hours, busy=[], earliest=ny(sunday, 0), until=ny(sunday + dt.timedelta(days=2), 0)
    )

    local = starts(slots)
    assert local == ["Sun 01:00", "Sun 01:30", "Sun 03:00", "Sun 03:30", "Mon 09:00", "Mon 09:30"]
    utc = [s.starts_at.astimezone(UTC).strftime("%H:%M") for s in slots]
    # 01:30 EST is 06:30 UTC; 03:00 EDT is 07:00 UTC; Monday 09:00 EDT is 13:00 UTC.
    assert utc == ["06:00", "06:30", "07:00", "07:30", "13:00", "13:30"]
    assert all(
        s.ends_at.astimezone(UTC) - s.starts_at.astimezone(UTC) == dt.timedelta(minutes=30)
        for s in slots
    )
    assert all(s.minutes == 30 for s in slots)


def test_slots_are_correct_when_clocks_go_back() -> None:
    # 2030-11-03: clocks go from 02:00 EDT back to 01:00 EST.
    hours = parse_working_hours(
        {
            "timezone": "America/New_York",
            "slot_minutes": 60,
            "weekly": {"sun": [["00:00", "04:00"]], "fri": [["09:00", "10:00"]]},
        }
    )
    friday, sunday = dt.date(2030, 11, 1), dt.date(2030, 11, 3)
    slots = free_slots(
        hours, busy=[], earliest=ny(friday, 0), until=ny(sunday + dt.timedelta(days=1), 0)
    )

    utc = [s.starts_at.astimezone(UTC).strftime("%a %H:%M") for s in slots]
    # Friday 09:00 EDT is 13:00 UTC; on Sunday 00:00 and 01:00 are EDT, 02:00 and 03:00 EST.
    assert utc == ["Fri 13:00", "Sun 04:00", "Sun 05:00", "Sun 07:00", "Sun 08:00"]
    assert all(
        s.ends_at.astimezone(UTC) - s.starts_at.astimezone(UTC) == dt.timedelta(hours=1)
        for s in slots
    )
    assert all(s.minutes == 60 for s in slots)


def test_a_booking_in_utc_blocks_the_right_local_slot_across_dst() -> None:
    # Monday after the spring change: 13:00 UTC is 09:00 EDT (it was 08:00 the week before).
    hours = parse_working_hours(
        {
            "timezone": "America/New_York",
            "slot_minutes": 30,
            "weekly": {"mon": [["09:00", "10:00"]]},
        }
    )
    monday = dt.date(2030, 3, 11)
    busy = [
        (dt.datetime(2030, 3, 11, 13, 0, tzinfo=UTC), dt.datetime(2030, 3, 11, 13, 30, tzinfo=UTC))
    ]
    slots = free_slots(hours, busy=busy, earliest=ny(monday, 0), until=ny(monday, 23))

    assert starts(slots) == ["Mon 09:30"]


def test_slot_keys_round_trip_and_junk_is_refused() -> None:
    start = ny(MONDAY, 9)
    assert slot_key(start) == "2030-03-04T14:00:00Z"
    assert parse_slot_key("2030-03-04T14:00:00Z") == start
    for junk in [
        "",
        "tomorrow",
        "2030-03-04T14:00:00",
        "2030-13-04T14:00:00Z",
        None,
        5,
        "2030-03-04T14:00:00+05:00",
    ]:
        assert parse_slot_key(junk) is None


def test_weeks_group_slots_from_monday() -> None:
    slots = free_slots(
        HOURS, busy=[], earliest=ny(MONDAY, 0), until=ny(MONDAY + dt.timedelta(days=9), 0)
    )
    weeks = by_week(slots, MONDAY, MONDAY + dt.timedelta(days=7))

    assert [w.monday for w in weeks] == [MONDAY, MONDAY + dt.timedelta(days=7)]
    assert [w.count for w in weeks] == [16, 16]
    assert parse_week("2030-03-06") == MONDAY
    assert parse_week("March") is None
