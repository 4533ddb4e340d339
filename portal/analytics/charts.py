"""Charts as SVG drawn on the server: the same markup in the page, on a phone and in the
WeasyPrint PDF, with no script (the CSP allows none inline) and nothing to download.

Each chart scales to its container (``viewBox``, width 100%), names itself for screen readers
(``role="img"`` + ``aria-labelledby`` on a <title>), puts a tooltip <title> and, when given, a
link to the queue on every bar or point, and uses the Okabe–Ito palette, which colour-blind
readers can tell apart; series also differ by shape or dash, never by colour alone. The data
table next to each chart (in the templates) is what screen readers and exports read.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

# Okabe & Ito (2008), "Color Universal Design".
BLUE, ORANGE, SKY, GREEN, VERMILLION, PURPLE, YELLOW = (
    "#0072B2", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#F0E442")
SERIES_COLOURS = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY)
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 2", "1 2")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square")

WIDTH, HEIGHT = 480, 290
LEFT, RIGHT, TOP, BOTTOM = 50, 44, 14, 84
_ids = itertools.count(1)


@dataclass
class Series:
    name: str
    values: Sequence[float | None]
    colour: str = BLUE
    links: Sequence[str | None] | None = None
    dash: str = ""
    marker: str = "circle"
    texts: Sequence[str] | None = None  # tooltip per point (defaults to the value)


@dataclass
class Reference:
    """A horizontal line: a threshold or a target, labelled at the right."""

    name: str
    value: float
    colour: str = VERMILLION
    dash: str = "6 3"


@dataclass
class Chart:
    title: str
    labels: Sequence[str]
    bars: list[Series] = field(default_factory=list)
    lines: list[Series] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    share_line: Series | None = None  # 0..1 on a right-hand percentage axis (Pareto)
    unit: str = ""
    limits: Series | None = None  # a stepped upper control limit (p-chart)


def _nice_max(value: float) -> float:
    """The top of the axis: four equal steps of 1, 2, 2.5 or 5 × a power of ten."""
    if value <= 0:
        return 1.0
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= raw:
            return 4 * step * power
    return 40 * power


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _short(label: str, limit: int = 10) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _width(text: str) -> float:
    """Roughly how wide ``text`` is at the charts' 13 px: CJK characters twice a Latin one."""
    return sum(13 if ord(c) > 0x2E80 else 7.4 for c in text)


def _wrap(label: str, width: float, lines: int = 2) -> list[str]:
    """``label`` in at most ``lines`` lines of ``width`` (at words when it has spaces, else at
    characters), the last one cut with "…" if the label is longer."""
    spaced = " " in label
    out, line = [], ""
    for part in label.split(" ") if spaced else label:
        candidate = f"{line} {part}" if line and spaced else line + part
        if line and _width(candidate) > width:
            out.append(line)
            line = part
        else:
            line = candidate
    out.append(line)
    if len(out) > lines:
        out = out[:lines]
        out[-1] += "…"
    cut = []
    for text in out:  # a single word wider than the line
        while _width(text) > width and len(text) > 2:
            text = text[:-2] + "…"
        cut.append(text)
    return cut


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if kind == "diamond":
        return (f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}'
                f'L{x - 5:.1f} {y:.1f}Z" fill="{colour}"/>')
    if kind == "triangle":
        return (f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}L{x - 5:.1f} {y + 4:.1f}Z"'
                f' fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def _link(svg: str, href: str | None, text: str) -> str:
    tip = f"<title>{escape(text)}</title>"
    if not href:
        return f"<g>{tip}{svg}</g>"
    return f'<a href="{escape(href)}">{tip}{svg}</a>'


def render(chart: Chart) -> Markup:
    """The chart as an inline <svg> element."""
    n = max(len(chart.labels), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for s in chart.bars + chart.lines for v in s.values if v is not None]
    values += [r.value for r in chart.references]
    if chart.limits:
        values += [v for v in chart.limits.values if v is not None]
    top = _nice_max(max(values, default=0))
    slot = plot_w / n

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * min(value, top) / top

    def x(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    chart_id = f"chart-{next(_ids)}"
    legend, rows = _legend(chart)
    height = HEIGHT + 16 * (rows - 1)
    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
           f'aria-labelledby="{chart_id}" xmlns="http://www.w3.org/2000/svg" '
           f'font-family="Noto Sans CJK SC, Noto Sans, sans-serif" font-size="13">',
           f'<title id="{chart_id}">{escape(chart.title)}</title>']
    for k in range(5):  # grid and left axis
        value = top * k / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
                   f'y2="{y(value):.1f}" stroke="#d0d7de" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                   f'fill="#57606a">{_fmt(value)}{escape(chart.unit)}</text>')
    out += _bars(chart, slot, x, y)
    if chart.limits:
        out.append(_steps(chart.limits, slot, x, y))
    for ref in chart.references:
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(ref.value):.1f}" '
                   f'y2="{y(ref.value):.1f}" stroke="{ref.colour}" stroke-width="1.5" '
                   f'stroke-dasharray="{ref.dash}"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 4}" y="{y(ref.value) + 4:.1f}" '
                   f'fill="{ref.colour}" font-size="11">{_fmt(ref.value)}{escape(chart.unit)}'
                   '</text>')
    for series in chart.lines:
        out.append(_polyline(series, x, y, chart.unit))
    if chart.share_line:
        out += _share(chart.share_line, x, plot_h)
    wide = slot >= 80  # few categories: labels level, on up to two lines, not slanted
    for i, label in enumerate(chart.labels):
        if wide:
            lines = "".join(f'<tspan x="{x(i):.1f}" dy="{0 if k == 0 else 15}">{escape(line)}'
                            "</tspan>" for k, line in enumerate(_wrap(label, slot - 8)))
            out.append(f'<text x="{x(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
                       f'fill="#1b1f24"><title>{escape(label)}</title>{lines}</text>')
        else:
            out.append(f'<text transform="translate({x(i):.1f},{TOP + plot_h + 12}) '
                       f'rotate(-35)" text-anchor="end" fill="#1b1f24"><title>{escape(label)}'
                       f'</title>{escape(_short(label))}</text>')
    out.append(legend)
    out.append("</svg>")
    return Markup("".join(out))


