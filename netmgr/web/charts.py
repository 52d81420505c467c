"""Line and bar charts as inline SVG geometry, computed on the server (no JavaScript library, nothing from a CDN).

Series of (time, value) → ``LineChart`` (polyline coordinates, axis ticks with local-time and bps labels)
→ the ``monitoring/_chart.html`` template draws it; labelled values → ``BarChart`` → ``reports/_bars.html``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from netmgr import localtime

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28


def format_bps(value: float) -> str:
    """``950 Mbps``, ``1.2 Gbps``, ``12 kbps``, ``0 bps``."""
    for unit, scale in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if abs(value) >= scale:
            scaled = value / scale
            return f"{scaled:.1f} {unit}" if scaled < 10 else f"{scaled:.0f} {unit}"
    return f"{value:.0f} bps"


def format_ms(value: float) -> str:
    """``12 ms``, ``2.5 ms``."""
    return f"{value:.1f} ms" if 0 < value < 10 else f"{value:.0f} ms"


def format_percent(value: float) -> str:
    return f"{value:.1f} %" if 0 < value < 10 else f"{value:.0f} %"


def format_celsius(value: float) -> str:
    """``45 °C``; an axis tick between whole degrees as ``12.5 °C``."""
    return f"{value:.0f} °C" if value == int(value) else f"{value:.1f} °C"


def format_volts(value: float) -> str:
    return f"{value:.1f} V" if value < 100 else f"{value:.0f} V"


def format_count(value: float) -> str:
    """Whole things (clients): ``12``; a fractional axis tick as ``2.5``."""
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def format_days(value: float) -> str:
    return f"{value:.1f} d" if value < 10 else f"{value:.0f} d"


PALETTE = ("in", "out", "c2", "c3", "c4", "c5", "c6", "c7")
"""CSS classes of the series colours, in the order charts with several series use them."""


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value`` (an axis top that reads well)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class Series:
    """One line: a name for the legend, a CSS class for its colour, and (time, value or None) points."""

    name: str
    css: str
    points: Sequence[tuple[datetime, float | None]]


@dataclass
class Line:
    name: str
    css: str
    segments: list[str] = field(default_factory=list)
    """Polyline ``points`` attributes; a gap in the data starts a new segment."""


@dataclass
class LineChart:
    width: int
    height: int
    plot: tuple[int, int, int, int]
    """left, top, right, bottom of the plotting area."""
    lines: list[Line]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    empty: bool


def line_chart(series: Sequence[Series], *, start: datetime, end: datetime, gap: timedelta, timezone: str,
               width: int = WIDTH, height: int = HEIGHT, y_format: Callable[[float], str] = format_bps) -> LineChart:
    """Scale ``series`` into a ``width`` × ``height`` chart from ``start`` to ``end``; ``y_format`` labels the axis.

    Points further apart than ``gap`` are not joined (missing polls show as gaps, not as slopes).
    """
    left, top, right, bottom = LEFT, TOP, width - RIGHT, height - BOTTOM
    peak = max((v for s in series for _, v in s.points if v is not None), default=0.0)
    top_value = nice_ceiling(peak)
    span = (end - start).total_seconds() or 1.0

    def x_of(moment: datetime) -> float:
        return left + (right - left) * (moment - start).total_seconds() / span

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / top_value

    lines = []
    for s in series:
        line = Line(s.name, s.css)
        current: list[str] = []
        previous: datetime | None = None
        for moment, value in s.points:
            if value is None or (previous is not None and moment - previous > gap):
                if len(current) > 1:
                    line.segments.append(" ".join(current))
                current = []
            if value is not None:
                current.append(f"{x_of(moment):.1f},{y_of(value):.1f}")
            previous = moment
        if len(current) > 1:
            line.segments.append(" ".join(current))
        elif len(current) == 1:  # a lone point still shows, as a short flat stroke
            x, y = current[0].split(",")
            line.segments.append(f"{float(x) - 1:.1f},{y} {float(x) + 1:.1f},{y}")
        lines.append(line)
    y_ticks = [(y_of(top_value * i / 4), y_format(top_value * i / 4)) for i in range(5)]
    label = "%d/%m" if end - start > timedelta(days=2) else "%H:%M"
    x_ticks = []
    for i in range(7):
        moment = start + (end - start) * i / 6
        x_ticks.append((x_of(moment), localtime.to_local(moment, timezone).strftime(label)))
    return LineChart(width, height, (left, top, right, bottom), lines, y_ticks, x_ticks,
                     empty=not any(line.segments for line in lines))


# --- horizontal bar charts (finance reports) ---------------------------------------------------

BAR_LABEL_W, BAR_H, BAR_GAP, GROUP_GAP = 150, 11, 2, 10


@dataclass(frozen=True)
class Bar:
    series: str
    css: str
    x: float
    y: float
    width: float
    height: float
    label: str
    """The value as shown (e.g. ``Rp 2.540.000``), also the bar's tooltip."""


