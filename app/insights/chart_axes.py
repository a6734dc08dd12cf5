"""The pieces the charts share: the SVG element builder (which escapes everything it
is given), nice ticks, the plot area of bar and line charts with x labels that never
overlap, legends, ring geometry, and the accessible table.

Pure: no Flask, no I/O. Text widths are estimates (no font metrics on the server),
generous enough for the dashboard's system font at the sizes used here."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

FONT_SIZE = 11
CHAR_WIDTH = 0.62  # of the font size: wider than the average glyph of a sans-serif
LABEL_GAP = 10
MAX_X_LABELS = 8
WIDTH, HEIGHT = 640, 260  # the viewBox of bar and line charts
TOP, BOTTOM, RIGHT = 30, HEIGHT - 26, WIDTH - 16  # their plot area (left: from the ticks)
ROLES = frozenset(["good", "bad", "neutral", *(f"series-{n}" for n in range(1, 7))])

# Characters XML 1.0 forbids: a hostile label must not make the page's SVG unparsable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def nice_ticks(max_value: int) -> tuple[int, ...]:
    """Three to five ticks from 0, a round step apart (1, 2 or 5 times a power of ten),
    the last at or above ``max_value``: ``nice_ticks(1_250) == (0, 500, 1_000, 1_500)``."""
    if max_value < 0:
        raise ValueError(f"max_value must not be negative, got {max_value}")
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if math.ceil(max_value / step) <= 4:
                return tuple(step * n for n in range(max(2, math.ceil(max_value / step)) + 1))
        magnitude *= 10


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """An estimate of the rendered width of ``text``, on the generous side."""
    return len(text) * font_size * CHAR_WIDTH


def label_step(labels: Sequence[str], plot_width: float) -> int:
    """Show every n-th x label, n chosen so that the shown labels, centred on their
    buckets, never overlap and are at most ``MAX_X_LABELS``."""
    if not labels:
        return 1
    widest = max(text_width(label) for label in labels) + LABEL_GAP
    fits = max(1, min(MAX_X_LABELS, math.floor(plot_width / widest)))
    return math.ceil(len(labels) / fits)


def num(value: float) -> str:
    """A coordinate for an SVG attribute: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def clean(text: object) -> str:
    """``text`` as a string without the characters XML cannot carry."""
    return _NOT_XML.sub("", str(text))


def el(name: str, attrs: Mapping[str, object] | None = None, *children: object) -> Markup:
    """``<name attrs>children</name>``: attribute values and string children are escaped,
    Markup children are kept; numbers become short coordinates; None drops an attribute."""
    rendered = Markup("").join(
        Markup(' {}="{}"').format(key, _attr(value))
        for key, value in (attrs or {}).items()
        if value is not None
    )
    if not children:
        return Markup("<{}{}/>").format(name, rendered)
    inner = Markup("").join(
        child if isinstance(child, Markup) else clean(child) for child in children
    )
    return Markup("<{0}{1}>{2}</{0}>").format(name, rendered, inner)


