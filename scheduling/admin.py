from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from patients.admin_access import PHIAccessLoggedAdmin
from patients.models import PHIResource
from scheduling.models import (
    ALLOWED_TRANSITIONS,
    Appointment,
    AppointmentStatus,
    CalendarFeedToken,
    ProviderTimeOff,
)


class AppointmentAdminForm(forms.ModelForm):
    class Meta:
        model = Appointment
        fields = (
            "patient",
            "provider",
            "date_time",
            "duration_minutes",
            "type",
            "status",
            "reason",
            "notes",
            "cancellation_reason",
        )

    def clean_status(self) -> str:
        # The portal's rule holds in the admin too: nothing returns from a final state.
        status = self.cleaned_data["status"]
        previous = self.initial.get("status") if self.instance.pk else None
        if previous and status != previous and status not in ALLOWED_TRANSITIONS.get(previous, ()):
            raise forms.ValidationError(
                _("An appointment that is %(previous)s cannot become %(status)s."),
                params={
                    "previous": AppointmentStatus(previous).label.lower(),
                    "status": AppointmentStatus(status).label.lower(),
                },
            )
        return status

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("status") != AppointmentStatus.SCHEDULED:
            return data
        start, minutes = data.get("date_time"), data.get("duration_minutes")
        if start is None or not minutes:
            return data
        # The database refuses overlaps on PostgreSQL; say so here instead of failing the save.
        end = start + timedelta(minutes=minutes)
        others = Appointment.objects.filter(
            status=AppointmentStatus.SCHEDULED,
            date_time__lt=end,
            date_time__gt=start - timedelta(days=1),
        ).exclude(pk=self.instance.pk)
        for field in ("provider", "patient"):
            if data.get(field) is None:
                continue
            for begins, length in others.filter(**{field: data[field]}).values_list(
                "date_time", "duration_minutes"
            ):
                if begins + timedelta(minutes=length) > start:
                    self.add_error(
                        "date_time",
                        _("The %(who)s already has an appointment at that time.") % {"who": field},
                    )
                    return data
        return data


@admin.register(Appointment)
class AppointmentAdmin(PHIAccessLoggedAdmin):
    phi_resource = PHIResource.APPOINTMENT
    form = AppointmentAdminForm
    list_display = ("date_time", "patient", "provider", "type", "status", "duration_minutes")
    list_select_related = ("patient__user", "provider__user")
    # By department rather than by provider: a provider filter would list
    # every provider on every page load.
    list_filter = ("status", "type", "provider__department")
    search_fields = (
        "patient__user__full_name",
        "patient__user__email",
        "provider__user__full_name",
        "provider__user__email",
        "reason",
    )
    ordering = ("-date_time",)
    date_hierarchy = "date_time"
    autocomplete_fields = ("patient", "provider")
    fieldsets = (
        (None, {"fields": ("patient", "provider")}),
        (_("When"), {"fields": ("date_time", "duration_minutes")}),
        (_("Visit"), {"fields": ("type", "status", "reason", "notes")}),
        (
            _("Changes"),
            {
                "fields": (
                    "cancellation_reason",
                    "cancelled_at",
                    "rescheduled_from",
                    "reminder_claimed_at",
                    "reminder_sent_at",
                )
            },
        ),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = (
        "created_at",
        "updated_at",
        "cancelled_at",
        "rescheduled_from",
        "reminder_claimed_at",
        "reminder_sent_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        # str() of an appointment names both people: the change page and the
        # appointment autocomplete on medical records need them.
        return super().get_queryset(request).select_related("patient__user", "provider__user")

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        # Clinical data must survive; an appointment that did not happen is cancelled.
        return False


@admin.register(ProviderTimeOff)
class ProviderTimeOffAdmin(admin.ModelAdmin):
    list_display = ("provider", "starts_at", "ends_at", "reason")
    list_select_related = ("provider__user",)
    search_fields = ("provider__user__full_name", "reason")
    ordering = ("-starts_at",)
    date_hierarchy = "starts_at"
    autocomplete_fields = ("provider",)


@admin.register(CalendarFeedToken)
class CalendarFeedTokenAdmin(admin.ModelAdmin):
    """Staff can see and revoke feed addresses, never read their secret (only a hash is kept)."""

    list_display = ("user", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__full_name")
    fields = ("user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "created_at", "last_used_at")
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token made here could never be shown to its owner.
        return False
