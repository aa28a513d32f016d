from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from messaging.models import Message
from patients.admin_access import PHIAccessLoggedAdmin
from patients.models import PHIResource


@admin.register(Message)
class MessageAdmin(PHIAccessLoggedAdmin):
    phi_resource = PHIResource.MESSAGES
    # Whichever side of the message is a patient.
    phi_patient_paths = ("sender__patient_profile", "receiver__patient_profile")
    """Read-only: a message is a record of what one person told another."""

    # Who wrote to whom and when; the content itself is on the detail page only,
    # so a list of conversations does not spread PHI across the screen.
    list_display = ("sent_at", "sender", "receiver", "read", "read_at")
    list_select_related = ("sender", "receiver")
    list_filter = ("read", "sender__role")
    search_fields = (
        "sender__full_name",
        "sender__email",
        "receiver__full_name",
        "receiver__email",
    )
    ordering = ("-sent_at",)
    date_hierarchy = "sent_at"
    fields = ("sender", "receiver", "sent_at", "content", "read", "read_at")
    # Only shown read-only, but named so that a change form, should one ever
    # be allowed, would not load every user into a select.
    raw_id_fields = ("sender", "receiver")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("sender", "receiver")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False
