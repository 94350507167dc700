"""Bar charts as numbers for an inline SVG (templates/web/staff/chart.html draws them).

Server-side and without script: the console's pages work with scripts off, and the CSP
forbids them on public pages. The chart lives in a fixed viewBox and scales to its
container; colours come from CSS classes, so the page's light and dark palettes apply.
Every chart carries its numbers in words (`description`), which screen readers hear and
which the tests read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: The drawing's own units (the viewBox): small enough that 14-unit text stays readable
#: (12 px) when a phone shrinks the chart to ~340 px.
WIDTH, HEIGHT = 400, 220
LEFT, RIGHT, TOP, BOTTOM = 58, 8, 14, 42
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
#: At most this many category labels under the bars (more would overlap at 375 px).
MAX_X_LABELS = 6


def count(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    """12.5%, 2%, 0.1%: two decimals at most, none shown that are zero."""
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    tone: str  # a CSS class of the chart's palette: "info", "ok", "warn", "bad", "alt"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: Series
    category: str
    text: str  # "sent: 120 (30 s)", the bar's tooltip


@dataclass(frozen=True)
class Mark:
    """Words at a place along an axis: a tick (y), a category's label (x), a threshold (y)."""

    at: float
    text: str


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    bars: list[Bar]
    ticks: list[Mark]
    labels: list[Mark]
    legend: list[Series]
    threshold: Mark | None
    top: float  # the value the plot's full height stands for
    axis: str   # what the categories are ("seconds since the start", "day")
    #: The drawing's frame, for the template.
    frame = {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "bottom": TOP + PLOT_HEIGHT}


def nice_top(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value * (1 - 1e-9))


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], *,
              axis: str, fmt: Callable[[float], str] = count,
              threshold: tuple[float, str] | None = None, empty: str = "nothing yet") -> BarChart:
    """One bar per category, the series stacked in their order (bottom first).

    `threshold` (value, words) draws a dashed line, e.g. a warning level; the scale keeps it
    in view."""
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(categories)} categories")
        if any(v < 0 for v in s.values):
            raise ValueError(f"series {s.name!r} has a negative value")
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    top = nice_top(max([*totals, threshold[0] if threshold else 0], default=0))
    scale = PLOT_HEIGHT / top
    slot = PLOT_WIDTH / max(len(categories), 1)
    width = slot * 0.7
    bars = []
    for i, category in enumerate(categories):
        base = TOP + PLOT_HEIGHT
        for s in series:
            value = s.values[i]
            if not value:
                continue
            height = value * scale
            base -= height
            bars.append(Bar(LEFT + i * slot + (slot - width) / 2, base, width, height, s,
                            category, f"{s.name}: {fmt(value)} ({category})"))
    # Counts get no half-way tick that is not a whole number.
    halves = (0.5,) if fmt is not count or (top / 2).is_integer() else ()
    ticks = [Mark(TOP + PLOT_HEIGHT - f * PLOT_HEIGHT, fmt(f * top)) for f in (0, *halves, 1)]
    every = math.ceil(len(categories) / MAX_X_LABELS) or 1
    labels = [Mark(LEFT + i * slot + slot / 2, c) for i, c in enumerate(categories) if i % every == 0]
    line = Mark(TOP + PLOT_HEIGHT - threshold[0] * scale, threshold[1]) if threshold else None
    return BarChart(title, describe(categories, series, fmt, empty), bars, ticks, labels,
                    list(series), line, top, axis)


def describe(categories: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str],
             empty: str) -> str:
    """The chart in words: every category with every series' value."""
    if not categories:
        return empty
    return "; ".join(f"{c}: " + ", ".join(f"{s.name} {fmt(s.values[i])}" for s in series)
                     for i, c in enumerate(categories)) + "."
