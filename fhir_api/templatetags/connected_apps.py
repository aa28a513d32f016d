"""{% connected_apps_of user as apps %}: the Security page's list, from fhir_api.selectors.

A template tag keeps the Security view (accounts) unaware of the FHIR app."""

from __future__ import annotations

from typing import Any

from django import template

from fhir_api.selectors import connected_apps_of as _connected_apps_of

register = template.Library()


@register.simple_tag
def connected_apps_of(user: Any) -> list[dict[str, object]]:
    return _connected_apps_of(user)