@dataclass
class BarChart:
    width: int
    height: int
    plot: tuple[int, int, int, int]
    """left, top, right, bottom of the plotting area."""
    rows: list[tuple[float, str]]
    """(y of the row's text baseline, row label)."""
    bars: list[Bar]
    x_ticks: list[tuple[float, str]]
    guides: list[tuple[float, str]]
    legend: list[tuple[str, str]]
    """(series name, css) in series order."""
    empty: bool


def bar_chart(rows: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[tuple[str, str]], *,
              format_value: Callable[[float], str], top: float | None = None,
              guides: Sequence[tuple[float, str]] = (), width: int = WIDTH) -> BarChart:
    """Grouped horizontal bars: one group per row (``label``, one value per series), all on one scale.

    Args:
        series: (name, css class) per value position.
        format_value: turns a value into its tick and bar label (rupiah, percent …).
        top: fixed end of the scale (e.g. 100 for percentages); by default a round number above the maximum.
        guides: vertical reference lines at values, with a label (e.g. a threshold).
    """
    per_group = len(series) * (BAR_H + BAR_GAP) - BAR_GAP
    left, top_px, right = BAR_LABEL_W, TOP, width - RIGHT - 70  # room at the right for the longest bar's label
    bottom = top_px + len(rows) * (per_group + GROUP_GAP)
    height = bottom + BOTTOM
    peak = max((v for _, values in rows for v in values if v is not None), default=0.0)
    scale_top = top if top is not None else nice_ceiling(peak)
    scale_top = max(scale_top, peak) or 1.0

    def x_of(value: float) -> float:
        return left + (right - left) * max(0.0, value) / scale_top

    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for n, (label, values) in enumerate(rows):
        y0 = top_px + n * (per_group + GROUP_GAP)
        labels.append((round(y0 + per_group / 2 + 4, 1), label))
        for k, ((name, css), value) in enumerate(zip(series, values, strict=True)):
            if value is None:
                continue
            y = y0 + k * (BAR_H + BAR_GAP)
            bars.append(Bar(name, css, left, y, round(x_of(value) - left, 1), BAR_H, format_value(value)))
    x_ticks = [(round(x_of(scale_top * i / 4), 1), format_value(scale_top * i / 4)) for i in range(5)]
    return BarChart(width, height, (left, top_px, right, bottom), labels, bars, x_ticks,
                    [(round(x_of(v), 1), text) for v, text in guides if 0 <= v <= scale_top],
                    [(name, css) for name, css in series], empty=not bars or peak <= 0)


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    level: int
    """0 (none) to 5 (the busiest cell); the template colours by level."""
    label: str


@dataclass
class HeatMap:
    width: int
    height: int
    cell: int
    cells: list[HeatCell]
    rows: list[tuple[float, str]]
    columns: list[tuple[float, str]]


def heat_map(values: Sequence[Sequence[float | None]], *, row_labels: Sequence[str],
             format_value: Callable[[float | None], str], cell: int = 24) -> HeatMap:
    """A rows × columns grid of shaded cells (e.g. weekday × hour); ``None`` is a hidden value, shaded lightest."""
    left, top = 56, 18
    peak = max((v for row in values for v in row if v is not None), default=0.0) or 1.0
    cells: list[HeatCell] = []
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            level = 0 if not value else max(1, math.ceil(5 * value / peak))
            cells.append(HeatCell(left + c * cell, top + r * cell, level if value is not None else 1,
                                  format_value(value)))
    columns = len(values[0]) if values else 0
    return HeatMap(left + columns * cell + RIGHT, top + len(values) * cell + 4, cell, cells,
                   [(top + r * cell + cell * 0.65, label) for r, label in enumerate(row_labels)],
                   [(left + c * cell + cell / 2, f"{c:02d}") for c in range(0, columns, 3)])
