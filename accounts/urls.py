from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views
from accounts.forms import PasswordResetForm
from healthcare import ratelimits

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_otp, name="login-otp"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("verify/resend/", views.verify_resend, name="verify-resend"),
    path("verify/<str:token>/", views.verify_email, name="verify-email"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("security/", views.security, name="security"),
    path("security/sign-out-everywhere/", views.sign_out_everywhere, name="sign-out-everywhere"),
    path("mfa/setup/", views.mfa_setup, name="mfa-setup"),
    path("mfa/recovery-codes/", views.mfa_recovery_codes, name="mfa-recovery-codes"),
    path("mfa/recovery-codes/new/", views.mfa_recovery_codes_regenerate, name="mfa-recovery-codes-regenerate"),
    path("mfa/disable/", views.mfa_disable, name="mfa-disable"),
    path("security/confirm/", views.reauth, name="reauth"),
    path("security/email/", views.email_change, name="email-change"),
    path("email/confirm/<str:token>/", views.email_change_confirm, name="email-change-confirm"),
    path("session/keep-alive/", views.session_keep_alive, name="session-keep-alive"),
    path("password/change/", views.password_change, name="password-change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password-change-done",
    ),
    path(
        "password/reset/",
        # Each request emails a real person: limited per client address and per address typed.
        ratelimits.limit("password-reset", key=ratelimits.by_address)(
            ratelimits.limit("password-reset-email", key=ratelimits.by_posted_email)(
                auth_views.PasswordResetView.as_view(
                    template_name="accounts/password_reset.html",
                    form_class=PasswordResetForm,
                    email_template_name="accounts/email/password_reset.txt",
                    subject_template_name="accounts/email/password_reset_subject.txt",
                    success_url=reverse_lazy("accounts:password-reset-done"),
                )
            )
        ),
        name="password-reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password-reset-complete"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password-reset-complete",
    ),
]
