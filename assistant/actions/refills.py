"""Refills: a patient asks for one of their own prescriptions; a provider hears what is pending.

Through prescriptions' selectors and services, as the pages: only the
patient's own current prescriptions can be matched, the "refills left" and
"one pending request" rules are the service's, and a provider hears only the
requests of patients in their care.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assistant.actions.base import Action, Link, Outcome, Turn, page_link, slot_uuid
from assistant.actions.resolve import is_among, named_medication
from assistant.actions.scheduling import join_words
from assistant.nlu.intents import Intent
from patients.timezones import zone_of
from prescriptions.exceptions import PrescriptionError
from prescriptions.models import Prescription
from prescriptions.selectors import (
    pending_refills_for_provider,
    prescription_for_user,
    prescriptions_of_patient,
)
from prescriptions.services import refill_request_create
from providers.selectors import patients_of_provider

PENDING_LISTED = 5


def _name(prescription: Prescription) -> str:
    return f"{prescription.medication_name} {prescription.dosage}".strip()


def _prescription_links(prescription: Prescription) -> list[Link]:
    link = page_link(
        "prescriptions:prescription-detail",
        _("Your %(name)s prescription") % {"name": prescription.medication_name},
        prescription_id=prescription.pk,
    )
    return [link] if link else []


def _refills_left(prescription: Prescription) -> str:
    return ngettext("%(n)d refill left", "%(n)d refills left", prescription.refills) % {
        "n": prescription.refills
    }


class RequestRefill(Action):
    """Which prescription -> refills left, none pending? -> "ask for a refill?" -> yes -> requested."""

    intent = Intent.REFILL

    def start(self, turn: Turn) -> Outcome:
        slots = dict(turn.slots)
        lists = prescriptions_of_patient(turn.patient)
        current = lists.current
        list_link = page_link("prescriptions:patient-prescription-list", _("Your prescriptions"))
        links = [list_link] if list_link else []
        if not current:
            return Outcome(_("You have no active prescriptions to refill."), links=links)
        asked_for = named_medication(turn.text)
        if asked_for is not None and not is_among(asked_for, [*current, *lists.past]):
            return self._not_prescribed(turn, asked_for, current)
        prescription = self._chosen(turn, current, slots)
        if prescription is None:
            ended = turn.match_medication(lists.past)
            if ended is not None:
                return Outcome(
                    _(
                        "Your %(name)s prescription is no longer active, so it cannot be refilled. "
                        "Ask your provider to renew it."
                    )
                    % {"name": ended.medication_name},
                    links=_prescription_links(ended),
                )
            names = [_name(p) for p in current]
            text = _("Which prescription should I ask a refill of: %(names)s?") % {
                "names": join_words(names)
            }
            if turn.answering == "medication":
                text = _("I couldn't find that among your active prescriptions.") + " " + text
            return Outcome(
                text,
                ask="medication",
                slots=slots,
                suggestions=[p.medication_name for p in current],
            )
        # The service's rules, told before asking to confirm; it checks them again on yes.
        if prescription.refill_pending:
            return Outcome(
                _("You already asked for a refill of %(name)s; wait for your provider's decision.")
                % {"name": prescription.medication_name},
                links=_prescription_links(prescription),
            )
        if prescription.refills <= 0:
            return Outcome(
                _(
                    "No refills are left on your %(name)s prescription. Ask your provider to renew it."
                )
                % {"name": prescription.medication_name},
                links=_prescription_links(prescription),
            )
        slots["prescription_id"] = str(prescription.pk)
        return Outcome(
            _("Ask %(provider)s for a refill of %(name)s? You have %(left)s.")
            % {
                "provider": prescription.provider.display_name,
                "name": _name(prescription),
                "left": _refills_left(prescription),
            },
            confirm=True,
            slots=slots,
            suggestions=[_("Yes"), _("No")],
        )

    def confirmed(self, turn: Turn) -> Outcome:
        # Re-read through the policy-scoped selector: another patient's id finds nothing.
        prescription_id = slot_uuid(turn.slots.get("prescription_id"))
        prescription = (
            prescription_for_user(turn.user, prescription_id) if prescription_id else None
        )
        if prescription is None or prescription.patient.user_id != turn.user.pk:
            return Outcome(_("I couldn't find that prescription among yours."))
        try:
            refill_request_create(
                prescription=prescription,
                requested_by=turn.user,
                note=_("Requested through the assistant."),
            )
        except PrescriptionError as exc:
            return Outcome(exc.message, links=_prescription_links(prescription))
        except ValidationError as exc:
            return Outcome(" ".join(exc.messages))
        return Outcome(
            _(
                "Your refill request for %(name)s is sent to %(provider)s. "
                "You will see the decision on your prescription's page."
            )
            % {
                "name": prescription.medication_name,
                "provider": prescription.provider.display_name,
            },
            links=_prescription_links(prescription),
            result="refill_requested",
        )

    def declined(self, turn: Turn) -> Outcome:
        return Outcome(_("All right, I have not asked for a refill."))

    def _not_prescribed(self, turn: Turn, name: str, current: list[Prescription]) -> Outcome:
        """A medicine the patient has no prescription for: say so, list theirs, offer a message.

        Never another prescription of theirs in its place: "metformin" is not "Lisinopril".
        """
        text = _(
            "You have no prescription for %(name)s; your active prescriptions are %(names)s. "
            "Shall I message your provider?"
        ) % {"name": name, "names": join_words([_name(p) for p in current])}
        # Yes hands over to the transfer, which shows the exact message before sending it.
        slots = {
            "message": _(
                "Could I have a prescription for %(name)s? I asked the assistant for a refill."
            )
            % {"name": name}
        }
        prescribers = {p.provider_id for p in current}
        if len(prescribers) == 1:
            slots["provider_id"] = str(current[0].provider_id)
        return Outcome(
            text,
            confirm=True,
            slots=slots,
            suggestions=[_("Yes"), _("No")],
            hand_to=Intent.CONTACT_PROVIDER,
        )

    def _chosen(
        self, turn: Turn, current: list[Prescription], slots: dict[str, Any]
    ) -> Prescription | None:
        by_id = {str(p.pk): p for p in current}
        if slots.get("prescription_id") in by_id:
            return by_id[slots["prescription_id"]]
        named = turn.match_medication(current)
        if named is not None:
            return named
        if len(current) == 1 and turn.answering != "medication":
            return current[0]
        return None


class PendingRefills(Action):
    """A provider's refill requests waiting for a decision (only their own patients')."""

    intent = Intent.PENDING_REFILLS
    roles = frozenset({"provider"})

    def start(self, turn: Turn) -> Outcome:
        provider = turn.provider
        refills = pending_refills_for_provider(provider)
        page = page_link("prescriptions:provider-refill-list", _("Refill requests"))
        links = [page] if page else []
        # A name narrows the list, but only ever to a patient of this provider.
        named = turn.match_one(list(patients_of_provider(provider)))
        if named is not None:
            refills = [r for r in refills if r.patient_id == named.pk]
            if not refills:
                return Outcome(
                    _("%(name)s has no refill requests waiting.") % {"name": named.full_name},
                    links=links,
                )
        if not refills:
            return Outcome(_("You have no refill requests waiting."), links=links)
        tz = zone_of(provider)
        items = [
            _("%(patient)s, %(medication)s, asked %(day)s")
            % {
                "patient": r.patient.full_name,
                "medication": _name(r.prescription),
                "day": formats.date_format(r.created_at.astimezone(tz).date(), "l j F"),
            }
            for r in refills[:PENDING_LISTED]
        ]
        text = ngettext(
            "You have %(count)d refill request waiting: %(items)s.",
            "You have %(count)d refill requests waiting: %(items)s.",
            len(refills),
        ) % {"count": len(refills), "items": "; ".join(items)}
        if len(refills) > PENDING_LISTED:
            text += " " + _("The oldest are first; the rest are on the Refill requests page.")
        return Outcome(text, links=links)
