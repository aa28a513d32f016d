"""The conversation's rows made in Python are the markup the template's loop made."""

from __future__ import annotations

import uuid

from django.template import engines

from messaging.display import message_rows_html
from messaging.selectors import MessageRow

# The loop that conversation.html had, kept here as the reference.
_TEMPLATE_LOOP = """{% for m in rows %}<li id="m-{{ m.id }}" class="message {% if m.mine %}message-mine{% else %}message-theirs{% endif %}" data-message-id="{{ m.id }}" data-sender-id="{{ m.sender_id }}" data-sent-at="{{ m.sent_at_iso }}">
  <p class="message-meta"><span class="message-author">{{ m.author }}</span> · <time datetime="{{ m.sent_at_iso }}">{{ m.sent_at_display }}</time></p>
  <div class="message-body">{{ m.content }}</div>
  {% if m.mine %}<p class="message-status meta" data-status data-read="{% if m.read %}true{% else %}false{% endif %}">{{ m.status }}</p>{% endif %}
</li>
{% endfor %}"""  # noqa: E501


def _row(*, mine: bool, read: bool, content: str, author: str) -> MessageRow:
    return MessageRow(
        id=uuid.uuid4(),
        sender_id=uuid.uuid4(),
        mine=mine,
        author=author,
        content=content,
        sent_at_iso="2030-03-04T09:00:00Z",
        sent_at_display="Mon 4 Mar 2030, 09:00 UTC",
        read=read,
        status="Read Mon 4 Mar 2030, 09:05 UTC" if read else "Sent",
    )


def test_rows_are_the_markup_of_the_template_loop() -> None:
    rows = [
        _row(mine=True, read=True, content="Fine, thanks.", author="You"),
        _row(mine=True, read=False, content="<script>alert(\"x\")</script> & 'so'", author="You"),
        _row(mine=False, read=False, content="Line one\nline two", author="Dr O'Brien <MD>"),
    ]
    expected = engines["django"].from_string(_TEMPLATE_LOOP).render({"rows": rows})
    assert message_rows_html(rows) == expected
    assert "&lt;script&gt;" in message_rows_html(rows)


def test_no_rows_is_no_markup() -> None:
    assert message_rows_html([]) == ""
