from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from patients.admin_access import PHIAccessLoggedAdmin
from patients.models import (
    DuplicateStatus,
    EmergencyAccess,
    PatientProfile,
    PHIAccess,
    PHIResource,
    PossibleDuplicate,
)
from patients.services import (
    emergency_access_mark_reviewed,
    patient_set_ssn,
    patient_ssn_check,
    possible_duplicate_resolve,
)


class WriteOnlyTextInput(forms.TextInput):
    """A text box that never writes a value into the page, not even the one just submitted."""

    def format_value(self, value: Any) -> None:
        return None


class PatientProfileAdminForm(forms.ModelForm):
    # Not the model field: the SSN can be replaced here but is never sent back
    # to the browser. The model's ssn and ssn_hash stay out of Meta.fields and
    # are written only by patient_set_ssn, which keeps the two in step.
    ssn = forms.CharField(
        label=_("New SSN"),
        required=False,
        strip=True,
        widget=WriteOnlyTextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = PatientProfile
        fields = (
            "user",
            "date_of_birth",
            "insurance_number",
            "address",
            "emergency_contact",
            "emergency_contact_phone",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        on_file = self.instance.ssn_masked
        if on_file:
            self.fields["ssn"].help_text = gettext(
                "On file: %(masked)s. Leave blank to keep it."
            ) % {"masked": on_file}
        else:
            self.fields["ssn"].help_text = gettext(
                "No SSN on file. Leave blank to keep it that way."
            )

    def clean_user(self) -> User:
        user: User = self.cleaned_data["user"]
        if user.role != Role.PATIENT:
            raise ValidationError(_("Choose an account with the patient role."), code="role")
        return user

    def clean_ssn(self) -> str:
        raw: str = self.cleaned_data["ssn"]
        if not raw:
            return ""
        # The same check patient_set_ssn makes on save, run here so the error
        # lands on this field; the unique index on ssn_hash settles any race.
        ssn, _digest = patient_ssn_check(raw, exclude_pk=self.instance.pk)
        return ssn


@admin.register(PatientProfile)
class PatientProfileAdmin(PHIAccessLoggedAdmin):
    phi_resource = PHIResource.PROFILE
    phi_patient_paths = ("",)
    form = PatientProfileAdminForm
    # The admin builds the form's field list from its fieldsets, which name the
    # write-only `ssn` input; only an exclude stops the form from also copying
    # that input onto the model field (a blank entry would erase the SSN).
    exclude = ("ssn", "ssn_hash")
    list_display = (
        "full_name",
        "email",
        "date_of_birth",
        "insurance_number",
        "ssn_on_file",
        "created_at",
    )
    list_select_related = ("user",)
    list_filter = ("user__is_active",)
    # Never the SSN or its hash: a search box must not become a way to test
    # whether a given SSN is on file.
    search_fields = ("user__full_name", "user__email", "insurance_number")
    ordering = ("user__full_name",)
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    fieldsets = (
        (None, {"fields": ("user", "date_of_birth", "insurance_number")}),
        (_("Social Security number"), {"fields": ("ssn_on_file", "ssn")}),
        (_("Contact"), {"fields": ("address", "emergency_contact", "emergency_contact_phone")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PatientProfile]:
        # str() of a profile is the user's name: the change page, history and
        # the autocomplete used by other admins all need the user.
        return super().get_queryset(request).select_related("user")

    def get_readonly_fields(
        self, request: HttpRequest, obj: PatientProfile | None = None
    ) -> tuple[str, ...]:
        readonly = ("ssn_on_file", "created_at", "updated_at")
        # A profile is its patient's: moving it to another account would hand
        # one person's history to someone else.
        return ("user", *readonly) if obj else readonly

    def has_delete_permission(
        self, request: HttpRequest, obj: PatientProfile | None = None
    ) -> bool:
        return False  # clinical data must survive; the account is deactivated instead

    @admin.display(description=_("full name"), ordering="user__full_name")
    def full_name(self, obj: PatientProfile) -> str:
        return obj.user.full_name

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj: PatientProfile) -> str:
        return obj.user.email

    @admin.display(description=_("SSN"))
    def ssn_on_file(self, obj: PatientProfile) -> str:
        return obj.ssn_masked

    def save_model(
        self, request: HttpRequest, obj: PatientProfile, form: PatientProfileAdminForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        # The row exists now (also when adding), which patient_set_ssn needs.
        # The admin runs the whole save in one transaction, so a refusal here
        # leaves nothing half-written.
        if new_ssn := form.cleaned_data.get("ssn"):
            patient_set_ssn(profile=obj, ssn=new_ssn)


@admin.register(PHIAccess)
class PHIAccessAdmin(admin.ModelAdmin):
    """Read-only: the HIPAA access log is evidence, so nobody edits or removes it."""

    list_display = ("accessed_at", "accessor", "patient", "resource", "emergency", "ip_address")
    list_select_related = ("accessor", "patient__user")
    list_filter = ("emergency", "resource", "accessor__role", "accessed_at")
    search_fields = (
        "accessor__full_name",
        "accessor__email",
        "patient__user__full_name",
        "patient__user__email",
    )
    ordering = ("-accessed_at",)
    date_hierarchy = "accessed_at"
    raw_id_fields = ("accessor", "patient")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PHIAccess]:
        return super().get_queryset(request).select_related("accessor", "patient__user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PHIAccess | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PHIAccess | None = None) -> bool:
        return False


REASON_EXCERPT_LENGTH = 60


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(PHIAccessLoggedAdmin):
    """Break-the-glass grants: read-only, except that staff sign them off as reviewed."""

    # The written reason describes the patient's emergency.
    phi_resource = "emergency_access"

    list_display = (
        "granted_at",
        "provider",
        "patient",
        "reason_excerpt",
        "expires_at",
        "reviewed",
        "reviewed_at",
        "reviewed_by",
    )
    list_select_related = ("provider__user", "patient__user", "reviewed_by")
    list_filter = (("reviewed_at", admin.EmptyFieldListFilter), "provider__department")
    search_fields = (
        "provider__user__full_name",
        "provider__user__email",
        "patient__user__full_name",
        "patient__user__email",
        "reason",
    )
    ordering = ("-granted_at",)
    date_hierarchy = "granted_at"
    raw_id_fields = ("provider", "patient", "reviewed_by")
    actions = ("mark_reviewed",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[EmergencyAccess]:
        return (
            super()
            .get_queryset(request)
            .select_related("provider__user", "patient__user", "reviewed_by")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # granted by the provider, with a reason, from the portal

    def has_change_permission(
        self, request: HttpRequest, obj: EmergencyAccess | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: EmergencyAccess | None = None
    ) -> bool:
        return False

    @admin.display(description=_("reason"))
    def reason_excerpt(self, obj: EmergencyAccess) -> str:
        return Truncator(obj.reason).chars(REASON_EXCERPT_LENGTH)

    @admin.display(description=_("reviewed"), boolean=True, ordering="reviewed_at")
    def reviewed(self, obj: EmergencyAccess) -> bool:
        return obj.reviewed_at is not None

    def has_review_permission(self, request: HttpRequest) -> bool:
        # The rows are not editable, but signing them off is a change: it takes
        # the model's change permission from the auth system.
        return request.user.has_perm("patients.change_emergencyaccess")

    @admin.action(description=_("Mark selected as reviewed"), permissions=["review"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[EmergencyAccess]) -> None:
        pending = queryset.filter(reviewed_at__isnull=True)
        count = 0
        for access in pending:
            emergency_access_mark_reviewed(access=access, reviewer=request.user)
            count += 1
        self.message_user(
            request,
            ngettext(
                "Marked %(count)d emergency access as reviewed.",
                "Marked %(count)d emergency accesses as reviewed.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


def _profile_facts(profile: PatientProfile) -> list[tuple[str, str]]:
    """What staff compare to tell whether two profiles are one person (SSN masked)."""
    user = profile.user
    return [
        (gettext("Name"), user.full_name),
        (gettext("Email"), user.email),
        (gettext("Date of birth"), profile.date_of_birth.isoformat()),
        (gettext("Phone"), user.phone_number),
        (gettext("Address"), profile.address),
        (gettext("Insurance number"), profile.insurance_number),
        (gettext("SSN"), profile.ssn_masked),
        (gettext("Account created"), f"{profile.created_at:%Y-%m-%d %H:%M} UTC"),
        (gettext("Email confirmed"), gettext("yes") if user.email_verified_at else gettext("no")),
        (gettext("Account active"), gettext("yes") if user.is_active else gettext("no")),
    ]


@admin.register(PossibleDuplicate)
class PossibleDuplicateAdmin(PHIAccessLoggedAdmin):
    """Profiles that hold the same SSN, side by side for staff to decide.

    Read-only; staff close a pair with the actions "not a duplicate" or
    "resolved" (after merging or correcting the records elsewhere).
    """

    phi_resource = PHIResource.PROFILE
    phi_patient_paths = ("patient", "existing")
    list_display = (
        "detected_at",
        "patient_summary",
        "existing_summary",
        "source",
        "status",
        "resolved_by",
    )
    list_filter = ("status", "source")
    # Never the SSN: only names and emails of the two profiles.
    search_fields = (
        "patient__user__full_name",
        "patient__user__email",
        "existing__user__full_name",
        "existing__user__email",
    )
    ordering = ("-detected_at",)
    fields = ("side_by_side", "source", "status", "detected_at", "resolved_at", "resolved_by")
    readonly_fields = fields
    actions = ("mark_not_duplicate", "mark_resolved")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PossibleDuplicate]:
        return (
            super()
            .get_queryset(request)
            .select_related("patient__user", "existing__user", "resolved_by")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # flagged by the services when a second profile enters a number

    def has_change_permission(
        self, request: HttpRequest, obj: PossibleDuplicate | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: PossibleDuplicate | None = None
    ) -> bool:
        return False

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("patients.change_possibleduplicate")

    @staticmethod
    def _summary(profile: PatientProfile) -> str:
        return format_html(
            "{}<br><small>{} · {} · {}</small>",
            profile.user.full_name,
            profile.user.email,
            profile.date_of_birth.isoformat(),
            profile.ssn_masked,
        )

    @admin.display(description=_("profile that entered the number"))
    def patient_summary(self, obj: PossibleDuplicate) -> str:
        return self._summary(obj.patient)

    @admin.display(description=_("profile that already had it"))
    def existing_summary(self, obj: PossibleDuplicate) -> str:
        return self._summary(obj.existing)

    @admin.display(description=_("the two profiles"))
    def side_by_side(self, obj: PossibleDuplicate) -> str:
        left, right = _profile_facts(obj.patient), _profile_facts(obj.existing)
        rows = format_html_join(
            "",
            '<tr><th scope="row">{}</th><td>{}</td><td>{}</td></tr>',
            ((label, a, b) for (label, a), (_label, b) in zip(left, right, strict=True)),
        )
        links = format_html(
            '<tr><th scope="row">{}</th><td><a href="{}">{}</a></td><td><a href="{}">{}</a></td></tr>',
            gettext("Open"),
            reverse("admin:patients_patientprofile_change", args=[obj.patient_id]),
            gettext("Profile that entered the number"),
            reverse("admin:patients_patientprofile_change", args=[obj.existing_id]),
            gettext("Profile that already had it"),
        )
        return format_html(
            '<table class="possible-duplicate"><thead><tr><td></td>'
            '<th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{}{}</tbody></table>',
            gettext("Entered the number"),
            gettext("Already had it"),
            rows,
            links,
        )

    def _close(
        self, request: HttpRequest, queryset: QuerySet[PossibleDuplicate], status: str
    ) -> None:
        count = 0
        for duplicate in queryset.filter(status=DuplicateStatus.OPEN):
            possible_duplicate_resolve(duplicate=duplicate, status=status, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("Closed %(count)d pair.", "Closed %(count)d pairs.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark selected as not a duplicate"), permissions=["resolve"])
    def mark_not_duplicate(
        self, request: HttpRequest, queryset: QuerySet[PossibleDuplicate]
    ) -> None:
        self._close(request, queryset, DuplicateStatus.NOT_DUPLICATE)

    @admin.action(description=_("Mark selected as resolved"), permissions=["resolve"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[PossibleDuplicate]) -> None:
        self._close(request, queryset, DuplicateStatus.RESOLVED)
