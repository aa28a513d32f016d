from __future__ import annotations

from auditlog import get_logentry_model
from auditlog.admin import LogEntryAdmin as AuditlogLogEntryAdmin
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.services import user_deactivate
from patients.admin_access import PHIAccessLoggedAdmin
from patients.models import PHIResource


class UserAdminCreationForm(AdminUserCreationForm):
    """Django's admin add-user form, for a user whose username is the email address."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email", "full_name", "phone_number", "role")


class UserAdminChangeForm(UserChangeForm):
    """Django's change-user form (read-only password hash and its reset link) for our User."""

    class Meta(UserChangeForm.Meta):
        model = User
        fields = (
            "email",
            "full_name",
            "phone_number",
            "role",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )


@admin.register(User)
class UserAdmin(PHIAccessLoggedAdmin, DjangoUserAdmin):
    # A patient's account holds their name, email and phone; other accounts log nothing.
    phi_resource = PHIResource.PROFILE
    phi_patient_paths = ("patient_profile",)
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "phone_number", "role")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (
            _("Important dates"),
            {"fields": ("email_verified_at", "last_login", "created_at", "updated_at")},
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "phone_number",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    # Set by the sign-in and verification flows, never typed in.
    readonly_fields = ("email_verified_at", "last_login", "created_at", "updated_at")
    list_display = (
        "email",
        "full_name",
        "role",
        "is_active",
        "is_staff",
        "last_login",
        "created_at",
    )
    list_filter = ("role", "is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "full_name", "phone_number")
    ordering = ("full_name", "email")
    date_hierarchy = "created_at"
    actions = ("deactivate_selected_accounts",)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        readonly = tuple(self.readonly_fields)
        if obj is not None and not request.user.is_superuser:
            # Staff allowed to edit accounts must not be able to grant
            # themselves (or anyone) more power than they hold.
            return (*readonly, "is_staff", "is_superuser", "groups", "user_permissions")
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Accounts own clinical data (profiles, records, messages) that must
        # survive; an account that should no longer sign in is deactivated.
        return False

    @admin.action(description=_("Deactivate selected accounts"), permissions=["change"])
    def deactivate_selected_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        deactivated = 0
        for user in queryset.filter(is_active=True):
            if user.pk == request.user.pk:
                # Switching oneself off ends this session and may leave no one
                # able to undo it.
                self.message_user(
                    request, _("You cannot deactivate your own account."), messages.WARNING
                )
                continue
            user_deactivate(user=user)
            deactivated += 1
        self.message_user(
            request,
            ngettext(
                "Deactivated %(count)d account.", "Deactivated %(count)d accounts.", deactivated
            )
            % {"count": deactivated},
            messages.SUCCESS,
        )


# auditlog's own LogEntry admin (read-only, kept as it is) searches
# actor__first_name and actor__last_name, which this User does not have: any
# search there ends in a FieldError. Same admin, searching the fields we have.
LogEntry = get_logentry_model()
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class LogEntryAdmin(AuditlogLogEntryAdmin):
    search_fields = ["timestamp", "object_repr", "changes", "actor__full_name", "actor__email"]
