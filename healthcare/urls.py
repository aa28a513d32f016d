from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django_otp.admin import OTPAdminSite

from accounts.views import home
from healthcare import views

# The admin demands a verified second factor, like the provider portal.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Healthcare portal administration"
admin.site.site_title = "Healthcare portal admin"

# A pooled database that is busy for longer than its timeout answers 503 (retry), not 500.
handler500 = "healthcare.views.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Staff sign in through the portal's own sign-in, with lockout and the second factor.
    path(
        "admin/login/",
        RedirectView.as_view(url="/accounts/login/?next=/admin/", query_string=False),
        name="admin-login-redirect",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("patient/", include("patients.urls")),
    path("provider/", include("providers.urls")),
    path("appointments/", include("scheduling.urls")),
    path("records/", include("records.urls")),
    path("prescriptions/", include("prescriptions.urls")),
    path("messages/", include("messaging.urls")),
    path("assistant/", include("assistant.urls")),
    # FHIR R4 API (bearer tokens), SMART on FHIR sign-in (OAuth 2.0 / OpenID Connect), "Download my record".
    path("fhir/r4/", include("fhir_api.urls")),
    path("o/", include("fhir_api.oauth_urls")),
    path("my-record/", include("fhir_api.portal_urls")),
]
