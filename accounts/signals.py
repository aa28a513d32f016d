"""Stamp every sign-in so the session's absolute limit can be enforced."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.middleware import LOGIN_AT_SESSION_KEY


@receiver(user_logged_in)
def _stamp_login_time(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_SESSION_KEY] = time.time()
