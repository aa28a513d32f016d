"""The assistant's page (both portals), typed questions and uploaded recordings.

The page works without JavaScript: the text box and the upload are plain
forms that answer and come back to the page. With JavaScript, assistant.js
talks over the websocket instead (text and streamed microphone audio) and asks
these endpoints for JSON when the socket is not available.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import portal_required
from accounts.models import Role
from assistant.charts import (
    daily_chart,
    daily_table_rows,
    day_label,
    intent_chart,
    outcome_table_rows,
    review_table_rows,
)
from assistant.conversation import LAST_REPLY_KEY, STATE_KEY
from assistant.forms import RecordingForm, UtteranceForm
from assistant.nlu.intents import INTENT_LABELS, Intent, warm_up
from assistant.redaction import redact_for
from assistant.selectors import (
    LOW_CONFIDENCE,
    LowConfidenceUtterance,
    assistant_analytics,
    current_conversation,
    is_verified_staff,
    speech_vocabulary,
)
from assistant.services import UtteranceInvalid, conversation_of, utterance_respond
from assistant.speech import AudioError, SpeechUnavailable, transcribe_wav, voice_status
from healthcare import ratelimits
from healthcare.net import client_ip
from patients.models import PHIResource
from patients.services import phi_access_record_many
from providers.selectors import provider_timezone

CONVERSATION_LENGTH = 20


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _page(
    request: HttpRequest,
    *,
    form: UtteranceForm | None = None,
    recording_form: RecordingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    portal = "portal_provider.html" if request.user.role == Role.PROVIDER else "portal_patient.html"
    context: dict[str, Any] = {
        "base_template": portal,
        "form": form or UtteranceForm(),
        "recording_form": recording_form or RecordingForm(),
        # This session's conversation only: what a transfer would pass on, nothing older.
        "conversation": current_conversation(
            request.user,
            conversation_of(request.session.get(STATE_KEY)),
            limit=CONVERSATION_LENGTH,
        ),
        "last_reply": request.session.get(LAST_REPLY_KEY),
        "voice": voice_status(),
    }
    return render(request, "assistant/chat.html", context, status=status)


def _answer(request: HttpRequest, text: str, *, transcript: str | None = None) -> HttpResponse:
    try:
        reply, state = utterance_respond(
            user=request.user, text=text, state=request.session.get(STATE_KEY)
        )
    except UtteranceInvalid as exc:
        if _wants_json(request):
            return JsonResponse({"errors": {"text": [str(exc)]}}, status=400)
        form = UtteranceForm(data={"text": text})
        form.is_valid()
        form.add_error("text", str(exc))
        return _page(request, form=form, status=400)
    request.session[STATE_KEY] = state
    request.session[LAST_REPLY_KEY] = reply.to_json()
    if _wants_json(request):
        body: dict[str, Any] = {"reply": reply.to_json()}
        if transcript is not None:
            body["transcript"] = redact_for(request.user, transcript)
        return JsonResponse(body)
    return redirect("assistant:chat")


@portal_required
@never_cache
@require_GET
def chat(request: HttpRequest) -> HttpResponse:
    warm_up()
    return _page(request)


@portal_required
@never_cache
@require_POST
@ratelimits.limit("assistant-utterance", key=ratelimits.by_user)
def utterance_text(request: HttpRequest) -> HttpResponse:
    form = UtteranceForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return _page(request, form=form, status=400)
    return _answer(request, form.cleaned_data["text"])


@portal_required
@never_cache
@require_POST
@ratelimits.limit("assistant-utterance", key=ratelimits.by_user)
def utterance_audio(request: HttpRequest) -> HttpResponse:
    form = RecordingForm(request.POST, request.FILES)
    error: str | None = None
    status = 400
    transcript = ""
    if form.is_valid():
        try:
            transcript = transcribe_wav(
                form.cleaned_data["audio"].read(), vocabulary=speech_vocabulary(request.user)
            )
        except AudioError as exc:
            error = str(exc)
        except SpeechUnavailable as exc:
            error, status = str(exc), 503
        else:
            if not transcript.strip():
                error = _("I couldn't hear any words in that recording.")
                status = 422
        if error:
            form.add_error("audio", error)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"errors": form.errors.get_json_data()}, status=status)
        return _page(request, recording_form=form, status=status)
    return _answer(request, transcript, transcript=transcript)


@portal_required
@never_cache
@require_POST
def conversation_new(request: HttpRequest) -> HttpResponse:
    """Start afresh: the next question opens a new conversation (earlier ones stay in the log)."""
    request.session[STATE_KEY] = None
    request.session.pop(LAST_REPLY_KEY, None)
    return redirect("assistant:chat")


# --- Analytics ---------------------------------------------------------------------------


def staff_or_provider_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Practice staff with a verified second factor, or a provider of the portal.

    Staff have no portal profile, so neither portal's decorator lets them in.
    Patients, and staff without their second factor, get 403.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if is_verified_staff(user):
            return view(request, *args, **kwargs)
        if user.role == Role.PROVIDER and hasattr(user, "provider_profile"):
            if not user.is_verified():
                return redirect("accounts:mfa-setup")
            return view(request, *args, **kwargs)
        raise PermissionDenied

    return wrapper


def _intent_label(value: str) -> str:
    try:
        return str(INTENT_LABELS[Intent(value)])
    except ValueError:
        return value


def _review_row(interaction: LowConfidenceUtterance, tz: ZoneInfo) -> tuple[str, ...]:
    """One low-confidence utterance as the page shows it, formatted once here: per-row
    template filters (zone, date, truncation) cost more than the rest of the page."""
    local = interaction.interaction_timestamp.astimezone(tz)
    return (
        # "j M H:i", the day's part cached: the same few days recur on every view.
        f"{day_label(local.date(), 'j M')} {local:%H:%M}",
        interaction.full_name,
        interaction.input_text,
        _intent_label(interaction.detected_intent),
        str(round(interaction.confidence_score * 100)),
        Truncator(interaction.response_text).chars(160),
    )


@staff_or_provider_required
@never_cache
@require_GET
def analytics(request: HttpRequest) -> HttpResponse:
    user = request.user
    staff = is_verified_staff(user)
    tz = ZoneInfo(settings.TIME_ZONE) if staff else provider_timezone(user.provider_profile)
    figures = assistant_analytics(user, tz=tz)
    # The low-confidence utterances are the patients' own words: showing them is a PHI access,
    # logged for every patient on the page in one INSERT.
    phi_access_record_many(
        accessor=user,
        patients=figures.low_confidence_patients,
        resource=PHIResource.ASSISTANT,
        ip_address=client_ip(request),
        access=figures.patient_access,
    )
    context: dict[str, Any] = {
        "base_template": "base.html" if staff else "portal_provider.html",
        "staff": staff,
        "tz": tz,
        "figures": figures,
        "daily": daily_chart(figures.days),
        "daily_rows": daily_table_rows(figures.days),
        "outcome_rows": outcome_table_rows(figures.outcomes),
        "intent_chart": intent_chart(figures.intents, label=_intent_label),
        "low_confidence": review_table_rows(_review_row(i, tz) for i in figures.low_confidence),
        "low_confidence_percent": round(LOW_CONFIDENCE * 100),
    }
    return render(request, "assistant/analytics.html", context)
