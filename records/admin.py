from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from patients.admin_access import PHIAccessLoggedAdmin
from patients.models import PHIResource
from records.models import MedicalRecord


@admin.register(MedicalRecord)
class MedicalRecordAdmin(PHIAccessLoggedAdmin):
    phi_resource = PHIResource.MEDICAL_RECORD
    list_display = ("record_date", "patient", "provider", "diagnosis_summary", "updated_at")
    list_select_related = ("patient__user", "provider__user")
    # By department rather than by provider: a provider filter would list
    # every provider on every page load.
    list_filter = ("provider__department",)
    search_fields = (
        "patient__user__full_name",
        "patient__user__email",
        "provider__user__full_name",
        "diagnosis",
        "symptoms",
        "treatment",
    )
    ordering = ("-record_date", "-created_at")
    date_hierarchy = "record_date"
    autocomplete_fields = ("patient", "provider", "appointment")
    fieldsets = (
        (None, {"fields": ("patient", "provider", "appointment", "record_date")}),
        (_("Visit"), {"fields": ("symptoms", "diagnosis", "treatment", "notes")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MedicalRecord]:
        # str() of a record names the patient: the change page and the record
        # autocomplete on prescriptions need them.
        return super().get_queryset(request).select_related("patient__user", "provider__user")

    def has_delete_permission(self, request: HttpRequest, obj: MedicalRecord | None = None) -> bool:
        return False  # clinical data must survive; a wrong entry is corrected, not removed

    @admin.display(description=_("diagnosis"), ordering="diagnosis")
    def diagnosis_summary(self, obj: MedicalRecord) -> str:
        return Truncator(obj.diagnosis).chars(60)
