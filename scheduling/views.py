"""Scheduling pages: patients find a provider, book, change and export appointments;
providers keep their calendar, book for their patients and block time off."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import patient_required, provider_required
from healthcare.net import client_ip
from patients.models import PHIResource
from patients.policy import visible_patients
from patients.services import phi_access_record
from patients.timezones import viewer_zone, zone_named
from scheduling import conf, ics
from scheduling.display import (
    clock,
    day_heading,
    day_legend,
    iso,
    rows_html,
    slot_id,
    url_for,
    when_text,
)
from scheduling.exceptions import PatientDoubleBooked, SchedulingError, SlotUnavailable
from scheduling.forms import (
    BookingForm,
    CalendarForm,
    CancelForm,
    NotesForm,
    OutcomeForm,
    ProviderBookingForm,
    ProviderSearchForm,
    RescheduleForm,
    TimeOffForm,
)
from scheduling.models import Appointment, AppointmentStatus, AppointmentType
from scheduling.selectors import (
    AppointmentLine,
    ProviderCalendar,
    active_feed_token,
    appointment_for_patient,
    appointment_for_provider,
    available_slots,
    bookable_provider,
    bookable_providers,
    calendar_of_provider,
    feed_appointments,
    feed_token_owner,
    patient_appointment_page,
    provider_hours,
    provider_zone,
    scheduled_during,
    time_off_for_provider,
    upcoming_time_off,
)
from scheduling.services import (
    appointment_book,
    appointment_book_for_patient,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_outcome,
    appointment_update_notes,
    calendar_feed_token_create,
    calendar_feed_token_revoke,
    calendar_feed_token_touch,
    time_off_create,
    time_off_delete,
)
from scheduling.slots import SlotWeek, by_week, parse_week, week_start

PROVIDERS_PER_PAGE = 20
PAST_PER_PAGE = 20
MAX_PAGE = 10_000
# A slot that was just taken: the page comes back with a fresh list and this status.
CONFLICT = 409


def _add_errors(form: Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _slot_error(form: Form, exc: SchedulingError, *, patient_self: bool) -> int:
    """Put a booking refusal next to the time field; the status the page returns with."""
    message = exc.message
    if isinstance(exc, PatientDoubleBooked) and patient_self:
        message = _("You already have an appointment at that time. Choose another time.")
    form.add_error("slot" if isinstance(exc, SlotUnavailable) else None, message)
    return CONFLICT if isinstance(exc, SlotUnavailable) else 400


def _query_without_week(request: HttpRequest) -> str:
    """The page's query string minus ``week``, for week links that keep the rest."""
    query = request.GET.copy()
    query.pop("week", None)
    query.pop("page", None)
    return query.urlencode()


def _submit_reschedule(
    request: HttpRequest, appointment: Appointment, form: Form, *, patient_self: bool
) -> tuple[Appointment | None, int, bool]:
    """The POST half of rescheduling, shared by both portals.

    Returns (moved appointment, page status, refused): `moved` on success;
    `refused` when the move is not allowed at all (the message is flashed and
    the caller returns to the appointment); otherwise the page is shown again
    with `status` and the error next to the time field.
    """
    if request.method != "POST":
        return None, 200, False
    if not form.is_valid():
        return None, 400, False
    try:
        moved = appointment_reschedule(
            appointment=appointment, starts_at=form.cleaned_data["slot"], by=request.user
        )
    except SchedulingError as exc:
        if not isinstance(exc, SlotUnavailable):
            messages.error(request, exc.message)
            return None, 200, True
        return None, _slot_error(form, exc, patient_self=patient_self), False
    return moved, 200, False


def _posted(request: HttpRequest) -> Any:
    """The POST data on a POST (even an empty one), None on a GET: the form is bound or not."""
    return request.POST if request.method == "POST" else None


def _weeks(slots: list, tz: Any, now: dt.datetime, last_day: dt.date) -> list[SlotWeek]:
    return by_week(slots, week_start(now.astimezone(tz).date()), week_start(last_day))


def _chosen_week(weeks: list[SlotWeek], requested: object) -> SlotWeek | None:
    """The week asked for, else the first with a free slot, else the first."""
    monday = parse_week(requested)
    for week in weeks:
        if week.monday == monday:
            return week
    return next((w for w in weeks if w.count), weeks[0] if weeks else None)


