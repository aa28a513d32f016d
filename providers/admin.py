from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Role, User
from patients.admin_access import PHIAccessLoggedAdmin
from patients.models import PHIResource
from providers.models import EmergencyLookupFailure, ProviderPatient, ProviderProfile
from providers.services import (
    emergency_lookup_failures_mark_reviewed,
    provider_invitation_resend,
    provider_invite,
)


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


class ProviderInviteForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254)
    credentials = forms.CharField(label=_("Credentials"), max_length=100, required=False)
    specialization = forms.CharField(label=_("Specialization"), max_length=100, required=False)
    department = forms.CharField(label=_("Department"), max_length=100, required=False)
    office_location = forms.CharField(label=_("Office location"), max_length=255, required=False)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise ValidationError(_("An account with this email already exists."), code="exists")
        return email


@admin.register(ProviderProfile)
class ProviderProfileAdmin(admin.ModelAdmin):
    form = ProviderProfileAdminForm
    change_list_template = "admin/providers/providerprofile/change_list.html"
    actions = ("resend_invitation",)
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

    def get_urls(self) -> list[URLPattern]:
        invite = path(
            "invite/",
            self.admin_site.admin_view(self.invite_view),
            name="providers_providerprofile_invite",
        )
        return [invite, *super().get_urls()]

    def invite_view(self, request: HttpRequest) -> HttpResponse:
        """Create a provider and email them a one-time link to choose their password."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ProviderInviteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            profile = provider_invite(base_url=request.build_absolute_uri("/"), **form.cleaned_data)
            self.message_user(
                request, _("Invitation sent to %(email)s.") % {"email": profile.user.email}, messages.SUCCESS
            )
            return redirect("admin:providers_providerprofile_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Invite a provider"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/providers/providerprofile/invite.html", context)

    @admin.action(description=_("Send the invitation email again"))
    def resend_invitation(self, request: HttpRequest, queryset: QuerySet[ProviderProfile]) -> None:
        base_url = request.build_absolute_uri("/")
        sent = sum(provider_invitation_resend(profile=p, base_url=base_url) for p in queryset.select_related("user"))
        self.message_user(
            request,
            _("%(sent)d invitation(s) sent; providers who already set a password were skipped.") % {"sent": sent},
            messages.SUCCESS,
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
class ProviderPatientAdmin(PHIAccessLoggedAdmin):
    phi_resource = PHIResource.PROFILE
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


@admin.register(EmergencyLookupFailure)
class EmergencyLookupFailureAdmin(admin.ModelAdmin):
    """Break-the-glass searches that matched no single patient: read-only; staff sign them off."""

    list_display = (
        "attempted_at",
        "provider",
        "outcome",
        "reason",
        "ip_address",
        "reviewed_at",
        "reviewed_by",
    )
    list_select_related = ("provider__user", "reviewed_by")
    list_filter = (("reviewed_at", admin.EmptyFieldListFilter), "outcome", "provider__department")
    search_fields = ("provider__user__full_name", "provider__user__email")
    ordering = ("-attempted_at",)
    date_hierarchy = "attempted_at"
    actions = ("mark_reviewed",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the portal's emergency access search

    def has_change_permission(
        self, request: HttpRequest, obj: EmergencyLookupFailure | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: EmergencyLookupFailure | None = None
    ) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        # Signing off is a change to the row, so it takes the change permission.
        return request.user.has_perm("providers.change_emergencylookupfailure")

    @admin.action(description=_("Mark selected as reviewed"), permissions=["review"])
    def mark_reviewed(
        self, request: HttpRequest, queryset: QuerySet[EmergencyLookupFailure]
    ) -> None:
        count = emergency_lookup_failures_mark_reviewed(failures=queryset, reviewer=request.user)
        self.message_user(
            request,
            ngettext(
                "Marked %(count)d failed lookup as reviewed.",
                "Marked %(count)d failed lookups as reviewed.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
