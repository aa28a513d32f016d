"""Patient/$everything: the patient's whole record as one paged list of resources.

The list is the patient, the clinicians it refers to, then each resource type
newest first. A page is cut from it with one COUNT per type and one query per
type that the page reaches (LIMIT/OFFSET), so a page costs the same however
large the record grows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import User
from fhir_api.api import TYPES
from fhir_api.selectors import api_patients
from patients.models import PatientProfile
from providers.models import ProviderProfile

ORDER = (
    "Patient",
    "Practitioner",
    "Appointment",
    "Encounter",
    "Condition",
    "MedicationRequest",
    "Communication",
)


@dataclass(frozen=True)
class Section:
    rows: QuerySet
    to_resource: Callable[[Any], dict[str, Any]]


def _practitioners_of(patient: PatientProfile) -> QuerySet[ProviderProfile]:
    """The clinicians the record refers to. One IN (subquery) per relation: OR-ing joins over
    several to-many relations would multiply their rows (appointments x records x ...)."""
    from prescriptions.models import Prescription
    from providers.models import ProviderPatient
    from records.models import MedicalRecord
    from scheduling.models import Appointment

    related = (
        Appointment.objects.filter(patient=patient),
        MedicalRecord.objects.filter(patient=patient),
        Prescription.objects.filter(patient=patient),
        ProviderPatient.objects.filter(patient=patient),
    )
    refers = Q(pk__in=[])
    for rows in related:
        refers |= Q(pk__in=rows.values("provider_id"))
    return (
        ProviderProfile.objects.filter(refers)
        .select_related("user")
        .order_by("user__full_name", "pk")
    )


def sections_for(
    user: User, patient: PatientProfile, *, allowed: Callable[[str], bool]
) -> list[Section]:
    """The parts of the record `user` may read (through the API selectors), in ORDER."""
    from fhir_api.api import Caller

    caller = Caller(
        user=user, application=None, scopes=frozenset(), token_key="", launch_patient=patient
    )
    sections = []
    for name in ORDER:
        if not allowed(name):
            continue
        if name == "Patient":
            rows: QuerySet = api_patients(user, only=patient)
        elif name == "Practitioner":
            rows = _practitioners_of(patient)
        else:
            spec = TYPES[name]
            # The caller is narrowed to this one patient, so every row below is theirs.
            rows = spec.rows(caller).order_by(*spec.search.order_by)
        sections.append(Section(rows=rows, to_resource=TYPES[name].to_resource))
    return sections


def everything_page(
    sections: list[Section], *, offset: int, count: int | None
) -> tuple[list[dict[str, Any]], int]:
    """The resources of one page (all when count is None) and the total."""
    counts = [section.rows.count() for section in sections]
    total = sum(counts)
    end = total if count is None else offset + count
    resources: list[dict[str, Any]] = []
    start_of_section = 0
    for section, size in zip(sections, counts, strict=True):
        lo, hi = max(offset - start_of_section, 0), min(end - start_of_section, size)
        if lo < hi:
            resources.extend(section.to_resource(row) for row in section.rows[lo:hi])
        start_of_section += size
        if start_of_section >= end:
            break
    return resources, total


def record_bundle_resources(user: User, patient: PatientProfile) -> list[dict[str, Any]]:
    """Everything about the patient, for "Download my record"."""
    resources, _total = everything_page(
        sections_for(user, patient, allowed=lambda name: True), offset=0, count=None
    )
    return resources


__all__ = ["ORDER", "everything_page", "record_bundle_resources", "sections_for"]
