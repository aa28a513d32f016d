"""Working hours: parsing, validation messages, normalisation, the form's text and slots."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from conftest import WORKING_HOURS
from providers.working_hours import (
    WorkingHours,
    format_day_text,
    local_day_bounds,
    normalise_working_hours,
    parse_day_text,
    parse_working_hours,
    working_hours_or_none,
)

NEW_YORK = ZoneInfo("America/New_York")
T = dt.time


def _hours(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(WORKING_HOURS)
    data.update(changes)
    return data


def _errors(data: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        parse_working_hours(data)
    return caught.value.message_dict


def _codes(data: object) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        parse_working_hours(data)
    return {error.code for errors in caught.value.error_dict.values() for error in errors}


# --- Valid hours -----------------------------------------------------------------


def test_parses_the_stored_json_into_typed_hours() -> None:
    hours = parse_working_hours(WORKING_HOURS)

    assert hours.tz == NEW_YORK
    assert hours.timezone_name == "America/New_York"
    assert hours.slot_minutes == 30
    assert hours.intervals_on(0) == ((T(9), T(12)), (T(13), T(17)))
    assert hours.intervals_on(4) == ((T(9), T(12)), (T(13), T(17)))
    assert hours.intervals_on(5) == ()
    assert hours.intervals_on(6) == ()
    assert set(hours.weekly) == set(range(7))


def test_to_json_round_trips_the_stored_form() -> None:
    assert parse_working_hours(WORKING_HOURS).to_json() == WORKING_HOURS


def test_normalising_sorts_intervals_and_drops_days_off() -> None:
    data = _hours(weekly={"sat": [], "tue": [["13:00", "17:00"], ["08:30", "12:00"]], "mon": []})

    assert normalise_working_hours(data) == {
        "timezone": "America/New_York",
        "slot_minutes": 30,
        "weekly": {"tue": [["08:30", "12:00"], ["13:00", "17:00"]]},
    }


def test_unset_hours_stay_unset() -> None:
    assert working_hours_or_none({}) is None
    assert working_hours_or_none(None) is None
    assert normalise_working_hours({}) == {}


def test_touching_intervals_do_not_overlap() -> None:
    hours = parse_working_hours(_hours(weekly={"wed": [["12:00", "13:00"], ["09:00", "12:00"]]}))

    assert hours.intervals_on(2) == ((T(9), T(12)), (T(12), T(13)))


def test_weekly_may_be_left_out_for_no_working_days() -> None:
    hours = parse_working_hours({"timezone": "Europe/Berlin", "slot_minutes": 15})

    assert hours.tz == ZoneInfo("Europe/Berlin")
    assert all(hours.intervals_on(day) == () for day in range(7))


@pytest.mark.parametrize("minutes", [10, 15, 20, 30, 45, 60])
def test_every_offered_slot_length_is_accepted(minutes: int) -> None:
    assert parse_working_hours(_hours(slot_minutes=minutes)).slot_minutes == minutes


# --- Invalid hours: each message names the day and the interval ---------------------


def test_overlapping_intervals_are_refused_naming_day_and_intervals() -> None:
    errors = _errors(_hours(weekly={"mon": [["11:00", "13:00"], ["09:00", "12:00"]]}))

    assert errors == {"mon": ["Monday: 09:00–12:00 overlaps 11:00–13:00."]}


def test_the_same_interval_twice_overlaps_itself() -> None:
    errors = _errors(_hours(weekly={"fri": [["09:00", "12:00"], ["09:00", "12:00"]]}))

    assert errors == {"fri": ["Friday: 09:00–12:00 overlaps 09:00–12:00."]}


@pytest.mark.parametrize("interval", [["12:00", "09:00"], ["09:00", "09:00"]])
def test_an_interval_must_end_after_it_starts(interval: list[str]) -> None:
    errors = _errors(_hours(weekly={"tue": [interval]}))

    assert errors == {"tue": [f"Tuesday: {interval[0]}–{interval[1]} must end after it starts."]}


def test_an_interval_shorter_than_one_slot_is_refused() -> None:
    errors = _errors(_hours(slot_minutes=45, weekly={"sun": [["09:00", "09:30"]]}))

    assert errors == {"sun": ["Sunday: 09:00–09:30 is shorter than one 45-minute slot."]}


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "EST5EDT ", "america/new_york", 5])
def test_an_unknown_time_zone_is_refused(zone: object) -> None:
    errors = _errors(_hours(timezone=zone))

    assert errors == {
        "timezone": [f"“{zone}” is not a known time zone; use a name such as America/New_York."]
    }


def test_a_missing_time_zone_is_refused() -> None:
    data = _hours()
    del data["timezone"]

    assert _errors(data) == {"timezone": ["Choose a time zone."]}


@pytest.mark.parametrize("slot", [25, 0, -30, "30", 30.0, True, None])
def test_a_slot_length_outside_the_choices_is_refused(slot: object) -> None:
    errors = _errors(_hours(slot_minutes=slot))

    assert errors == {
        "slot_minutes": ["The slot length must be one of 10, 15, 20, 30, 45, 60 minutes."]
    }


@pytest.mark.parametrize(
    "interval",
    [
        ["9:00", "12:00"],  # the stored form is strict HH:MM
        ["09:00"],
        ["09:00", "12:00", "13:00"],
        "09:00-12:00",
        ["09:00", "24:00"],
        ["09:60", "12:00"],
        [900, 1200],
        None,
    ],
)
def test_a_malformed_interval_is_refused_naming_day_and_position(interval: object) -> None:
    errors = _errors(_hours(weekly={"thu": [["07:00", "08:00"], interval]}))

    assert errors == {"thu": ['Thursday: interval 2 must be two times like ["09:00", "12:00"].']}


def test_a_day_that_is_not_a_list_is_refused() -> None:
    errors = _errors(_hours(weekly={"sat": "09:00-12:00"}))

    assert errors == {"sat": ['Saturday: give a list of intervals such as [["09:00", "12:00"]].']}


def test_an_unknown_weekday_is_refused() -> None:
    errors = _errors(_hours(weekly={"monday": [["09:00", "12:00"]]}))

    assert errors == {
        "weekly": ["“monday” is not a weekday; use mon, tue, wed, thu, fri, sat or sun."]
    }


def test_weekly_must_be_a_mapping() -> None:
    errors = _errors(_hours(weekly=[["09:00", "12:00"]]))

    assert errors == {
        "weekly": ["The weekly schedule must map weekdays (mon…sun) to lists of intervals."]
    }


def test_unknown_settings_are_refused() -> None:
    errors = _errors(_hours(lunch="12:00"))

    assert errors == {NON_FIELD_ERRORS: ["Unknown working-hours setting: lunch."]}


@pytest.mark.parametrize("data", [[], "office hours", 42])
def test_working_hours_must_be_an_object(data: object) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_working_hours(data)

    assert caught.value.messages == [
        "Working hours must be an object with timezone, slot_minutes and weekly."
    ]


def test_every_problem_is_reported_at_once() -> None:
    data = {
        "timezone": "Nowhere/Special",
        "slot_minutes": 7,
        "weekly": {
            "mon": [["10:00", "09:00"], ["13:00", "15:00"], ["14:00", "16:00"]],
            "wed": [["xx", "yy"]],
        },
    }

    errors = _errors(data)

    assert set(errors) == {"timezone", "slot_minutes", "mon", "wed"}
    assert errors["mon"] == [
        "Monday: 10:00–09:00 must end after it starts.",
        "Monday: 13:00–15:00 overlaps 14:00–16:00.",
    ]
    assert _codes(data) == {
        "timezone_invalid",
        "slot_minutes_invalid",
        "interval_reversed",
        "interval_overlap",
        "interval_malformed",
    }


# --- The profile form's text -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("", []),
        ("   ", []),
        ("09:00-12:00, 13:00-17:00", [["09:00", "12:00"], ["13:00", "17:00"]]),
        ("9:00 - 12:00;13:30–17:00", [["09:00", "12:00"], ["13:30", "17:00"]]),
        ("8.30 to 12.00,", [["08:30", "12:00"]]),
        ("07:00—08:00", [["07:00", "08:00"]]),
    ],
)
def test_day_text_is_read_leniently(text: str, pairs: list[list[str]]) -> None:
    assert parse_day_text(text) == pairs


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        ("9-12", "9-12"),
        ("09:00-12:00, afternoons", "afternoons"),
        ("09:00", "09:00"),
        ("09:00-25:00", "09:00-25:00"),
        ("09:00-12:75", "09:00-12:75"),
    ],
)
def test_malformed_day_text_names_the_bad_piece(text: str, piece: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_day_text(text)

    assert caught.value.messages == [
        f"“{piece}” is not a time range; write ranges like 09:00-12:00, 13:00-17:00."
    ]


def test_day_text_is_written_back_the_way_it_is_typed() -> None:
    assert format_day_text(((T(9), T(12)), (T(13, 30), T(17)))) == "09:00-12:00, 13:30-17:00"
    assert format_day_text(()) == ""


# --- Slots and local days ------------------------------------------------------------


def _only(weekday: str, *intervals: list[str], slot: int = 30) -> WorkingHours:
    return parse_working_hours(_hours(slot_minutes=slot, weekly={weekday: list(intervals)}))


def test_slots_fill_each_interval_of_the_day() -> None:
    monday = dt.date(2025, 6, 2)

    slots = parse_working_hours(WORKING_HOURS).slots_on(monday)

    assert len(slots) == 6 + 8
    assert slots[0] == (
        dt.datetime(2025, 6, 2, 9, 0, tzinfo=NEW_YORK),
        dt.datetime(2025, 6, 2, 9, 30, tzinfo=NEW_YORK),
    )
    assert slots[5][0].time() == T(11, 30)
    assert slots[6][0].time() == T(13, 0)
    assert slots[-1][1].time() == T(17, 0)


def test_no_slots_on_a_day_off() -> None:
    saturday = dt.date(2025, 6, 7)

    assert parse_working_hours(WORKING_HOURS).slots_on(saturday) == []


def test_a_remainder_shorter_than_a_slot_gives_no_slot() -> None:
    hours = _only("mon", ["09:00", "10:45"], slot=30)

    starts = [start.time() for start, _ in hours.slots_on(dt.date(2025, 6, 2))]

    assert starts == [T(9), T(9, 30), T(10)]


def test_slots_skip_the_hour_lost_when_clocks_go_forward() -> None:
    hours = _only("sun", ["01:00", "04:00"])
    spring_forward = dt.date(2024, 3, 10)  # a Sunday: 02:00 jumps to 03:00 in New York

    slots = hours.slots_on(spring_forward)

    assert [start.strftime("%H:%M") for start, _ in slots] == ["01:00", "01:30", "03:00", "03:30"]
    # Same-zone arithmetic in Python is wall-clock arithmetic, so compare in UTC.
    assert all(
        end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(minutes=30)
        for start, end in slots
    )
    assert slots[1][1] == dt.datetime(2024, 3, 10, 3, 0, tzinfo=NEW_YORK)


def test_slots_last_their_real_length_when_clocks_go_back() -> None:
    hours = _only("sun", ["00:30", "02:00"])
    fall_back = dt.date(2024, 11, 3)  # a Sunday: 02:00 goes back to 01:00 in New York

    slots = hours.slots_on(fall_back)

    assert [start.strftime("%H:%M") for start, _ in slots] == ["00:30", "01:00", "01:30"]
    assert all(
        end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(minutes=30)
        for start, end in slots
    )


def test_a_local_day_is_23_hours_when_clocks_go_forward() -> None:
    start, end = local_day_bounds(dt.date(2024, 3, 10), NEW_YORK)

    assert start == dt.datetime(2024, 3, 10, 5, 0, tzinfo=dt.UTC)
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=23)


@pytest.mark.parametrize(
    "zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Havana", "UTC"]
)
def test_the_fast_path_of_a_day_without_a_clock_change_lays_out_the_same_slots(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every day of a year, including each clock change, against the per-slot checked layout."""
    import providers.working_hours as module

    hours = parse_working_hours(
        {
            "timezone": zone,
            "slot_minutes": 20,
            "weekly": {
                day: [["00:00", "02:40"], ["09:00", "23:40"]] for day in module.WEEKDAY_KEYS
            },
        }
    )
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=n) for n in range(366)]
    fast = [hours.slots_on(day) for day in days]
    monkeypatch.setattr(module, "_changes_offset", lambda day, tz: True)
    checked = [hours.slots_on(day) for day in days]
    assert fast == checked
    # Same instants and the same wall clock (equal aware datetimes may differ in offset).
    assert [[(s.isoformat(), e.isoformat()) for s, e in d] for d in fast] == [
        [(s.isoformat(), e.isoformat()) for s, e in d] for d in checked
    ]
