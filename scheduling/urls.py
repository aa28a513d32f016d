from __future__ import annotations

from django.urls import URLPattern, path

from scheduling import views

app_name = "scheduling"

urlpatterns: list[URLPattern] = [
    # Patients
    path("", views.patient_appointments, name="patient-appointments"),
    path("book/", views.patient_book, name="patient-book"),
    path("book/<uuid:provider_id>/", views.patient_book_provider, name="patient-book-provider"),
    path("calendar-feed/", views.patient_calendar_feed, name="patient-calendar-feed"),
    path(
        "<uuid:appointment_id>/",
        views.patient_appointment_detail,
        name="patient-appointment-detail",
    ),
    path(
        "<uuid:appointment_id>/cancel/",
        views.patient_appointment_cancel,
        name="patient-appointment-cancel",
    ),
    path(
        "<uuid:appointment_id>/reschedule/",
        views.patient_appointment_reschedule,
        name="patient-appointment-reschedule",
    ),
    path(
        "<uuid:appointment_id>/appointment.ics",
        views.patient_appointment_ics,
        name="patient-appointment-ics",
    ),
    # Public by token (calendar apps cannot sign in): see views.calendar_feed.
    path("feed/<str:token>/appointments.ics", views.calendar_feed, name="calendar-feed"),
    # Providers
    path("schedule/", views.provider_calendar, name="provider-calendar"),
    path("schedule/book/", views.provider_book, name="provider-book"),
    path("schedule/time-off/", views.provider_time_off, name="provider-time-off"),
    path(
        "schedule/time-off/<uuid:time_off_id>/delete/",
        views.provider_time_off_delete,
        name="provider-time-off-delete",
    ),
    path(
        "schedule/<uuid:appointment_id>/",
        views.provider_appointment_detail,
        name="provider-appointment-detail",
    ),
    path(
        "schedule/<uuid:appointment_id>/outcome/",
        views.provider_appointment_outcome,
        name="provider-appointment-outcome",
    ),
    path(
        "schedule/<uuid:appointment_id>/notes/",
        views.provider_appointment_notes,
        name="provider-appointment-notes",
    ),
    path(
        "schedule/<uuid:appointment_id>/cancel/",
        views.provider_appointment_cancel,
        name="provider-appointment-cancel",
    ),
    path(
        "schedule/<uuid:appointment_id>/reschedule/",
        views.provider_appointment_reschedule,
        name="provider-appointment-reschedule",
    ),
    path(
        "schedule/<uuid:appointment_id>/appointment.ics",
        views.provider_appointment_ics,
        name="provider-appointment-ics",
    ),
]
