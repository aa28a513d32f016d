"""The assistant's page (both portals), typed questions and uploaded recordings.

The page works without JavaScript: the text box and the upload are plain
forms that answer and come back to the page. With JavaScript, assistant.js
talks over the websocket instead (text and streamed microphone audio) and asks
these endpoints for JSON when the socket is not available.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import portal_required
from accounts.models import Role
from assistant.forms import RecordingForm, UtteranceForm
from assistant.nlu.intents import warm_up
from assistant.selectors import recent_conversation
from assistant.services import UtteranceInvalid, utterance_respond
from assistant.speech import AudioError, SpeechUnavailable, transcribe_wav, voice_status

# The conversation state and the last reply's links, between requests.
STATE_KEY = "assistant_dialogue"
LAST_REPLY_KEY = "assistant_last_reply"
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
        "conversation": recent_conversation(request.user, limit=CONVERSATION_LENGTH),
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
            body["transcript"] = transcript
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
def utterance_audio(request: HttpRequest) -> HttpResponse:
    form = RecordingForm(request.POST, request.FILES)
    error: str | None = None
    status = 400
    transcript = ""
    if form.is_valid():
        try:
            transcript = transcribe_wav(form.cleaned_data["audio"].read())
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
