"""Input validation for writing messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from messaging.models import MESSAGE_MAX_LENGTH
from messaging.selectors import messageable_users
from messaging.services import clean_content


class RecipientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        profile = getattr(obj, "provider_profile", None) if obj.role == Role.PROVIDER else None
        if profile is not None:
            detail = profile.specialization or obj.get_role_display()
            return f"{profile.display_name} ({detail})"
        return f"{obj.full_name} ({obj.get_role_display()})"


class MessageForm(forms.Form):
    # No max_length here: browsers send line breaks as two characters, so the
    # limit is checked on the text as stored (clean_content), not as posted.
    content = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX_LENGTH}),
        help_text=_("Plain text, up to %(limit)d characters. Line breaks are kept.")
        % {"limit": MESSAGE_MAX_LENGTH},
    )

    def clean_content(self) -> str:
        try:
            return clean_content(self.cleaned_data["content"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["content"]) from error

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's refusal next to the fields it names, the rest above the form."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)


def _refusal_for(sender: User) -> str:
    if sender.role == Role.PATIENT:
        return str(_("You can only message providers who are currently caring for you."))
    return str(_("You can only message your own patients and other providers."))


class ComposeForm(MessageForm):
    recipient = RecipientChoiceField(
        queryset=User.objects.none(), label=_("To"), empty_label=_("Choose who to write to")
    )

    field_order = ["recipient", "content"]

    def __init__(self, *args: Any, sender: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recipient = self.fields["recipient"]
        recipient.queryset = messageable_users(sender)
        # Someone outside the list is refused with the rule, not "select a valid choice".
        recipient.error_messages["invalid_choice"] = _refusal_for(sender)