def _bars(chart: Chart, slot: float, x, y) -> list[str]:
    out = []
    groups = len(chart.bars) or 1
    width = slot * 0.7 / groups
    for g, series in enumerate(chart.bars):
        for i, value in enumerate(series.values):
            if value is None:
                continue
            left = x(i) - slot * 0.35 + g * width
            text = (series.texts[i] if series.texts else
                    f"{chart.labels[i]} · {series.name}: {_fmt(value)}{chart.unit}")
            bar = (f'<rect x="{left:.1f}" y="{y(value):.1f}" width="{max(width - 1, 1):.1f}" '
                   f'height="{max(y(0) - y(value), 0):.1f}" fill="{series.colour}"/>')
            out.append(_link(bar, series.links[i] if series.links else None, text))
    return out


def _polyline(series: Series, x, y, unit: str) -> str:
    out, run = [], []
    for i, value in enumerate(series.values):
        if value is None:  # unknown: the line breaks instead of falling to zero
            if len(run) > 1:
                out.append(run)
            run = []
            continue
        run.append((x(i), y(value)))
    if len(run) > 1:
        out.append(run)
    svg = [f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in r)}" fill="none" '
           f'stroke="{series.colour}" stroke-width="2" stroke-dasharray="{series.dash}"/>'
           for r in out]
    for i, value in enumerate(series.values):
        if value is None:
            continue
        text = series.texts[i] if series.texts else f"{series.name}: {_fmt(value)}{unit}"
        svg.append(_link(_marker(series.marker, x(i), y(value), series.colour),
                         series.links[i] if series.links else None, text))
    return "".join(svg)


def _steps(series: Series, slot: float, x, y) -> str:
    parts = []
    for i, value in enumerate(series.values):
        if value is None:
            continue
        parts.append(f'<line x1="{x(i) - slot / 2:.1f}" x2="{x(i) + slot / 2:.1f}" '
                     f'y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{series.colour}" '
                     f'stroke-width="1.5" stroke-dasharray="{series.dash or "2 2"}"/>')
    return "".join(parts)


def _share(series: Series, x, plot_h: float) -> list[str]:
    def ys(share: float) -> float:
        return TOP + plot_h - plot_h * share

    out = [f'<text x="{WIDTH - RIGHT + 6}" y="{ys(k / 4) + 4:.1f}" fill="{series.colour}">'
           f'{k * 25}%</text>' for k in range(5)]
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ys(0.8):.1f}" y2="{ys(0.8):.1f}" '
               f'stroke="{series.colour}" stroke-width="1" stroke-dasharray="2 3"/>')
    points = [(x(i), ys(v)) for i, v in enumerate(series.values) if v is not None]
    out.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in points)}" '
               f'fill="none" stroke="{series.colour}" stroke-width="2"/>')
    for i, value in enumerate(series.values):
        if value is not None:
            text = series.texts[i] if series.texts else f"{series.name}: {value:.0%}"
            out.append(_link(_marker("diamond", x(i), ys(value), series.colour), None, text))
    return out


def _legend(chart: Chart) -> tuple[str, int]:
    entries = [(s.name, s.colour, "bar", "") for s in chart.bars]
    entries += [(s.name, s.colour, s.marker, s.dash) for s in chart.lines]
    if chart.share_line:
        entries.append((chart.share_line.name, chart.share_line.colour, "diamond", ""))
    if chart.limits:
        entries.append((chart.limits.name, chart.limits.colour, "limit", chart.limits.dash))
    entries += [(r.name, r.colour, "limit", r.dash) for r in chart.references]
    out, left, row, rows = [], LEFT, HEIGHT - 12, 1
    for name, colour, kind, dash in entries:
        label = _short(name, 18)
        width = 26 + sum(13 if ord(c) > 0x2E80 else 7.4 for c in label)
        if left + width > WIDTH - 8 and left > LEFT:
            left, row, rows = LEFT, row + 16, rows + 1
        if kind == "bar":
            out.append(f'<rect x="{left}" y="{row - 9}" width="12" height="10" fill="{colour}"/>')
        else:
            pattern = (dash or "2 2") if kind == "limit" else dash
            out.append(f'<line x1="{left - 2}" x2="{left + 14}" y1="{row - 4}" y2="{row - 4}" '
                       f'stroke="{colour}" stroke-width="2" stroke-dasharray="{pattern}"/>')
            if kind != "limit":
                out.append(_marker(kind, left + 6, row - 4, colour))
        out.append(f'<text x="{left + 18}" y="{row}" fill="#1b1f24">{escape(label)}</text>')
        left += width + 12
    return "".join(out), rows
