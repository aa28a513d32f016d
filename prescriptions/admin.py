from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from prescriptions.models import Prescription


@admin.register(Prescription)
class PrescriptionAdmin(admin.ModelAdmin):
    list_display = (
        "medication_name",
        "dosage",
        "frequency",
        "patient",
        "provider",
        "start_date",
        "end_date",
        "refills",
        "status",
    )
    list_select_related = ("patient__user", "provider__user")
    # By department rather than by provider: a provider filter would list
    # every provider on every page load.
    list_filter = ("status", "provider__department")
    search_fields = (
        "medication_name",
        "patient__user__full_name",
        "patient__user__email",
        "provider__user__full_name",
    )
    ordering = ("-start_date",)
    date_hierarchy = "start_date"
    autocomplete_fields = ("patient", "provider", "medical_record")
    fieldsets = (
        (None, {"fields": ("patient", "provider", "medical_record")}),
        (
            _("Medication"),
            {"fields": ("medication_name", "dosage", "frequency", "duration", "refills")},
        ),
        (_("Course"), {"fields": ("start_date", "end_date", "status", "notes")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Prescription]:
        # str() of a prescription names the patient, shown on the change page and in history.
        return super().get_queryset(request).select_related("patient__user", "provider__user")

    def has_delete_permission(self, request: HttpRequest, obj: Prescription | None = None) -> bool:
        # Clinical data must survive; a prescription that should not be taken is cancelled.
        return False
