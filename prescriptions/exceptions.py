"""Domain errors of prescriptions and refill requests. Services raise them; views show `message`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class PrescriptionError(Exception):
    """Base class: `message` is safe to show to the user who asked."""

    default_message = _("This could not be done.")

    def __init__(self, message: object = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)


class NotAllowed(PrescriptionError):
    """The user may not do this for this patient (wrong role, or no active care relationship)."""

    default_message = _(
        "Only a provider in an active care relationship with the patient can change their prescriptions."
    )


class InvalidTransition(PrescriptionError):
    """The prescription or request is not in a state that allows this change."""

    default_message = _("This can no longer be changed.")


class RefillNotAllowed(PrescriptionError):
    """The patient may not ask for a refill of this prescription now."""

    default_message = _("A refill cannot be requested for this prescription.")


class RefillAlreadyPending(RefillNotAllowed):
    """A request for this prescription is already waiting for a decision."""

    default_message = _(
        "You already asked for a refill of this prescription; wait for your provider's decision."
    )


class RenewalRequired(PrescriptionError):
    """A refill cannot be approved (no refills left, or the course has ended): renew instead."""

    default_message = _(
        "No refills are left on this prescription, so the request cannot be approved. "
        "Renew the prescription instead: renewing writes a new prescription and approves the request."
    )
