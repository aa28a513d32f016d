"""Messaging pages: inbox, one conversation, compose; plain form posts that work without JavaScript.

messaging.js enhances the same forms: it posts them with `Accept:
application/json` and shows the answer in place, while the websocket brings
what the other side does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import portal_required
from accounts.models import Role, User
from healthcare.net import client_ip
from messaging.display import message_rows_html
from messaging.forms import ComposeForm, MessageForm
from messaging.push import TimeDisplay, message_payload
from messaging.selectors import (
    InboxCursor,
    conversation_page,
    conversation_partner,
    inbox_page,
    message_rows,
    refusal_reason,
    unread_count,
)
from messaging.services import (
    MessageNotAllowed,
    conversation_mark_read,
    conversation_mark_read_counting,
    message_send,
)
from patients.services import phi_access_record
from patients.templatetags.zoned_time import iso as iso_utc

INBOX_PAGE_SIZE = 25
# The zero id that the inbox's URL patterns carry in place of a person's (messaging.js too).
_ANY_USER = uuid.UUID(int=0)


@dataclass(frozen=True)
class InboxItem:
    """One inbox row as the template prints it."""

    partner_id: str
    partner_name: str
    role: str
    url: str
    read_url: str
    last_at_iso: str
    last_at_display: str
    unread: int


def _portal_base(user: User) -> str:
    return "portal_patient.html" if user.role == Role.PATIENT else "portal_provider.html"


def _wants_json(request: HttpRequest) -> bool:
    # Only messaging.js asks for exactly this; a browser's own form post sends text/html first.
    return request.headers.get("Accept", "") == "application/json"


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _partner_or_404(request: HttpRequest, user_id: uuid.UUID) -> User:
    partner = conversation_partner(request.user, user_id)
    if partner is None:
        raise Http404
    return partner


def _badge_counted(request: HttpRequest, unread: int | None) -> None:
    """Give the navigation's badge a count the page read anyway.

    UnreadBadgeMiddleware counts lazily, with a query of its own, only when
    the badge is shown; a count that came with the page's own queries spares it.
    """
    badges = getattr(request, "portal_badges", None)
    if unread is not None and isinstance(badges, dict):
        badges["messages"] = unread


@never_cache
@require_GET
@portal_required
def inbox(request: HttpRequest) -> HttpResponse:
    # Newest first, in windows with an "Older" link: no COUNT of every conversation.
    after = InboxCursor.parse(request.GET.get("before"))
    page = inbox_page(request.user, after=after, size=INBOX_PAGE_SIZE)
    _badge_counted(request, page.unread_total)
    # Each row's links from one reversed pattern, not two reverse() per row.
    pattern = reverse("messaging:conversation", args=[_ANY_USER])
    read_pattern = reverse("messaging:conversation-read", args=[_ANY_USER])
    any_user = str(_ANY_USER)
    display_time = TimeDisplay()
    items = [
        InboxItem(
            partner_id=str(row.partner_id),
            partner_name=row.partner_name,
            role=row.partner_role_display,
            url=pattern.replace(any_user, str(row.partner_id)),
            read_url=read_pattern.replace(any_user, str(row.partner_id)),
            last_at_iso=iso_utc(row.last_at),
            last_at_display=display_time(row.last_at),
            unread=row.unread,
        )
        for row in page.conversations
    ]
    context = {
        "portal_base": _portal_base(request.user),
        "page": page,
        "items": items,
        "live": after is None,
        "conversation_url_pattern": pattern,
    }
    return render(request, "messaging/inbox.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def compose(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = ComposeForm(
        data, sender=request.user, initial={"recipient": _uuid_or_none(request.GET.get("to"))}
    )
    if request.method == "POST" and form.is_valid():
        recipient = form.cleaned_data["recipient"]
        try:
            message_send(
                sender=request.user, receiver=recipient, content=form.cleaned_data["content"]
            )
        except MessageNotAllowed as refusal:
            form.add_error("recipient", str(refusal))
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Your message has been sent."))
            return redirect("messaging:conversation", user_id=recipient.pk)
    context = {"portal_base": _portal_base(request.user), "form": form}
    return render(request, "messaging/compose.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def conversation(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    partner = _partner_or_404(request, user_id)
    form = MessageForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                message = message_send(
                    sender=request.user, receiver=partner, content=form.cleaned_data["content"]
                )
            except MessageNotAllowed as refusal:
                form.add_error("content", str(refusal))
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                if _wants_json(request):
                    return JsonResponse({"message": message_payload(message)}, status=201)
                return redirect(
                    f"{reverse('messaging:conversation', args=[partner.pk])}#m-{message.pk}"
                )
        if _wants_json(request):
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)

    # Opening the conversation is reading it: the other side's messages become read.
    marked = conversation_mark_read_counting(
        reader=request.user, partner=partner, ip_address=client_ip(request)
    )
    _badge_counted(request, marked.unread_left)
    before = _uuid_or_none(request.GET.get("before"))
    page = conversation_page(request.user, partner, before=before)
    rows = message_rows(request.user, partner, page.messages)
    if request.user.role == Role.PROVIDER and partner.role == Role.PATIENT:
        phi_access_record(
            accessor=request.user,
            patient=partner.patient_profile,
            resource="messages",
            object_id=page.messages[-1].pk if page.messages else "",
            ip_address=client_ip(request),
            in_care=partner.in_care,  # see conversation_partner
        )
    can_reply = partner.may_reply  # see conversation_partner
    context = {
        "portal_base": _portal_base(request.user),
        "partner": partner,
        "page": page,
        "rows": rows,
        "rows_html": message_rows_html(rows),
        "live": before is None,
        "form": form if can_reply else None,
        "refusal": None if can_reply else refusal_reason(request.user, partner),
    }
    return render(request, "messaging/conversation.html", context)


@never_cache
@require_POST
@portal_required
def conversation_read(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    partner = _partner_or_404(request, user_id)
    marked = conversation_mark_read(
        reader=request.user, partner=partner, ip_address=client_ip(request)
    )
    if _wants_json(request):
        return JsonResponse({"marked": len(marked), "unread": unread_count(request.user)})
    if marked:
        messages.success(
            request, _("Messages from %(name)s marked as read.") % {"name": partner.full_name}
        )
    return redirect("messaging:inbox")