def _attr(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return num(value)
    return clean(value)


def svg(
    kind: str, width: int, height: int, label: str, desc: str, body: Iterable[Markup]
) -> Markup:
    """The outer element: an image to assistive technology, scaled to its container."""
    attrs = {
        "xmlns": "http://www.w3.org/2000/svg",
        "class": f"chart {kind}-chart",
        "viewBox": f"0 0 {width} {height}",
        "width": "100%",
        "preserveAspectRatio": "xMidYMid meet",
        "role": "img",
        "aria-label": label,
        "font-size": FONT_SIZE,
    }
    return el("svg", attrs, el("desc", None, desc), *body)


def role_class(role: str) -> str:
    """The CSS class for a colour role, refusing anything the stylesheet doesn't theme."""
    if role not in ROLES:
        raise ValueError(f"unknown chart role {role!r}; expected one of {sorted(ROLES)}")
    return f"chart-{role}"


def swatch(role: str, x: float, y: float) -> Markup:
    attrs = {"class": f"chart-swatch {role_class(role)}", "x": x, "y": y - 8, "rx": 2}
    return el("rect", {**attrs, "width": 10, "height": 10})


@dataclass(frozen=True)
class Plot:
    """The plot area of a bar or line chart: ``count`` buckets side by side, values
    from 0 up to the last tick; the left margin fits the widest tick label."""

    ticks: tuple[int, ...]
    tick_labels: tuple[str, ...]
    count: int

    @property
    def left(self) -> float:
        return max(32.0, max(text_width(label) for label in self.tick_labels) + 12)

    @property
    def band(self) -> float:
        return (RIGHT - self.left) / max(1, self.count)

    def centre(self, index: int) -> float:
        return self.left + self.band * (index + 0.5)

    def y(self, value: float) -> float:
        return BOTTOM - value / self.ticks[-1] * (BOTTOM - TOP)

    def label_x(self, index: int, label: str) -> float:
        """Where a bucket's label is centred: on the bucket, moved in just enough that a
        label at either end stays inside the chart."""
        half = text_width(label) / 2
        return min(max(self.centre(index), half + 2), WIDTH - half - 2)

    def hit(self, index: int) -> Markup:
        """The bucket's whole column, transparent and under its marks, so hovering
        anywhere in it shows the bucket's title."""
        attrs = {"class": "chart-hit", "x": self.left + self.band * index, "y": TOP}
        size = {"width": self.band, "height": BOTTOM - TOP, "fill": "transparent"}
        return el("rect", {**attrs, **size})

    def axes(self, entries: Sequence[tuple[str, str]], labels: Sequence[str]) -> list[Markup]:
        """The legend of ``entries`` (name, colour role) above, the gridlines with their
        values at the left (the zero line as the baseline), the bucket labels below."""
        legend, x = [], self.left
        for name, role in entries:
            legend.append(swatch(role, x, 14))
            legend.append(el("text", {"class": "chart-legend", "x": x + 14, "y": 15}, name))
            x += 28 + text_width(name)
        grid = []
        for tick, label in zip(self.ticks, self.tick_labels, strict=True):
            y, line = self.y(tick), "chart-baseline" if tick == 0 else "chart-grid"
            ends = {"x1": self.left, "x2": RIGHT, "y1": y, "y2": y, "data-tick": tick}
            stroke = {"stroke": "currentColor", "stroke-opacity": 0.15 if tick else 0.4}
            grid.append(el("line", {"class": line, **ends, **stroke}))
            at = {"x": self.left - 6, "y": y, "text-anchor": "end", "dominant-baseline": "middle"}
            grid.append(el("text", {"class": "chart-axis", **at}, label))
        step = label_step(labels, RIGHT - self.left)
        under = [
            el("text", {"class": "chart-axis", "x": self.label_x(i, label), "y": HEIGHT - 8}, label)
            for i, label in enumerate(labels)
            if i % step == 0
        ]
        return [
            el("g", {"class": "chart-legend-row"}, *legend),
            el("g", {"class": "chart-y-axis"}, *grid),
            el("g", {"class": "chart-x-axis", "text-anchor": "middle"}, *under),
        ]


def slice_angles(values: Sequence[int]) -> list[tuple[float, float]]:
    """Each value's (start, end) in degrees clockwise from 12 o'clock, each starting where
    the last ended, the last ending at exactly 360 (no float drift leaves a sliver)."""
    total = sum(values)
    angles, start, running = [], 0.0, 0
    for value in values:
        running += value
        end = 360.0 if total and running == total else (360 * running / total if total else 0.0)
        angles.append((start, end))
        start = end
    return angles


def sector_path(cx: float, cy: float, outer: float, inner: float, start: float, end: float) -> str:
    """A ring's slice from ``start`` to ``end`` degrees (less than a full turn)."""
    large = 1 if end - start > 180 else 0
    return (
        f"M{_point(cx, cy, outer, start)} A{outer} {outer} 0 {large} 1 {_point(cx, cy, outer, end)}"
        f" L{_point(cx, cy, inner, end)}"
        f" A{inner} {inner} 0 {large} 0 {_point(cx, cy, inner, start)} Z"
    )


def ring_path(cx: float, cy: float, outer: float, inner: float) -> str:
    """A whole ring, to be filled with ``fill-rule="evenodd"``: one SVG arc can't sweep
    360°, so each circle is two half turns."""
    return " ".join(
        f"M{_point(cx, cy, r, 0)} A{r} {r} 0 1 1 {_point(cx, cy, r, 180)}"
        f" A{r} {r} 0 1 1 {_point(cx, cy, r, 0)} Z"
        for r in (outer, inner)
    )


def _point(cx: float, cy: float, radius: float, degrees: float) -> str:
    radians = math.radians(degrees)
    return f"{num(cx + radius * math.sin(radians))} {num(cy - radius * math.cos(radians))}"


def runs(values: Sequence[float | None]) -> list[list[int]]:
    """The indexes of the defined values, in runs of consecutive ones."""
    found: list[list[int]] = []
    for i, value in enumerate(values):
        if value is None:
            continue
        if found and found[-1][-1] == i - 1:
            found[-1].append(i)
        else:
            found.append([i])
    return found


def percent_text(value: float) -> str:
    """``42.5%``, ``100%``: one decimal at most."""
    return f"{value:.1f}".removesuffix(".0") + "%"


@dataclass(frozen=True)
class Table:
    """The accessible table of a chart: the first cell of each row is its header.
    ``{{ chart.table }}`` renders it; templates may also loop over its fields."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __html__(self) -> Markup:
        head = el("tr", None, *(el("th", {"scope": "col"}, column) for column in self.columns))
        body = (
            el(
                "tr",
                None,
                el("th", {"scope": "row"}, row[0]),
                *(el("td", {"class": "num"}, cell) for cell in row[1:]),
            )
            for row in self.rows
        )
        return el(
            "table",
            {"class": "chart-table"},
            el("caption", None, self.caption),
            el("thead", None, head),
            el("tbody", None, *body),
        )

    def __str__(self) -> str:
        return str(self.__html__())
