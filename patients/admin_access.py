"""Staff reads of PHI in the admin go into the same access log as providers' reads.

Mixed into every ModelAdmin of a table holding patient data. A change view
or history view logs the patients of its object; a changelist logs the
patients on the page shown once a search or filter narrows it (a look for
someone in particular). One bulk insert per page, whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse

from healthcare.net import client_ip
from patients.services import phi_accesses_record_bulk

# Changelist parameters that only page, sort or pick a layout: not a search for someone.
_NON_FILTER_PARAMS = {"p", "o", "all", "e", "_popup", "_to_field", "_changelist_filters"}


class PHIAccessLoggedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose reads are written to the PHI access log.

    `phi_resource` is what the patient sees as "what" in "who viewed my
    record"; `phi_patient_paths` lead from a row to PatientProfile ids
    ("" when the row is the profile itself; several for messages).
    """

    phi_resource: str = ""
    phi_patient_paths: tuple[str, ...] = ("patient",)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            self._log_phi_read(request, [unquote(object_id)], object_id=unquote(object_id))
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            self._log_phi_read(request, [unquote(object_id)], object_id=unquote(object_id))
        return response

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) and response.context_data.get("cl")
        if response.status_code == 200 and changelist is not None and _narrowed(request):
            self._log_phi_read(request, [row.pk for row in changelist.result_list])
        return response

    def _log_phi_read(
        self, request: HttpRequest, pks: Iterable[object], object_id: object = ""
    ) -> None:
        pks = list(pks)
        if not pks:
            return
        patient_ids: list[object] = []
        for path in self.phi_patient_paths:
            column = path or "pk"
            rows = self.model._default_manager.filter(pk__in=pks).values_list(column, flat=True)
            patient_ids.extend(pk for pk in rows if pk is not None)
        phi_accesses_record_bulk(
            accessor=request.user,
            patient_ids=patient_ids,
            resource=self.phi_resource or self.model._meta.model_name,
            object_id=object_id,
            ip_address=client_ip(request),
        )


def _narrowed(request: HttpRequest) -> bool:
    return any(key not in _NON_FILTER_PARAMS for key in request.GET)
