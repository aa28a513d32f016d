"""Every page shows times in the zone of the person reading it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from patients.timezones import SESSION_KEY, viewing_as, zone_for_user, zone_named


class ViewerTimeZoneMiddleware:
    """Makes the signed-in user's zone the one every time on the page is shown in.

    The zone's name is kept in the session, so only the first request of a
    session looks it up (and only if that page shows a time); pages where the
    user changes it write the new name there too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        known = zone_named(request.session.get(SESSION_KEY))
        if known is not None:
            with viewing_as(known):
                return self.get_response(request)

        def find() -> dt.tzinfo:
            zone = zone_for_user(user)
            request.session[SESSION_KEY] = str(getattr(zone, "key", "UTC"))
            return zone

        with viewing_as(find):
            return self.get_response(request)


def remember_zone(request: HttpRequest, name: str) -> None:
    """After the user picks another zone: the next page uses it at once."""
    request.session[SESSION_KEY] = name
