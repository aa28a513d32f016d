"""Selectors: the calendar by local day, the patient's lists, the slot queries."""

from __future__ import annotations

import datetime as dt

import pytest

from providers.services import provider_create
from scheduling.models import AppointmentStatus
from scheduling.selectors import (
    appointments_of_patient,
    available_slots,
    bookable_providers,
    calendar_of_provider,
    scheduled_during,
)
from scheduling.services import appointment_create
from scheduling.tests.conftest import NEW_YORK, at, block

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2030, 3, 4)


def test_the_calendar_sorts_appointments_into_local_days(provider, patient, other_patient) -> None:
    # 23:30 on Tuesday in New York is already Wednesday in UTC.
    late = appointment_create(
        patient=patient, provider=provider, date_time=at(MONDAY + dt.timedelta(days=1), 23, 30)
    )
    early = appointment_create(patient=other_patient, provider=provider, date_time=at(MONDAY, 9))
    block(
        provider,
        at(MONDAY + dt.timedelta(days=2), 0),
        at(MONDAY + dt.timedelta(days=4), 0),
        "Conference",
    )

    calendar = calendar_of_provider(provider, first_day=MONDAY, days=7)

    assert calendar.tz == NEW_YORK
    assert [d.day.weekday() for d in calendar.days] == list(range(7))
    assert [a.pk for a in calendar.days[0].appointments] == [early.pk]
    assert [a.pk for a in calendar.days[1].appointments] == [late.pk]
    assert [len(d.time_off) for d in calendar.days] == [0, 0, 1, 1, 0, 0, 0]


def test_the_calendar_covers_a_23_hour_day(provider, patient) -> None:
    sunday = dt.date(2030, 3, 10)
    night = appointment_create(
        patient=patient, provider=provider, date_time=at(sunday, 23, 45), duration_minutes=10
    )

    calendar = calendar_of_provider(provider, first_day=sunday, days=1)

    assert [a.pk for a in calendar.days[0].appointments] == [night.pk]


def test_available_slots_take_one_query(provider, patient, django_assert_num_queries) -> None:
    appointment_create(patient=patient, provider=provider, date_time=at(MONDAY, 9))
    block(provider, at(MONDAY, 10), at(MONDAY, 11))
    with django_assert_num_queries(1):
        slots = available_slots(provider, now=at(MONDAY, 0), patient=patient)
    # Neither the appointment nor the time off is offered.
    assert [s.starts_at for s in slots[:2]] == [at(MONDAY, 9, 30), at(MONDAY, 11)]


def test_cancelled_and_finished_appointments_hold_no_time(provider, patient) -> None:
    appointment_create(
        patient=patient,
        provider=provider,
        date_time=at(MONDAY, 9),
        status=AppointmentStatus.CANCELLED,
    )
    appointment_create(
        patient=patient,
        provider=provider,
        date_time=at(MONDAY, 9, 30),
        status=AppointmentStatus.NO_SHOW,
    )

    starts = [s.starts_at for s in available_slots(provider, now=at(MONDAY, 0))[:2]]

    assert starts == [at(MONDAY, 9), at(MONDAY, 9, 30)]


def test_an_appointment_running_into_the_window_blocks_it(provider, patient) -> None:
    appointment_create(
        patient=patient, provider=provider, date_time=at(MONDAY, 8), duration_minutes=90
    )

    assert available_slots(provider, now=at(MONDAY, 0))[0].starts_at == at(MONDAY, 9, 30)
    assert scheduled_during(provider, at(MONDAY, 9), at(MONDAY, 10)) == 1


def test_the_patients_lists_hold_only_their_own(
    patient, other_patient, provider, other_provider
) -> None:
    now = at(MONDAY, 12)
    mine = appointment_create(patient=patient, provider=provider, date_time=at(MONDAY, 14))
    past = appointment_create(patient=patient, provider=provider, date_time=at(MONDAY, 9))
    cancelled = appointment_create(
        patient=patient,
        provider=provider,
        date_time=at(MONDAY, 15),
        status=AppointmentStatus.CANCELLED,
    )
    appointment_create(patient=other_patient, provider=other_provider, date_time=at(MONDAY, 14))

    lists = appointments_of_patient(patient.user, now=now)

    assert lists.upcoming == [mine]
    assert list(lists.past) == [cancelled, past]


def test_provider_search_needs_every_word(provider, other_provider) -> None:
    provider_create(
        email="p2@example.org",
        full_name="Anika Other",
        specialization="Cardiology",
        working_hours=provider.working_hours,
    )

    assert [p.user.full_name for p in bookable_providers("anika")] == ["Anika Other", "Anika Patel"]
    assert [p.user.full_name for p in bookable_providers("anika cardio")] == ["Anika Other"]
    assert [p.user.full_name for p in bookable_providers("DERMATOLOGY")] == ["Omar Other"]
