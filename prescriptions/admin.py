from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from patients.admin_access import PHIAccessLoggedAdmin
from patients.models import PHIResource
from prescriptions.models import Prescription, RefillRequest


@admin.register(Prescription)
class PrescriptionAdmin(PHIAccessLoggedAdmin):
    phi_resource = PHIResource.PRESCRIPTION
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


@admin.register(RefillRequest)
class RefillRequestAdmin(PHIAccessLoggedAdmin):
    """Refill requests are decided in the provider portal; the admin reads them and fixes typos."""

    phi_resource = PHIResource.REFILLS

    list_display = ("created_at", "prescription", "patient", "status", "decided_by", "decided_at")
    list_select_related = ("prescription__patient__user", "patient__user", "decided_by")
    list_filter = ("status",)
    search_fields = (
        "patient__user__full_name",
        "patient__user__email",
        "prescription__medication_name",
    )
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("prescription", "patient", "requested_by", "note")}),
        (
            _("Decision"),
            {"fields": ("status", "decided_by", "decided_at", "decision_reason", "renewal")},
        ),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    # Who asked for what and how it was answered is history: only the texts can be corrected here.
    readonly_fields = (
        "prescription",
        "patient",
        "requested_by",
        "status",
        "decided_by",
        "decided_at",
        "renewal",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[RefillRequest]:
        return (
            super()
            .get_queryset(request)
            .select_related("prescription__patient__user", "patient__user", "decided_by")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # patients ask in their portal; a request made up by staff would be no request

    def has_delete_permission(self, request: HttpRequest, obj: RefillRequest | None = None) -> bool:
        return False
