"""Is a session still good? One answer for HTTP middleware and websockets alike."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from accounts.middleware import past_absolute_limit
from accounts.models import User


def session_user(session_key: str | None) -> User | None:
    """The user signed in under this session key, or None once the session is no longer valid.

    Invalid means: expired by the idle timeout, past the absolute limit, signed
    out (here or "everywhere"), password changed, account disabled, or a
    provider/staff session without a verified second factor.
    """
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()  # an expired session loads as empty
    if not data:
        return None
    if past_absolute_limit(data):
        return None
    user = get_user(SimpleNamespace(session=store))  # checks the session hash
    if not user.is_authenticated or not user.is_active:
        return None
    if user.requires_mfa:
        device = Device.from_persistent_id(data.get(DEVICE_ID_SESSION_KEY) or "")
        if device is None or device.user_id != user.pk or not device.confirmed:
            return None
    return user
