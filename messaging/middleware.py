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
            counter = _UnreadOnce(user)
            request.unread_messages = counter  # type: ignore[attr-defined]
            badges["messages"] = SimpleLazyObject(counter)
        return self.get_response(request)


class _UnreadOnce:
    """The user's unread count, counted on first use and kept for the rest of the request."""

    def __init__(self, user: object) -> None:
        self.user = user
        self.count: int | None = None

    def __call__(self) -> int:
        if self.count is None:
            self.count = unread_count(self.user)
        return self.count


def unread_count_of(request: HttpRequest) -> int:
    """The signed-in user's unread count; a page that shows it and the badge share one query.

    Only for reading before anything on the page marks messages read.
    """
    counter = getattr(request, "unread_messages", None)
    return counter() if counter is not None else unread_count(request.user)
