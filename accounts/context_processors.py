"""Template context shared by both portals: navigation and session timing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

# (url name, label, key). Entries whose URL does not exist yet are left out, so
# an area appears in the navigation as soon as its app provides the page.
_NAV: dict[str, list[tuple[str, Any, str]]] = {
    Role.PATIENT: [
        ("patients:dashboard", _("Dashboard"), "dashboard"),
        ("scheduling:patient-appointments", _("Appointments"), "appointments"),
        ("records:patient-record-list", _("Records"), "records"),
        ("prescriptions:patient-prescription-list", _("Prescriptions"), "prescriptions"),
        ("messaging:inbox", _("Messages"), "messages"),
        ("assistant:chat", _("Assistant"), "assistant"),
        ("patients:profile", _("Profile"), "profile"),
        ("accounts:security", _("Security"), "security"),
    ],
    Role.PROVIDER: [
        ("providers:dashboard", _("Dashboard"), "dashboard"),
        ("scheduling:provider-calendar", _("Schedule"), "schedule"),
        ("providers:patient-list", _("Patients"), "patients"),
        ("prescriptions:provider-refill-list", _("Refills"), "refills"),
        ("messaging:inbox", _("Messages"), "messages"),
        ("assistant:chat", _("Assistant"), "assistant"),
        ("providers:profile", _("Profile"), "profile"),
        ("accounts:security", _("Security"), "security"),
    ],
}


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    active: bool
    badge: int = 0


@lru_cache(maxsize=16)
def _resolved_under(role: str, prefix: str, urlconf: str) -> tuple[tuple[str, Any, str], ...]:
    return _resolved(role)


def _resolved(role: str) -> tuple[tuple[str, Any, str], ...]:
    items = []
    for name, label, key in _NAV.get(role, []):
        try:
            items.append((reverse(name), label, key))
        except NoReverseMatch:
            continue
    return tuple(items)


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    badges: dict[str, int] = getattr(request, "portal_badges", {})
    path = request.path
    nav = [
        NavItem(
            key=key,
            label=str(label),
            url=url,
            # The dashboard is the portal root; every other area owns its prefix.
            active=(path == url) if key == "dashboard" else path.startswith(url),
            badge=badges.get(key, 0),
        )
        # Reversed once per role, script prefix and URLconf: none changes while serving.
        for url, label, key in _resolved_under(
            user.role, get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF)
        )
    ]
    return {
        "portal_nav": nav,
        "session_idle_seconds": settings.SESSION_COOKIE_AGE,
        "session_idle_warning_seconds": settings.SESSION_IDLE_WARNING_SECONDS,
    }
