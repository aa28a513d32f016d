from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from providers.models import ProviderPatient, ProviderProfile


class ProviderProfileAdminForm(forms.ModelForm):
    class Meta:
        model = ProviderProfile
        fields = (
            "user",
            "credentials",
            "license_number",
            "specialization",
            "department",
            "office_location",
            "working_hours",
        )

    def clean_user(self) -> User:
        user: User = self.cleaned_data["user"]
        if user.role != Role.PROVIDER:
            raise ValidationError(_("Choose an account with the provider role."), code="role")
        return user


@admin.register(ProviderProfile)
class ProviderProfileAdmin(admin.ModelAdmin):
    form = ProviderProfileAdminForm
    list_display = (
        "full_name",
        "email",
        "credentials",
        "specialization",
        "department",
        "license_number",
        "office_location",
    )
    list_select_related = ("user",)
    list_filter = ("department", "specialization", "user__is_active")
    search_fields = (
        "user__full_name",
        "user__email",
        "license_number",
        "specialization",
        "department",
    )
    ordering = ("user__full_name",)
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    fieldsets = (
        (None, {"fields": ("user", "credentials", "license_number")}),
        (_("Practice"), {"fields": ("specialization", "department", "office_location")}),
        (_("Schedule"), {"fields": ("working_hours",)}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProviderProfile]:
        # str() of a profile is the user's name: the change page, history and
        # the autocomplete used by other admins all need the user.
        return super().get_queryset(request).select_related("user")

    def get_readonly_fields(
        self, request: HttpRequest, obj: ProviderProfile | None = None
    ) -> tuple[str, ...]:
        readonly = ("created_at", "updated_at")
        # Moving a profile to another account would move its records with it.
        return ("user", *readonly) if obj else readonly

    def has_delete_permission(
        self, request: HttpRequest, obj: ProviderProfile | None = None
    ) -> bool:
        return False  # clinical data must survive; the account is deactivated instead

    @admin.display(description=_("full name"), ordering="user__full_name")
    def full_name(self, obj: ProviderProfile) -> str:
        return obj.user.full_name

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj: ProviderProfile) -> str:
        return obj.user.email


@admin.register(ProviderPatient)
class ProviderPatientAdmin(admin.ModelAdmin):
    list_display = ("provider", "patient", "status", "relationship_start_date", "updated_at")
    list_select_related = ("provider__user", "patient__user")
    # Filters by department rather than by provider: a provider filter would
    # list every provider on every page load.
    list_filter = ("status", "provider__department")
    search_fields = (
        "provider__user__full_name",
        "provider__user__email",
        "patient__user__full_name",
        "patient__user__email",
    )
    ordering = ("-relationship_start_date",)
    date_hierarchy = "relationship_start_date"
    autocomplete_fields = ("provider", "patient")
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProviderPatient]:
        return super().get_queryset(request).select_related("provider__user", "patient__user")

    def has_delete_permission(
        self, request: HttpRequest, obj: ProviderPatient | None = None
    ) -> bool:
        # Who had access to a patient and when is part of the record; a
        # relationship ends by setting it inactive.
        return False
