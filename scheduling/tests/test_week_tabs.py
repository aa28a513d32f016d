"""The slot picker's week tabs written in Python are the markup the template's loop made."""

from __future__ import annotations

import datetime as dt

from django.template import engines

from scheduling.slots import SlotDay, SlotWeek
from scheduling.views import _week_tabs

# The loop that partials/slot_picker.html had, kept here as the reference.
_TEMPLATE_LOOP = """{% load i18n %}{% for w in weeks %}
          <li><a href="?{% if week_query %}{{ week_query }}&amp;{% endif %}week={{ w.key }}#slots"{% if w.monday == week.monday %} aria-current="true"{% endif %}>
            {% blocktranslate with day=w.monday|date:"j M" %}Week of {{ day }}{% endblocktranslate %}
            <span class="meta">({% blocktranslate count counter=w.count %}{{ counter }} free{% plural %}{{ counter }} free{% endblocktranslate %})</span>
          </a></li>
        {% endfor %}"""  # noqa: E501


def test_week_tabs_are_the_markup_of_the_template_loop() -> None:
    monday = dt.date(2030, 3, 4)
    # 0, 1 and 2 free slots: the plural forms.
    weeks = [
        SlotWeek(
            monday=monday + dt.timedelta(weeks=n),
            days=[SlotDay(day=monday + dt.timedelta(weeks=n), slots=[object()] * n)],  # type: ignore[list-item]
        )
        for n in range(3)
    ]
    loop = engines["django"].from_string(_TEMPLATE_LOOP)
    for query in ("", 'x=1&y=<b>"'):
        for week in (weeks[1], None):
            context = {"weeks": weeks, "week": week, "week_query": query}
            assert _week_tabs(weeks, week, query) == loop.render(context)
    assert _week_tabs([], None, "") == ""
