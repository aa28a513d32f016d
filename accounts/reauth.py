"""Recent re-authentication before a change to how an account signs in.

A signed-in session is not enough to add or replace an authenticator, turn
two-step sign-in off, make new recovery codes, or change the email or the
password: the person types the password again and, when two-step sign-in is
on, a current code. A success is good for REAUTH_VALID_SECONDS, kept in the
session with its time, so a few changes in a row ask only once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

REAUTH_AT_KEY = "accounts_reauth_at"

View = Callable[..., HttpResponse]


def reauth_is_recent(request: HttpRequest) -> bool:
    stamped = request.session.get(REAUTH_AT_KEY)
    return (
        stamped is not None and 0 <= time.time() - float(stamped) <= settings.REAUTH_VALID_SECONDS
    )


def reauth_mark(request: HttpRequest) -> None:
    request.session[REAUTH_AT_KEY] = time.time()


def reauth_url(next_url: str) -> str:
    return reverse("accounts:reauth") + "?" + urlencode({"next": next_url})


def reauth_redirect(request: HttpRequest) -> HttpResponse:
    """To the re-authentication page, and back here afterwards.

    A form sent without a recent re-authentication is not carried out: the
    person confirms who they are and then sends it again from the page it
    came from (a POST cannot be replayed by a redirect).
    """
    if request.method in ("GET", "HEAD"):
        return redirect(reauth_url(request.get_full_path()))
    messages.info(request, _("Please confirm it is you, then try again."))
    return redirect(reauth_url(reverse("accounts:security")))


def reauth_required(view: View) -> View:
    """The view runs only within REAUTH_VALID_SECONDS of a re-authentication in this session."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not reauth_is_recent(request):
            return reauth_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper
