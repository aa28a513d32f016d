"""The signed-in user, read with their portal profile in one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class PortalModelBackend(ModelBackend):
    """Django's password backend, except that the user of a session comes with their
    patient or provider profile joined in.

    Every portal page checks the profile (the role decorators) and most read it, so
    loading it with the user saves one query on each page.
    """

    def get_user(self, user_id: Any) -> Any:
        from accounts.models import User

        try:
            user = User._default_manager.select_related("patient_profile", "provider_profile").get(
                pk=user_id
            )
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
