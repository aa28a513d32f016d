"""The OAuth 2.0 / OpenID Connect endpoints of django-oauth-toolkit that SMART apps use.

Only these: no self-service app registration (administrators register apps in
the admin), no device flow, no dynamic registration. The authorize endpoint is
the portal's own consent page.
"""

from __future__ import annotations

from django.urls import URLPattern, path
from oauth2_provider import views as oauth

from fhir_api import views

app_name = "oauth2_provider"

urlpatterns: list[URLPattern] = [
    path("authorize/", views.ConsentView.as_view(), name="authorize"),
    path("token/", oauth.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth.RevokeTokenView.as_view(), name="revoke-token"),
    path(
        ".well-known/openid-configuration",
        oauth.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", oauth.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", oauth.UserInfoView.as_view(), name="user-info"),
]
