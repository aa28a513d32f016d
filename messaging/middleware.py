"""The unread-messages badge in both portals' navigation."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from messaging.selectors import unread_count


class UnreadBadgeMiddleware:
    """Puts the user's unread count in request.portal_badges["messages"].

    accounts.context_processors.portal reads that dict for the navigation. The
    count is lazy: one query, and only when a page actually renders the badge
    (redirects and JSON responses cost nothing).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            badges = getattr(request, "portal_badges", None)
            if badges is None:
                badges = {}
                request.portal_badges = badges  # type: ignore[attr-defined]
            badges["messages"] = SimpleLazyObject(lambda: unread_count(user))
        return self.get_response(request)
