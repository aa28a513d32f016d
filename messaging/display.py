"""Markup of a conversation's messages, made in Python rather than by the template.

A conversation page shows a screenful of messages with a dozen values each; the
template engine's per-variable and per-tag cost was a good part of the page.
`message_rows_html` writes the same markup as the template loop it replaced,
character for character (messaging/tests/test_display.py compares the two);
messaging.js builds the same for messages that arrive live.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from django.utils.safestring import SafeString, mark_safe

from messaging.selectors import MessageRow


def message_rows_html(rows: Iterable[MessageRow]) -> SafeString:
    """The conversation's list items, one per row, every value escaped as the template's autoescape does.

    Django's `escape` is `html.escape` behind lazy-string and safe-string
    machinery that costs several times the escaping itself.
    """
    items = []
    for row in rows:
        message_id, sent_at = escape(str(row.id)), escape(row.sent_at_iso)
        status = (
            f'<p class="message-status meta" data-status data-read="{"true" if row.read else "false"}">'
            f"{escape(row.status)}</p>"
            if row.mine
            else ""
        )
        items.append(
            f'<li id="m-{message_id}" class="message {"message-mine" if row.mine else "message-theirs"}"'
            f' data-message-id="{message_id}" data-sender-id="{escape(str(row.sender_id))}"'
            f' data-sent-at="{sent_at}">\n'
            f'  <p class="message-meta"><span class="message-author">{escape(row.author)}</span> · '
            f'<time datetime="{sent_at}">{escape(row.sent_at_display)}</time></p>\n'
            f'  <div class="message-body">{escape(row.content)}</div>\n'
            f"  {status}\n"
            "</li>\n"
        )
    return mark_safe("".join(items))  # noqa: S308 - every value above is escaped
