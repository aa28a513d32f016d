"""Geometry of the analytics page's charts, drawn by the template as inline SVG.

No JavaScript and no chart library: the server works out every bar and point,
and the page carries the same figures in a table for screen readers. SVG
presentation attributes (not style attributes) keep it within a strict CSP.

The repeated markup (a bar, a tick, a table row) is written here, once per page:
through the template each of the page's ~500 values cost a
variable lookup and a localization, more than the rest of the page together.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.utils import formats, translation
from django.utils.safestring import SafeData, SafeString, mark_safe

from assistant.selectors import DayCount, IntentCount, OutcomeCount

WIDTH = 720
HEIGHT = 240
LEFT = 40  # room for the y-axis labels
BOTTOM = 28  # room for the date labels
TOP = 12
BAR_GAP = 2
INTENT_ROW = 26
INTENT_LABEL = 220


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class DailyChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    baseline: float
    bars: list[Bar]
    # Interactions that led to an appointment or a transfer, as an SVG polyline.
    outcome_points: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]

    @property
    def y_tick_markup(self) -> SafeString:
        return _lines(
            '<line class="grid-line" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d0d7de" stroke-width="1"/>\n'
            '<text class="axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle" font-size="11" fill="#444">{}</text>',
            (
                (self.plot_left, self.plot_right, t.position, t.position)
                + (self.plot_left - 6, t.position, t.label)
                for t in self.y_ticks
            ),
        )

    @property
    def bar_markup(self) -> SafeString:
        return _lines(
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="#2f6db5"><title>{}</title></rect>',
            ((b.x, b.y, b.width, b.height, b.title) for b in self.bars),
        )

    @property
    def x_tick_markup(self) -> SafeString:
        return _lines(
            '<text class="axis" x="{}" y="{}" text-anchor="middle" font-size="11" fill="#444">{}</text>',
            ((t.position, self.height - 8, t.label) for t in self.x_ticks),
        )


def _lines(template: str, rows: Iterable[Sequence[object]]) -> SafeString:
    """`format_html_join("\\n", template, rows)`, escaping with html.escape directly: the
    same output (Django's escape is html.escape) without the lazy- and safe-string
    machinery around each of the page's few hundred values."""
    return mark_safe(  # noqa: S308 - every value is escaped or already safe
        "\n".join(
            template.format(*(v if isinstance(v, SafeData) else html.escape(str(v)) for v in row))
            for row in rows
        )
    )


def daily_table_rows(days: Sequence[DayCount]) -> SafeString:
    """The rows of the table that carries the daily chart's figures."""
    return _lines(
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>',
        ((day_label(d.day, "D j M"), d.interactions, d.appointments, d.transfers) for d in days),
    )


def outcome_table_rows(outcomes: Sequence[OutcomeCount]) -> SafeString:
    """The outcome mix, one row per outcome."""
    return _lines(
        '<tr data-outcome="{}"><th scope="row">{}</th><td>{}</td><td>{}%</td></tr>',
        ((o.outcome, o.label, o.count, round(o.share * 100)) for o in outcomes),
    )


def review_table_rows(rows: Iterable[Sequence[str]]) -> SafeString:
    """The low-confidence utterances (when, who, said, understood as, percent, answer),
    written once per page rather than six template variables a row."""
    return _lines(
        '<tr><td>{}</td><td>{}</td><td class="said">{}</td><td>{}</td><td>{}%</td>'
        '<td class="meta">{}</td></tr>',
        rows,
    )


def day_label(day: dt.date, fmt: str) -> str:
    """`day` in the Django date format `fmt`, in the active language."""
    return _day_label(day, fmt, translation.get_language())


@lru_cache(maxsize=1024)
def _day_label(day: dt.date, fmt: str, language: str | None) -> str:
    # The same 30 days are drawn on every view, each twice (bar title, table row); a
    # localized day and month name costs a dozen translation lookups.
    return formats.date_format(day, fmt)


def _nice_max(value: int) -> int:
    """A round top for the y axis (1, 2, 5, 10, 20, 50...) at least `value`."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def daily_chart(days: Sequence[DayCount]) -> DailyChart:
    """Bars of interactions per day, a line of those that led to an appointment or transfer."""
    top_value = _nice_max(max((d.interactions for d in days), default=0))
    plot_width = WIDTH - LEFT - 8
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(len(days), 1)
    bars: list[Bar] = []
    points: list[str] = []
    x_ticks: list[Tick] = []
    for index, day in enumerate(days):
        x = LEFT + index * slot
        height = plot_height * day.interactions / top_value
        label = day_label(day.day, "D j M")
        bars.append(
            Bar(
                x=round(x + BAR_GAP / 2, 1),
                y=round(baseline - height, 1),
                width=round(max(slot - BAR_GAP, 1), 1),
                height=round(height, 1),
                title=f"{label}: {day.interactions} ({day.appointments} → appointment, "
                f"{day.transfers} → transfer)",
            )
        )
        acted = day.appointments + day.transfers
        point_y = baseline - plot_height * min(acted, top_value) / top_value
        points.append(f"{round(x + slot / 2, 1)},{round(point_y, 1)}")
        # A date label each week, counted back from the last day (today).
        if (len(days) - 1 - index) % 7 == 0:
            x_ticks.append(Tick(round(x + slot / 2, 1), day_label(day.day, "j M")))
    # Whole numbers only: a middle line when the top is even.
    values = [0, top_value // 2, top_value] if top_value % 2 == 0 else [0, top_value]
    y_ticks = [
        Tick(round(baseline - plot_height * value / top_value, 1), str(value)) for value in values
    ]
    return DailyChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - 8,
        baseline=baseline,
        bars=bars,
        outcome_points=" ".join(points),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )


@dataclass(frozen=True)
class IntentBar:
    intent: str
    label: str
    count: int
    percent: int
    y: float
    width: float


@dataclass(frozen=True)
class IntentChart:
    width: int
    height: int
    label_width: int
    bars: list[IntentBar]

    @property
    def bar_markup(self) -> SafeString:
        left = self.label_width
        return _lines(
            '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" font-size="12" fill="#222">{}</text>\n'
            '<rect x="{}" y="{}" width="{}" height="18" fill="#2f6db5"><title>{}: {} ({}%)</title></rect>\n'
            '<text x="{}" dx="{}" y="{}" dominant-baseline="middle" font-size="12" fill="#222">{} ({}%)</text>',
            (
                (left - 8, b.y + 13, b.label)
                + (left, b.y + 4, b.width, b.label, b.count, b.percent)
                + (left + 6, b.width, b.y + 13, b.count, b.percent)
                for b in self.bars
            ),
        )

    @property
    def table_rows(self) -> SafeString:
        return _lines(
            '<tr data-intent="{}"><th scope="row">{}</th><td>{}</td><td>{}%</td></tr>',
            ((b.intent, b.label, b.count, b.percent) for b in self.bars),
        )


def intent_chart(intents: Sequence[IntentCount], label: Callable[[str], str] = str) -> IntentChart:
    """One horizontal bar per intent, longest first, scaled to the most frequent."""
    most = max((i.count for i in intents), default=1) or 1
    room = WIDTH - INTENT_LABEL - 70
    bars = [
        IntentBar(
            intent=item.intent,
            label=label(item.intent),
            count=item.count,
            percent=round(item.share * 100),
            y=index * INTENT_ROW,
            width=round(max(room * item.count / most, 1), 1),
        )
        for index, item in enumerate(intents)
    ]
    return IntentChart(
        width=WIDTH,
        height=max(len(bars), 1) * INTENT_ROW,
        label_width=INTENT_LABEL,
        bars=bars,
    )
