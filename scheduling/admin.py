from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from scheduling.models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
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
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        # str() of an appointment names both people: the change page and the
        # appointment autocomplete on medical records need them.
        return super().get_queryset(request).select_related("patient__user", "provider__user")

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        # Clinical data must survive; an appointment that did not happen is cancelled.
        return False
