"""Geometry of the analytics page's charts, drawn by the template as inline SVG.

No JavaScript and no chart library: the server works out every bar and point,
and the page carries the same figures in a table for screen readers. SVG
presentation attributes (not style attributes) keep it within a strict CSP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils import formats

from assistant.selectors import DayCount, IntentCount

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
        label = formats.date_format(day.day, "D j M")
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
            x_ticks.append(Tick(round(x + slot / 2, 1), formats.date_format(day.day, "j M")))
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
