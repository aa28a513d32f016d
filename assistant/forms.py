"""Input of the assistant's page: a typed question, or a recording for clients that cannot stream."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assistant import conf
from assistant.speech import BYTES_PER_SECOND

# A WAV header is 44 bytes; some writers add a few more chunks.
WAV_HEADER_ALLOWANCE = 4096


class UtteranceForm(forms.Form):
    text = forms.CharField(
        label=_("Type your question"),
        max_length=conf.max_text_length(),
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "true"}),
        error_messages={"required": _("Type a question for the assistant.")},
    )


class RecordingForm(forms.Form):
    audio = forms.FileField(
        label=_("Or upload a recording"),
        help_text=_("A WAV file: 16 kHz, mono, 16-bit, up to %(seconds)d seconds.")
        % {"seconds": int(conf.max_utterance_seconds())},
        widget=forms.ClearableFileInput(attrs={"accept": "audio/wav,audio/x-wav,.wav"}),
        error_messages={"required": _("Choose a WAV recording to upload.")},
    )

    def clean_audio(self):
        upload = self.cleaned_data["audio"]
        limit = int(conf.max_utterance_seconds() * BYTES_PER_SECOND) + WAV_HEADER_ALLOWANCE
        if upload.size > limit:
            raise forms.ValidationError(
                _("The recording is too long; the limit is %(seconds)d seconds.")
                % {"seconds": int(conf.max_utterance_seconds())}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The recording is empty."))
        return upload
