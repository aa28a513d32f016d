"""django-oauth-toolkit hooks for SMART App Launch: fhirUser, launch/patient, offline_access."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.urls import reverse
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes

from fhir_api import scopes as smart


def fhir_base_from_uri(uri: str) -> str:
    """The FHIR base URL on the host the request came to (https://host/fhir/r4)."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}{reverse('fhir:metadata').removesuffix('/metadata')}"


def fhir_user_reference(user: Any) -> str | None:
    """ "Patient/<id>" or "Practitioner/<id>" for the signed-in user, None for anyone else."""
    profile = getattr(user, "patient_profile", None) if user.is_patient else None
    if profile is not None:
        return f"Patient/{profile.pk}"
    profile = getattr(user, "provider_profile", None) if user.is_provider else None
    if profile is not None:
        return f"Practitioner/{profile.pk}"
    return None


class SmartValidator(OAuth2Validator):
    # The fhirUser claim is released only with the fhirUser scope (SMART App Launch 2.0).
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "fhirUser": smart.FHIR_USER}

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        reference = fhir_user_reference(request.user)
        if reference is None:
            return {}
        return {"fhirUser": f"{fhir_base_from_uri(request.uri)}/{reference}"}

    def save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        scopes = set(request.scopes or [])
        # A refresh token only when the app asked for offline_access and the user agreed:
        # without it the app's access ends with its access token, an hour after consent.
        if smart.OFFLINE_ACCESS not in scopes:
            token.pop("refresh_token", None)
        result = super().save_bearer_token(token, request, *args, **kwargs)
        # SMART's launch context travels in the token response (the dict oauthlib returns).
        profile = (
            getattr(request.user, "patient_profile", None) if request.user.is_patient else None
        )
        if smart.LAUNCH_PATIENT in scopes and profile is not None:
            token["patient"] = str(profile.pk)
        return result


class SmartScopes(BaseScopes):
    """The SMART scopes of fhir_api.scopes; an app gets no scope it did not ask for."""

    def get_all_scopes(self) -> dict[str, str]:
        return smart.all_scopes()

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(smart.all_scopes())

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return [smart.OPENID]
