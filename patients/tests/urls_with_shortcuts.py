"""The patient portal plus stand-ins for the pages its dashboard shortcuts point at."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, include, path

from patients.tests.urls_portal_only import urlpatterns as portal_urlpatterns


def _stand_in(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def _page(name: str) -> URLPattern:
    return path(f"{name}/", _stand_in, name=name)


urlpatterns = [
    *portal_urlpatterns,
    path("scheduling/", include(([_page("patient-book")], "scheduling"))),
    path("messaging/", include(([_page("compose")], "messaging"))),
    path("assistant/", include(([_page("chat")], "assistant"))),
]
