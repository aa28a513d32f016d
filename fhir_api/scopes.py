"""SMART on FHIR scopes: what an app may ask for, what it means in plain words, what it grants.

SMART v2 scopes (`patient/Appointment.rs`) and their v1 spelling
(`patient/Appointment.read`) are both accepted. `patient/` scopes reach the
patient in the token's launch context (a patient's own record); `user/` scopes
reach what the signed-in user may see in the portal (a provider's patients in an
active care relationship, or a patient's own record). This server is read-only:
only `r` (read) and `s` (search) are granted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Every resource type the API serves, with how the consent page names it.
RESOURCE_TYPES: dict[str, str] = {
    "Patient": _("your demographics and contact details"),
    "Practitioner": _("the practice's clinicians"),
    "PractitionerRole": _("the clinicians' specialties, departments and offices"),
    "Appointment": _("your appointments"),
    "Encounter": _("your visits"),
    "Condition": _("your diagnoses"),
    "MedicationRequest": _("your prescriptions"),
    "Communication": _("your messages with your care team"),
}
# Types that carry a patient's data (read through the patient policy, logged).
PATIENT_DATA_TYPES = frozenset(RESOURCE_TYPES) - {"Practitioner", "PractitionerRole"}

OPENID = "openid"
FHIR_USER = "fhirUser"
LAUNCH_PATIENT = "launch/patient"
OFFLINE_ACCESS = "offline_access"

_SCOPE = re.compile(r"^(?P<context>patient|user)/(?P<type>\*|[A-Za-z]+)\.(?P<perms>read|[cruds]+)$")


@dataclass(frozen=True)
class ResourceScope:
    context: str  # "patient" or "user"
    resource_type: str  # a type or "*"
    read: bool
    search: bool

    def covers(self, resource_type: str) -> bool:
        return self.resource_type in ("*", resource_type)


def parse_scope(scope: str) -> ResourceScope | None:
    """A resource scope, or None for anything else (openid, launch/patient...)."""
    match = _SCOPE.match(scope)
    if match is None:
        return None
    perms = match["perms"]
    if perms == "read":  # SMART v1: read and search
        return ResourceScope(match["context"], match["type"], True, True)
    return ResourceScope(match["context"], match["type"], "r" in perms, "s" in perms)


def _describe_resource_scope(parsed: ResourceScope) -> str:
    what = (
        _("all of your health record")
        if parsed.resource_type == "*"
        else RESOURCE_TYPES[parsed.resource_type]
    )
    if parsed.context == "user":
        if parsed.resource_type == "*":
            what = _("everything you can see in the portal, including your patients' records")
        else:
            what = _("%(what)s, for every patient you can see in the portal") % {"what": what}
    return _("Read %(what)s") % {"what": what}


def all_scopes() -> dict[str, str]:
    """Every scope this server grants, with its plain-words description (the DOT scopes backend)."""
    scopes: dict[str, str] = {
        OPENID: str(_("Confirm who you are (your portal account)")),
        FHIR_USER: str(_("Know which person you are in the health record")),
        LAUNCH_PATIENT: str(_("Know which patient's record it is working with")),
        OFFLINE_ACCESS: str(
            _("Keep reading while you are away, until you disconnect the app on your Security page")
        ),
    }
    for context in ("patient", "user"):
        for resource_type in ("*", *RESOURCE_TYPES):
            for perms in ("read", "rs", "r", "s"):
                name = f"{context}/{resource_type}.{perms}"
                parsed = parse_scope(name)
                assert parsed is not None
                scopes[name] = str(_describe_resource_scope(parsed))
    return scopes


def describe(scope: str) -> str:
    """The consent page's plain-words line for one scope."""
    parsed = parse_scope(scope)
    if parsed is not None and (
        parsed.resource_type == "*" or parsed.resource_type in RESOURCE_TYPES
    ):
        return str(_describe_resource_scope(parsed))
    return all_scopes().get(scope, scope)


def grants(scopes: list[str] | set[str], *, resource_type: str, context: str, search: bool) -> bool:
    """True when one of the scopes allows reading (or searching) `resource_type` in `context`."""
    for scope in scopes:
        parsed = parse_scope(scope)
        if parsed is None or parsed.context != context or not parsed.covers(resource_type):
            continue
        if parsed.search if search else parsed.read:
            return True
    return False
