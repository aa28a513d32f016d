from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assistant.models import AIInteraction
from patients.admin_access import PHIAccessLoggedAdmin
from patients.models import PHIResource


@admin.register(AIInteraction)
class AIInteractionAdmin(PHIAccessLoggedAdmin):
    """Read-only: each row is what the assistant heard, answered and did."""

    phi_resource = PHIResource.ASSISTANT
    phi_patient_paths = ("user__patient_profile",)

    list_display = (
        "interaction_timestamp",
        "user",
        "detected_intent",
        "confidence",
        "outcome",
        "resulted_in_appointment",
        "resulted_in_provider_transfer",
    )
    list_select_related = ("user",)
    list_filter = (
        "outcome",
        "detected_intent",
        "resulted_in_appointment",
        "resulted_in_provider_transfer",
        "user__role",
    )
    search_fields = ("user__full_name", "user__email", "detected_intent")
    ordering = ("-interaction_timestamp",)
    date_hierarchy = "interaction_timestamp"
    fields = (
        "user",
        "interaction_timestamp",
        "input_text",
        "response_text",
        "detected_intent",
        "confidence_score",
        "resulted_in_appointment",
        "resulted_in_provider_transfer",
        "outcome",
        "conversation_id",
    )
    # Only shown read-only, but named so that a change form, should one ever
    # be allowed, would not load every user into a select.
    raw_id_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AIInteraction]:
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AIInteraction | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AIInteraction | None = None) -> bool:
        return False

    @admin.display(description=_("confidence"), ordering="confidence_score")
    def confidence(self, obj: AIInteraction) -> str:
        return f"{obj.confidence_score:.0%}"