def _change_rule(starts_at: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    """What the patient may change online after booking `starts_at`, for the pages that say so."""
    cutoff = conf.cancel_cutoff()
    return {
        "cutoff_hours": int(cutoff.total_seconds() // 3600),
        "grace_minutes": int(conf.change_grace().total_seconds() // 60),
        "inside_cutoff": starts_at - now < cutoff,
        "changeable_until": starts_at - cutoff,
    }


def _review_context(provider: Any, form: BookingForm) -> dict[str, Any]:
    starts_at = form.cleaned_data["slot"]
    return {
        "provider": provider,
        "form": form,
        "starts_at": starts_at,
        "type_label": dict(form.fields["type"].choices).get(form.cleaned_data["type"], ""),
        **_change_rule(starts_at, timezone.now()),
    }


# One radio of the slot picker. Built here, once per slot, rather than by the
# template: a week holds dozens of slots, and template variables, tags and form
# lookups per slot cost more than the rest of the page.
_SLOT_RADIO = (
    "<li>"
    '<input type="radio" name="slot" id="slot-{id}" value="{key}"{checked} required>'
    ' <label for="slot-{id}"><time datetime="{key}">{time}</time>{soon}</label>'
    "</li>"
)


def _picker_days(
    week: SlotWeek | None, *, tz: Any, form: Form, changeable_from: dt.datetime | None
) -> list[dict[str, Any]]:
    """The slot picker's days: each day's legend and its radios, ready to show."""
    if week is None:
        return []
    chosen = form["slot"].value()
    soon = format_html(' <span class="slot-soon" data-soon>{}</span>', _("soon"))
    return [
        {
            "legend": day_legend(day.day),
            "radios": rows_html(
                _SLOT_RADIO,
                (
                    {
                        "id": slot_id(slot.key),
                        "key": slot.key,
                        "checked": " checked" if slot.key == chosen else "",
                        "time": clock(slot.starts_at, tz),
                        "soon": soon
                        if changeable_from is not None and slot.starts_at < changeable_from
                        else "",
                    }
                    for slot in day.slots
                ),
            ),
        }
        for day in week.days
    ]


# One tab as the template's loop wrote it; the loop's line break before each
# tab is the separator rows_html puts between them, plus one before the first.
_WEEK_TAB = (
    '          <li><a href="?{prefix}week={key}#slots"{current}>\n'
    "            {label}\n"
    '            <span class="meta">({free})</span>\n'
    "          </a></li>\n        "
)


def _week_tabs(weeks: list[SlotWeek], week: SlotWeek | None, week_query: str) -> SafeString:
    """The slot picker's week tabs, the markup its template loop made (a test compares them),
    at a fraction of the cost of a blocktranslate and a date filter per week."""
    prefix = mark_safe(f"{escape(week_query)}&amp;" if week_query else "")  # noqa: S308 - escaped
    chosen = week.monday if week is not None else None
    week_of = _("Week of %(day)s")
    tabs = rows_html(
        _WEEK_TAB,
        (
            {
                "prefix": prefix,
                "key": w.key,
                "current": mark_safe(' aria-current="true"' if w.monday == chosen else ""),  # noqa: S308
                # As blocktranslate: the values escaped, the translation as it is.
                "label": mark_safe(week_of % {"day": escape(date_format(w.monday, "j M"))}),  # noqa: S308
                "free": mark_safe(  # noqa: S308 - a number in a translation
                    ngettext("%(counter)s free", "%(counter)s free", w.count) % {"counter": w.count}
                ),
            }
            for w in weeks
        ),
    )
    return mark_safe(f"\n{tabs}" if weeks else "")  # noqa: S308 - rows_html escaped the values


def _patient_slot_context(
    request: HttpRequest, provider: Any, *, form: Form, exclude: Appointment | None = None
) -> dict[str, Any]:
    """Free slots for the patient over the whole horizon, grouped by week, one week chosen."""
    now = timezone.now()
    slots = available_slots(
        provider,
        now=now,
        patient=request.user.patient_profile,
        exclude_appointment_id=exclude.pk if exclude else None,
    )
    if exclude is not None:
        slots = [s for s in slots if s.starts_at != exclude.date_time]
    # Days and times as the patient reads them: in their own zone.
    tz = viewer_zone() or provider_zone(provider)
    last_day = now.astimezone(tz).date() + dt.timedelta(days=max(conf.horizon_days() - 1, 0))
    weeks = _weeks(slots, tz, now, last_day)
    week = _chosen_week(weeks, request.POST.get("week") or request.GET.get("week"))
    # Slots before this start too soon to be changed online after the first minutes.
    changeable_from = now + conf.cancel_cutoff()
    week_query = _query_without_week(request)
    return {
        "tz": tz,
        "changeable_from": changeable_from,
        "cutoff_hours": int(conf.cancel_cutoff().total_seconds() // 3600),
        "grace_minutes": int(conf.change_grace().total_seconds() // 60),
        "weeks": weeks,
        "week": week,
        "picker_days": _picker_days(week, tz=tz, form=form, changeable_from=changeable_from),
        "first_slot": slots[0] if slots else None,
        "has_hours": provider_hours(provider) is not None,
        "week_query": week_query,
        "week_tabs": _week_tabs(weeks, week, week_query),
    }


# --- Patients ------------------------------------------------------------------------


def _page_number(value: object) -> int:
    """The ?page= asked for; anything but a positive number is the first page
    (and a number past any real history is capped before it reaches SQL's OFFSET)."""
    try:
        return min(max(int(str(value)), 1), MAX_PAGE)
    except ValueError:
        return 1


def _patient_rows(
    lines: list[AppointmentLine], *, now: dt.datetime, links: bool
) -> list[dict[str, Any]]:
    """What the list shows of each appointment, formatted once here rather than by
    several filters, tags and URL lookups per row in the template."""
    viewer = viewer_zone()
    detail = url_for("scheduling:patient-appointment-detail", "appointment_id")
    reschedule = url_for("scheduling:patient-appointment-reschedule", "appointment_id")
    cancel = url_for("scheduling:patient-appointment-cancel", "appointment_id")
    types = {value: str(label) for value, label in AppointmentType.choices}
    statuses = {value: str(label) for value, label in AppointmentStatus.choices}
    changeable_from = now + conf.cancel_cutoff()
    # Booked this recently: still changeable online whatever the cut-off.
    grace_from = now - conf.change_grace()
    rows = []
    for line in lines:
        tz = viewer or zone_named(line.provider_zone) or dt.UTC
        row = {
            "url": detail(line.pk),
            "iso": iso(line.date_time),
            "when": when_text(line.date_time, tz),
            "provider": line.provider_name,
            "type": types.get(line.type, line.type),
            "status": line.status,
            "status_label": statuses.get(line.status, line.status),
            "reason": line.reason,
        }
        if links:
            row["with"] = _("with %(provider)s · %(minutes)s min") % {
                "provider": line.provider_name,
                "minutes": line.duration_minutes,
            }
            if line.date_time >= changeable_from or line.created_at >= grace_from:
                row["reschedule_url"] = reschedule(line.pk)
                row["cancel_url"] = cancel(line.pk)
        rows.append(row)
    return rows


# One row of the past appointments' table, built once per row in the view (a page
# holds dozens; template variables and tags per row cost more than the rest).
_PAST_ROW = (
    '<tr><td><a href="{url}"><time datetime="{iso}">{when}</time></a></td>'
    "<td>{provider}</td><td>{type}</td>"
    '<td><span class="status status-{status}">{status_label}</span></td></tr>'
)


@patient_required
@never_cache
@require_GET
def patient_appointments(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    lists = patient_appointment_page(
        request.user.patient_profile,
        now=now,
        page=_page_number(request.GET.get("page", 1)),
        size=PAST_PER_PAGE,
    )
    context = {
        "upcoming": _patient_rows(lists.upcoming, now=now, links=True),
        "past_rows": rows_html(_PAST_ROW, _patient_rows(lists.past, now=now, links=False)),
        "newer_page": lists.page - 1 if lists.page > 1 else None,
        "page_number": lists.page,
        "older_page": lists.page + 1 if lists.has_older else None,
    }
    return render(request, "scheduling/patient_appointments.html", context)


@patient_required
@never_cache
@require_GET
def patient_book(request: HttpRequest) -> HttpResponse:
    form = ProviderSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = Paginator(bookable_providers(query), PROVIDERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "scheduling/patient_book.html", {"form": form, "query": query, "page": page}
    )


@patient_required
@never_cache
@require_http_methods(["GET", "POST"])
def patient_book_provider(request: HttpRequest, provider_id: UUID) -> HttpResponse:
    provider = bookable_provider(provider_id)
    if provider is None:
        raise Http404
    status = 200
    form = BookingForm(_posted(request))
    step = request.POST.get("step", "")
    if request.method == "POST" and form.is_valid() and step == "review":
        # Nothing is held yet: the confirmation books, or says the time was taken meanwhile.
        return render(
            request, "scheduling/patient_book_review.html", _review_context(provider, form)
        )
    if request.method == "POST" and form.is_valid() and step == "edit":
        pass  # back from the review to the picker, with the choices kept
    elif request.method == "POST" and form.is_valid():
        try:
            appointment = appointment_book(
                patient=request.user.patient_profile,
                provider=provider,
                starts_at=form.cleaned_data["slot"],
                type=form.cleaned_data["type"],
                reason=form.cleaned_data["reason"],
                booked_by=request.user,
            )
        except SchedulingError as exc:
            status = _slot_error(form, exc, patient_self=True)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("Your appointment is booked. A confirmation is on its way by email.")
            )
            return redirect("scheduling:patient-appointment-detail", appointment_id=appointment.pk)
    elif request.method == "POST":
        status = 400
    context = {
        "provider": provider,
        "form": form,
        **_patient_slot_context(request, provider, form=form),
    }
    return render(request, "scheduling/patient_book_provider.html", context, status=status)


@patient_required
@never_cache
@require_GET
def patient_appointment_detail(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = appointment_for_patient(request.user, appointment_id)
    if appointment is None:
        raise Http404
    now = timezone.now()
    return render(
        request,
        "scheduling/patient_appointment_detail.html",
        {
            "appointment": appointment,
            "changeable": appointment.changeable_online(now),
            # A rescheduled appointment points to where it went (same patient, same provider).
            "moved_to": None if appointment.is_scheduled else appointment.rescheduled_to.first(),
            **_change_rule(appointment.date_time, now),
            "grace_until": appointment.created_at + conf.change_grace(),
        },
    )


@patient_required
@never_cache
@require_http_methods(["GET", "POST"])
def patient_appointment_cancel(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = appointment_for_patient(request.user, appointment_id)
    if appointment is None:
        raise Http404
    form = CancelForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            appointment_cancel(
                appointment=appointment, by=request.user, reason=form.cleaned_data["reason"]
            )
        except SchedulingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Your appointment is cancelled; its time is free for others.")
            )
        return redirect("scheduling:patient-appointment-detail", appointment_id=appointment.pk)
    return render(
        request,
        "scheduling/patient_appointment_cancel.html",
        {"appointment": appointment, "form": form},
    )


@patient_required
@never_cache
@require_http_methods(["GET", "POST"])
def patient_appointment_reschedule(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = appointment_for_patient(request.user, appointment_id)
    if appointment is None:
        raise Http404
    form = RescheduleForm(_posted(request))
    moved, status, refused = _submit_reschedule(request, appointment, form, patient_self=True)
    if refused:
        return redirect("scheduling:patient-appointment-detail", appointment_id=appointment.pk)
    if moved is not None:
        messages.success(
            request, _("Your appointment has moved. A confirmation is on its way by email.")
        )
        return redirect("scheduling:patient-appointment-detail", appointment_id=moved.pk)
    context = {
        "appointment": appointment,
        "provider": appointment.provider,
        "form": form,
        **_patient_slot_context(request, appointment.provider, form=form, exclude=appointment),
    }
    return render(request, "scheduling/patient_appointment_reschedule.html", context, status=status)


def _portal_link(request: HttpRequest, url_name: str, appointment: Appointment) -> str:
    """Absolute link to the appointment's page, for calendar files (their only details)."""
    base = conf.portal_url() or request.build_absolute_uri("/").rstrip("/")
    return base + reverse(url_name, kwargs={"appointment_id": appointment.pk})


def _ics_response(appointment: Appointment, text: ics.EventText) -> HttpResponse:
    response = HttpResponse(
        ics.calendar([(appointment, text)]), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="appointment-{appointment.date_time:%Y%m%d-%H%M}.ics"'
    )
    return response


@patient_required
@never_cache
@require_GET
def patient_appointment_ics(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = appointment_for_patient(request.user, appointment_id)
    if appointment is None:
        raise Http404
    text = ics.EventText(
        summary=_("Appointment with %(provider)s")
        % {"provider": appointment.provider.display_name},
        location=appointment.provider.office_location,
        url=_portal_link(request, "scheduling:patient-appointment-detail", appointment),
    )
    return _ics_response(appointment, text)


@patient_required
@never_cache
@require_http_methods(["GET", "POST"])
def patient_calendar_feed(request: HttpRequest) -> HttpResponse:
    feed_url = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if calendar_feed_token_revoke(user=request.user):
                messages.success(
                    request, _("The calendar address is revoked; it no longer shows anything.")
                )
            return redirect("scheduling:patient-calendar-feed")
        _token, secret = calendar_feed_token_create(user=request.user)
        # Shown once, in this response: only the secret's hash is stored.
        feed_url = request.build_absolute_uri(
            reverse("scheduling:calendar-feed", kwargs={"token": secret})
        )
    return render(
        request,
        "scheduling/patient_calendar_feed.html",
        {"token": active_feed_token(request.user), "feed_url": feed_url},
    )


# Public: calendar apps cannot sign in. The unguessable token in the URL is the
# credential; it can be revoked, and the feed says no more than "Appointment with
# <provider>", the time, the place and a link to the portal (no reason, notes or
# patient identifiers).
@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    owner = feed_token_owner(token)
    if owner is None or not owner.user.is_patient:
        raise Http404
    calendar_feed_token_touch(token=owner)
    events = [
        (
            appointment,
            ics.EventText(
                summary=_("Appointment with %(provider)s")
                % {"provider": appointment.provider.display_name},
                location=appointment.provider.office_location,
                url=_portal_link(request, "scheduling:patient-appointment-detail", appointment),
            ),
        )
        for appointment in feed_appointments(owner.user)
    ]
    response = HttpResponse(
        ics.calendar(events, name=_("My appointments")), content_type="text/calendar; charset=utf-8"
    )
    response["X-Robots-Tag"] = "noindex"
    return response


# --- Providers -----------------------------------------------------------------------


# One appointment on the calendar. Built here, once per appointment, rather than by
# the template: a busy week holds dozens, and a dozen template variables and tags
# each cost more than the rest of the page.
_CALENDAR_ENTRY = (
    '<li class="appt appt-{status}{emergency}">'
    '<a href="{url}"><time datetime="{iso}">{starts}</time>–{ends} <strong>{patient}</strong></a>'
    '<br><span class="meta">{type}{reason}</span>'
    '<br><span class="status status-{status}">{status_label}</span>'
    "</li>"
)


def _calendar_days(calendar: ProviderCalendar, *, today: dt.date) -> list[dict[str, Any]]:
    """The calendar's days as the page shows them, in the provider's zone."""
    tz = calendar.tz
    detail = url_for("scheduling:provider-appointment-detail", "appointment_id")
    types = {value: str(label) for value, label in AppointmentType.choices}
    statuses = {value: str(label) for value, label in AppointmentStatus.choices}
    return [
        {
            "id": cday.day.strftime("%Y%m%d"),
            "date": cday.day.isoformat(),
            "heading": day_heading(cday.day),
            "is_today": cday.day == today,
            "time_off": [
                {
                    "starts": clock(block.starts_at, tz),
                    "ends": clock(block.ends_at, tz),
                    "reason": block.reason,
                }
                for block in cday.time_off
            ],
            "appointments": rows_html(
                _CALENDAR_ENTRY,
                (
                    {
                        "status": entry.status,
                        "emergency": " appt-emergency"
                        if entry.type == AppointmentType.EMERGENCY
                        else "",
                        "url": detail(entry.pk),
                        "iso": iso(entry.date_time),
                        "starts": clock(entry.date_time, tz),
                        "ends": clock(entry.ends_at, tz),
                        "patient": entry.patient_name,
                        "type": types.get(entry.type, entry.type),
                        "reason": f" · {entry.reason}" if entry.reason else "",
                        "status_label": statuses.get(entry.status, entry.status),
                    }
                    for entry in cday.appointments
                ),
            ),
        }
        for cday in calendar.days
    ]


@provider_required
@never_cache
@require_GET
def provider_calendar(request: HttpRequest) -> HttpResponse:
    provider = request.user.provider_profile
    tz = provider_zone(provider)
    form = CalendarForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    today = timezone.now().astimezone(tz).date()
    day = data.get("date") or today
    view = data.get("view") or "week"
    first_day = week_start(day) if view == "week" else day
    days = 7 if view == "week" else 1
    step = dt.timedelta(days=days)
    return render(
        request,
        "scheduling/provider_calendar.html",
        {
            "days": _calendar_days(
                calendar_of_provider(provider, first_day=first_day, days=days), today=today
            ),
            "view": view,
            "day": day,
            "today": today,
            "previous": first_day - step,
            "next": first_day + step,
            "tz": tz,
        },
    )


def _provider_appointment(request: HttpRequest, appointment_id: UUID) -> Appointment:
    appointment = appointment_for_provider(request.user, appointment_id)
    if appointment is None:
        raise Http404
    return appointment


def _render_provider_detail(
    request: HttpRequest, appointment: Appointment, *, status: int = 200, **forms: Form
) -> HttpResponse:
    context = {
        "appointment": appointment,
        "tz": provider_zone(appointment.provider),
        "chartable": visible_patients(request.user).filter(pk=appointment.patient_id).exists(),
        "notes_form": forms.get("notes_form") or NotesForm(initial={"notes": appointment.notes}),
        "cancel_form": forms.get("cancel_form") or CancelForm(require_reason=True),
    }
    return render(request, "scheduling/provider_appointment_detail.html", context, status=status)


def _log_access(request: HttpRequest, appointment: Appointment) -> None:
    """The provider is shown the patient's appointment (name, reason, notes): log it."""
    phi_access_record(
        accessor=request.user,
        patient=appointment.patient,
        resource=PHIResource.APPOINTMENT,
        object_id=appointment.pk,
        ip_address=client_ip(request),
    )


@provider_required
@never_cache
@require_GET
def provider_appointment_detail(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = _provider_appointment(request, appointment_id)
    _log_access(request, appointment)
    return _render_provider_detail(request, appointment)


def _back_to_detail(appointment: Appointment) -> HttpResponse:
    return redirect("scheduling:provider-appointment-detail", appointment_id=appointment.pk)


@provider_required
@require_POST
def provider_appointment_outcome(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = _provider_appointment(request, appointment_id)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose completed or no-show."))
        return _back_to_detail(appointment)
    try:
        appointment = appointment_set_outcome(
            appointment=appointment, status=form.cleaned_data["status"], by=request.user
        )
    except SchedulingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Marked %(status)s.") % {"status": appointment.get_status_display().lower()}
        )
    return _back_to_detail(appointment)


@provider_required
@require_POST
def provider_appointment_notes(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = _provider_appointment(request, appointment_id)
    form = NotesForm(request.POST)
    if not form.is_valid():
        return _render_provider_detail(request, appointment, status=400, notes_form=form)
    appointment_update_notes(
        appointment=appointment, notes=form.cleaned_data["notes"], by=request.user
    )
    messages.success(request, _("Notes saved."))
    return _back_to_detail(appointment)


@provider_required
@require_POST
def provider_appointment_cancel(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = _provider_appointment(request, appointment_id)
    form = CancelForm(request.POST, require_reason=True)
    if form.is_valid():
        try:
            appointment_cancel(
                appointment=appointment, by=request.user, reason=form.cleaned_data["reason"]
            )
        except SchedulingError as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("The appointment is cancelled and the patient is told by email.")
            )
            return _back_to_detail(appointment)
    if form.errors:
        return _render_provider_detail(request, appointment, status=400, cancel_form=form)
    return _back_to_detail(appointment)


def _provider_week(
    request: HttpRequest,
    provider: Any,
    *,
    form: Form,
    patient: Any = None,
    exclude: Any = None,
) -> dict[str, Any]:
    """One week of the provider's free slots (any week up to their horizon)."""
    now = timezone.now()
    tz = provider_zone(provider)
    this_monday = week_start(now.astimezone(tz).date())
    monday = parse_week(request.POST.get("week") or request.GET.get("week")) or this_monday
    last_monday = week_start(this_monday + dt.timedelta(days=conf.provider_horizon_days()))
    monday = min(max(monday, this_monday), last_monday)
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min, tzinfo=tz)
    slots = available_slots(
        provider,
        now=now,
        patient=patient,
        exclude_appointment_id=exclude.pk if exclude else None,
        by_provider=True,
        start=start,
        end=end,
    )
    if exclude is not None:
        slots = [s for s in slots if s.starts_at != exclude.date_time]
    week = by_week(slots, monday, monday)[0]
    return {
        "tz": tz,
        "week": week,
        "picker_days": _picker_days(week, tz=tz, form=form, changeable_from=None),
        "previous_week": monday - dt.timedelta(days=7) if monday > this_monday else None,
        "next_week": monday + dt.timedelta(days=7) if monday < last_monday else None,
        "has_hours": provider_hours(provider) is not None,
        "week_query": _query_without_week(request),
    }


@provider_required
@never_cache
@require_http_methods(["GET", "POST"])
def provider_appointment_reschedule(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = _provider_appointment(request, appointment_id)
    _log_access(request, appointment)
    form = RescheduleForm(_posted(request))
    moved, status, refused = _submit_reschedule(request, appointment, form, patient_self=False)
    if refused:
        return _back_to_detail(appointment)
    if moved is not None:
        messages.success(request, _("The appointment has moved and the patient is told by email."))
        return _back_to_detail(moved)
    context = {
        "appointment": appointment,
        "form": form,
        **_provider_week(
            request,
            appointment.provider,
            form=form,
            patient=appointment.patient,
            exclude=appointment,
        ),
    }
    return render(
        request, "scheduling/provider_appointment_reschedule.html", context, status=status
    )


@provider_required
@never_cache
@require_GET
def provider_appointment_ics(request: HttpRequest, appointment_id: UUID) -> HttpResponse:
    appointment = _provider_appointment(request, appointment_id)
    _log_access(request, appointment)
    # No patient name or reason: the file is synced to whatever cloud the
    # provider's calendar uses; the link opens the appointment in the portal.
    text = ics.EventText(
        summary=_("Patient appointment (%(type)s)") % {"type": appointment.get_type_display()},
        location=appointment.provider.office_location,
        url=_portal_link(request, "scheduling:provider-appointment-detail", appointment),
    )
    return _ics_response(appointment, text)


@provider_required
@never_cache
@require_http_methods(["GET", "POST"])
def provider_book(request: HttpRequest) -> HttpResponse:
    provider = request.user.provider_profile
    tz = provider_zone(provider)
    status = 200
    initial = {"patient": request.GET.get("patient")} if request.method == "GET" else None
    form = ProviderBookingForm(_posted(request), initial=initial, provider=provider, tz=tz)
    if request.method == "POST" and form.is_valid():
        try:
            appointment = appointment_book_for_patient(
                provider=provider,
                patient=form.cleaned_data["patient"],
                starts_at=form.cleaned_data["starts_at"],
                type=form.cleaned_data["type"],
                reason=form.cleaned_data["reason"],
                duration_minutes=form.cleaned_data.get("duration_minutes"),
                booked_by=request.user,
            )
        except SchedulingError as exc:
            status = _slot_error(form, exc, patient_self=False)
        except ValidationError as exc:
            _add_errors(form, exc)
            status = 400
        else:
            messages.success(
                request, _("The appointment is booked and the patient is told by email.")
            )
            return _back_to_detail(appointment)
    elif request.method == "POST":
        status = 400
    context = {"form": form, **_provider_week(request, provider, form=form)}
    return render(request, "scheduling/provider_book.html", context, status=status)


@provider_required
@never_cache
@require_http_methods(["GET", "POST"])
def provider_time_off(request: HttpRequest) -> HttpResponse:
    provider = request.user.provider_profile
    tz = provider_zone(provider)
    form = TimeOffForm(_posted(request), tz=tz)
    if request.method == "POST" and form.is_valid():
        try:
            block = time_off_create(
                provider=provider,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Time off saved; patients no longer see slots in it."))
            booked = scheduled_during(provider, block.starts_at, block.ends_at)
            if booked:
                messages.warning(
                    request,
                    _(
                        "%(count)d booked appointment(s) fall in this time. Reschedule or cancel them."
                    )
                    % {"count": booked},
                )
            return redirect("scheduling:provider-time-off")
    return render(
        request,
        "scheduling/provider_time_off.html",
        {"form": form, "blocks": upcoming_time_off(provider), "tz": tz},
        status=400 if form.errors else 200,
    )


@provider_required
@require_POST
def provider_time_off_delete(request: HttpRequest, time_off_id: UUID) -> HttpResponse:
    block = time_off_for_provider(request.user, time_off_id)
    if block is None:
        raise Http404
    time_off_delete(time_off=block, by=request.user)
    messages.success(request, _("Time off removed; its slots are offered again."))
    return redirect("scheduling:provider-time-off")
