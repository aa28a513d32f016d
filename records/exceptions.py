"""Domain errors of medical records. Services raise them; views turn them into responses."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class RecordsError(Exception):
    """Base class: `message` is safe to show to the user who asked."""

    default_message = _("This could not be done.")

    def __init__(self, message: object = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)


class NotAllowed(RecordsError):
    """The user may not write this record (no active care relationship, or not its author)."""

    default_message = _(
        "Only a provider in an active care relationship with the patient can write to their record."
    )
