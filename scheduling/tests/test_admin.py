"""Appointments in the admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conftest import login_verified
from patients.models import PatientProfile
from patients.services import patient_create
from providers.models import ProviderProfile
from providers.services import provider_create
from scheduling.models import Appointment, AppointmentStatus, AppointmentType
from scheduling.services import appointment_create
from tests.admin_checks import query_count

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:scheduling_appointment_changelist"
START = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def admin_session(client: Client, admin_user: User) -> Client:
    # The admin site demands a verified second factor; this signs in with one.
    return login_verified(client, admin_user)


@pytest.fixture
def appointment(patient: PatientProfile, provider: ProviderProfile) -> Appointment:
    return appointment_create(
        patient=patient, provider=provider, date_time=START, reason="Annual checkup"
    )


def _make_appointments(count: int, *, start: int = 0) -> list[Appointment]:
    # Each row has its own patient and provider, so a missing select_related
    # costs one query per row and shows up in the count.
    return [
        appointment_create(
            patient=patient_create(
                email=f"booked{n}@example.org",
                full_name=f"Booked Patient{n:03d}",
                date_of_birth=dt.date(1980, 1, 1),
            ),
            provider=provider_create(
                email=f"seeing{n}@example.org", full_name=f"Seeing Doctor{n:03d}"
            ),
            date_time=START + dt.timedelta(hours=n),
            reason=f"Visit {n}",
        )
        for n in range(start, start + count)
    ]


def test_changelist_lists_appointments(admin_session: Client, appointment: Appointment) -> None:
    response = admin_session.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Pat Jones" in page
    assert "Anika Patel, MD" in page


def test_changelist_queries_do_not_grow_with_appointments(admin_session: Client) -> None:
    url = reverse(CHANGELIST)
    _make_appointments(3)
    admin_session.get(url)  # warm per-process caches (content types) before counting

    few, _ = query_count(admin_session, url)
    _make_appointments(27, start=3)
    many, page = query_count(admin_session, url)

    assert Appointment.objects.count() == 30
    assert "Booked Patient029" in page
    assert "Seeing Doctor029" in page
    assert many == few


def test_change_page_shows_the_appointment(admin_session: Client, appointment: Appointment) -> None:
    response = admin_session.get(
        reverse("admin:scheduling_appointment_change", args=[appointment.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Annual checkup" in page
    # Patients and providers are picked by autocomplete, not from a full list.
    assert "admin-autocomplete" in page


def test_change_form_saves(admin_session: Client, appointment: Appointment) -> None:
    response = admin_session.post(
        reverse("admin:scheduling_appointment_change", args=[appointment.pk]),
        {
            "patient": appointment.patient.pk,
            "provider": appointment.provider.pk,
            "date_time_0": "2030-03-04",
            "date_time_1": "09:00:00",
            "duration_minutes": "45",
            "type": AppointmentType.FOLLOW_UP,
            "status": AppointmentStatus.COMPLETED,
            "reason": "Annual checkup",
            "notes": "Seen on time.",
        },
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    assert appointment.duration_minutes == 45
    assert appointment.notes == "Seen on time."


def test_search_by_patient_provider_and_reason(
    admin_session: Client, appointment: Appointment, other_patient, other_provider
) -> None:
    appointment_create(
        patient=other_patient,
        provider=other_provider,
        date_time=START,
        reason="Rash on arm",
    )

    for term, expected, absent in [
        ("Pat Jones", "Pat Jones", "Riley Other"),
        ("dr.other@", "Omar Other", "Anika Patel"),
        ("Rash", "Riley Other", "Pat Jones"),
    ]:
        response = admin_session.get(reverse(CHANGELIST), {"q": term})

        page = response.content.decode()
        assert response.context["cl"].result_count == 1, term
        assert expected in page
        assert absent not in page


def test_patient_autocomplete_searches_patient_admin(
    admin_session: Client, patient, other_patient
) -> None:
    response = admin_session.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "scheduling",
            "model_name": "appointment",
            "field_name": "patient",
            "term": "Pat",
        },
    )

    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == ["Pat Jones"]


def test_appointments_cannot_be_deleted(admin_session: Client, appointment: Appointment) -> None:
    response = admin_session.post(
        reverse("admin:scheduling_appointment_delete", args=[appointment.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Appointment.objects.filter(pk=appointment.pk).exists()


def _change_data(appointment: Appointment, **overrides: object) -> dict[str, object]:
    local = appointment.date_time
    data: dict[str, object] = {
        "patient": appointment.patient.pk,
        "provider": appointment.provider.pk,
        "date_time_0": f"{local:%Y-%m-%d}",
        "date_time_1": f"{local:%H:%M:%S}",
        "duration_minutes": str(appointment.duration_minutes),
        "type": appointment.type,
        "status": appointment.status,
        "reason": appointment.reason,
        "notes": appointment.notes,
        "cancellation_reason": "",
    }
    data.update(overrides)
    return data


def test_the_admin_cannot_bring_back_a_final_appointment(
    admin_session: Client, appointment: Appointment
) -> None:
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED)
    appointment.refresh_from_db()

    response = admin_session.post(
        reverse("admin:scheduling_appointment_change", args=[appointment.pk]),
        _change_data(appointment, status=AppointmentStatus.SCHEDULED),
    )

    assert response.status_code == 200
    assert "An appointment that is cancelled cannot become scheduled." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_the_admin_refuses_an_overlapping_appointment(
    admin_session: Client, appointment: Appointment, other_patient: PatientProfile
) -> None:
    clash = appointment_create(
        patient=other_patient,
        provider=appointment.provider,
        date_time=START + dt.timedelta(hours=2),
    )

    response = admin_session.post(
        reverse("admin:scheduling_appointment_change", args=[clash.pk]),
        _change_data(clash, date_time_1="09:15:00"),
    )

    assert response.status_code == 200
    assert "The provider already has an appointment at that time." in response.content.decode()
    clash.refresh_from_db()
    assert clash.date_time == START + dt.timedelta(hours=2)


def test_time_off_and_feed_tokens_are_in_the_admin(
    admin_session: Client, provider: ProviderProfile
) -> None:
    from scheduling.models import ProviderTimeOff

    ProviderTimeOff.objects.create(
        provider=provider, starts_at=START, ends_at=START + dt.timedelta(days=1), reason="Holiday"
    )

    time_off = admin_session.get(reverse("admin:scheduling_providertimeoff_changelist"))
    tokens = admin_session.get(reverse("admin:scheduling_calendarfeedtoken_changelist"))

    assert time_off.status_code == 200
    assert "Holiday" in time_off.content.decode()
    assert tokens.status_code == 200
    assert admin_session.get(reverse("admin:scheduling_calendarfeedtoken_add")).status_code == 403
