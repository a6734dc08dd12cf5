"""Charts for the merchant dashboard, drawn on the server as inline SVG (no CDN, no
script, no external reference), each with the accessible table of the same numbers.

Pure: plain dataclasses in, a ``Chart`` out (its SVG as Markup and its ``Table``), so
the chart and the table can't disagree. Colours come from CSS classes (``chart-good``,
``chart-bad``, ``chart-neutral``, ``chart-series-1`` to ``chart-series-6``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from app.money import format_money, minor_digits

from .chart_axes import (
    HEIGHT,
    WIDTH,
    Plot,
    Table,
    el,
    nice_ticks,
    num,
    percent_text,
    ring_path,
    role_class,
    runs,
    sector_path,
    slice_angles,
    svg,
    swatch,
)

Formatter = Callable[[int], str]

RATE_TICKS = (0, 25, 50, 75, 100)
DONUT_WIDTH, DONUT_OUTER, DONUT_INNER, LEGEND_ROW = 480, 80, 52, 22
NO_SHARE = "—"  # a share of nothing


@dataclass(frozen=True)
class Bucket:
    """One period on the x axis: ``key`` is stable ("2025-12-01"), ``label`` is shown."""

    key: str
    label: str


@dataclass(frozen=True)
class Series:
    """Integers (counts or minor units), one per bucket, drawn in a colour role."""

    name: str
    role: str
    values: Sequence[int]


@dataclass(frozen=True)
class RateSeries:
    """Percentages (0 to 100), one per bucket; None where the rate is undefined."""

    name: str
    role: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Slice:
    """One part of a mix; ``role`` defaults to ``series-N`` by position."""

    label: str
    value: int
    role: str | None = None


@dataclass(frozen=True)
class Chart:
    """A rendered chart: ``{{ chart }}`` in a template is its SVG, ``{{ chart.table }}``
    its table; ``summary`` is the sentence given as the SVG's aria-label."""

    svg: Markup
    table: Table
    summary: str

    def __html__(self) -> Markup:
        return self.svg

    def __str__(self) -> str:
        return str(self.svg)


def bar_chart(
    series: Sequence[Series],
    buckets: Sequence[Bucket],
    *,
    title: str,
    money_currency: str | None,
    fmt: Formatter | None = None,
    tick_fmt: Formatter | None = None,
    stacked: bool = True,
    bucket_heading: str = "Period",
) -> Chart:
    """Bars per bucket, the series stacked (or side by side). Values are formatted by
    ``fmt``: by default money in ``money_currency`` or, without one, plain counts;
    ``tick_fmt`` formats the y axis (default ``fmt``, or whole money when that's the default)."""
    _check_lengths(series, buckets)
    if any(value < 0 for s in series for value in s.values):
        raise ValueError("bar values must not be negative")
    axis_fmt = tick_fmt or fmt or (_whole_money(money_currency) if money_currency else None)
    fmt = fmt or _default_fmt(money_currency)
    totals = [sum(s.values[i] for s in series) for i in range(len(buckets))]
    ticks = nice_ticks(max(totals if stacked else [v for s in series for v in s.values], default=0))
    plot = Plot(ticks, tuple((axis_fmt or fmt)(t) for t in ticks), len(buckets))
    groups = []
    for i, bucket in enumerate(buckets):
        said = ", ".join(f"{s.name} {fmt(s.values[i])}" for s in series)
        bars = (_stacked if stacked else _grouped)(series, i, plot)
        groups.append(
            el(
                "g",
                {"class": "chart-bucket", "data-key": bucket.key},
                el("title", None, f"{bucket.label}: {said}"),
                plot.hit(i),
                *(
                    el("rect", attrs, el("title", None, f"{bucket.label}: {s.name} {fmt(v)}"))
                    for s, v, attrs in bars
                ),
            )
        )
    in_all = "; ".join(f"{s.name} {fmt(sum(s.values))}" for s in series)
    summary = f"{title}{_span(buckets)}: {in_all or 'no data'}"
    desc = f"{'Stacked' if stacked else 'Grouped'} bars, one per {bucket_heading.lower()}."
    busiest = max(range(len(buckets)), key=lambda i: totals[i], default=None)
    if busiest is not None and totals[busiest]:
        desc += f" Highest: {buckets[busiest].label}, {fmt(totals[busiest])} in all."
    entries = [(s.name, s.role) for s in series]
    body = [
        *plot.axes(entries, [b.label for b in buckets]),
        el("g", {"class": "chart-bars"}, *groups),
    ]
    with_total = stacked and len(series) > 1
    table = Table(
        caption=title,
        columns=(bucket_heading, *(s.name for s in series), *(["Total"] if with_total else [])),
        rows=tuple(
            (
                bucket.label,
                *(fmt(s.values[i]) for s in series),
                *([fmt(totals[i])] if with_total else []),
            )
            for i, bucket in enumerate(buckets)
        ),
    )
    return Chart(svg("bar", WIDTH, HEIGHT, summary, desc, body), table, summary)


def line_chart(
    series: Sequence[RateSeries],
    buckets: Sequence[Bucket],
    *,
    title: str,
    none_text: str = "no data",
    bucket_heading: str = "Period",
) -> Chart:
    """Rates (0 to 100 %) over time; a None leaves a gap in the line, never a zero."""
    _check_lengths(series, buckets)
    if any(v is not None and not 0 <= v <= 100 for s in series for v in s.values):
        raise ValueError("rates must be between 0 and 100")
    plot = Plot(RATE_TICKS, tuple(percent_text(t) for t in RATE_TICKS), len(buckets))

    def text(value: float | None) -> str:
        return none_text if value is None else percent_text(value)

    def at(s: RateSeries, i: int) -> tuple[float, float]:
        value = s.values[i]
        assert value is not None  # only defined values are placed
        return plot.centre(i), plot.y(value)

    hits = [
        el(
            "g",
            {"class": "chart-bucket", "data-key": bucket.key},
            el(
                "title",
                None,
                f"{bucket.label}: " + ", ".join(f"{s.name} {text(s.values[i])}" for s in series),
            ),
            plot.hit(i),
        )
        for i, bucket in enumerate(buckets)
    ]
    marks = []
    for s in series:
        css = role_class(s.role)
        defined = runs(s.values)
        path = " ".join(
            "M" + " L".join("{} {}".format(*map(num, at(s, i))) for i in run)
            for run in defined
            if len(run) > 1
        )
        if path:
            stroke = {"fill": "none", "stroke": "currentColor", "stroke-width": 2}
            marks.append(el("path", {"class": f"chart-line {css}", "d": path, **stroke}))
        for run in defined:
            if len(run) > 1 and plot.band < 8:
                continue  # a dense line: its points would only blot it
            for i in run:
                x, y = at(s, i)
                label = f"{buckets[i].label}: {s.name} {text(s.values[i])}"
                point = {"class": f"chart-point {css}", "cx": x, "cy": y, "r": 3}
                marks.append(el("circle", point, el("title", None, label)))
    # The range and the latest value: a mean of per-period rates would weigh a quiet day
    # like a busy one.
    ranges = []
    for s in series:
        known = [(i, v) for i, v in enumerate(s.values) if v is not None]
        if not known:
            ranges.append(f"{s.name} {none_text}")
            continue
        low, high = (percent_text(f([v for _, v in known])) for f in (min, max))
        last, value = known[-1]
        span = f"between {low} and {high}, " if low != high else ""
        ranges.append(f"{s.name} {span}{percent_text(value)} on {buckets[last].label}")
    summary = f"{title}{_span(buckets)}: {'; '.join(ranges) or 'no data'}"
    desc = f"A line per rate, one point per {bucket_heading.lower()}, from 0 to 100 %."
    if any(v is None for s in series for v in s.values):
        desc += f" Gaps mark periods with {none_text}."
    body = [
        *plot.axes([(s.name, s.role) for s in series], [b.label for b in buckets]),
        el("g", {"class": "chart-hits"}, *hits),
        el("g", {"class": "chart-lines"}, *marks),
    ]
    table = Table(
        caption=title,
        columns=(bucket_heading, *(s.name for s in series)),
        rows=tuple(
            (bucket.label, *(text(s.values[i]) for s in series)) for i, bucket in enumerate(buckets)
        ),
    )
    return Chart(svg("line", WIDTH, HEIGHT, summary, desc, body), table, summary)


def donut_chart(
    slices: Sequence[Slice],
    *,
    title: str,
    money_currency: str | None = None,
    fmt: Formatter | None = None,
    total_label: str = "total",
    label_heading: str = "Kind",
    value_heading: str = "Count",
    empty_text: str = "No data yet",
) -> Chart:
    """A ring of the slices in the order given (clockwise from 12 o'clock), the total in
    its centre, a legend beside it; an empty ring when everything is zero."""
    if any(s.value < 0 for s in slices):
        raise ValueError("slice values must not be negative")
    fmt = fmt or _default_fmt(money_currency)
    roles = [s.role or f"series-{i % 6 + 1}" for i, s in enumerate(slices)]
    total = sum(s.value for s in slices)
    height = max(200, 24 + LEGEND_ROW * len(slices))
    cx, cy = 24 + DONUT_OUTER, height / 2
    whole = {"d": ring_path(cx, cy, DONUT_OUTER, DONUT_INNER), "fill-rule": "evenodd"}

    def share(value: int) -> str:
        if not total:
            return NO_SHARE
        # Rounding never hides a sliver: "<0.1%" (not "0%") beside a non-zero count,
        # ">99.9%" (not "100%") when something else is left.
        if 0 < 1000 * value < total:
            return "<0.1%"
        if 0 < 1000 * (total - value) < total:
            return ">99.9%"
        return percent_text(100 * value / total)

    def said(s: Slice) -> str:
        return f"{s.label}: {fmt(s.value)} ({share(s.value)})"

    ring = []
    angles = slice_angles([s.value for s in slices])
    for s, role, (start, end) in zip(slices, roles, angles, strict=True):
        if s.value:  # a zero has no arc, only its row in the legend and the table
            arc = {"d": sector_path(cx, cy, DONUT_OUTER, DONUT_INNER, start, end)}
            shape = whole if end - start >= 360 else arc
            ring.append(
                el(
                    "path",
                    {"class": f"chart-slice {role_class(role)}", **shape},
                    el("title", None, said(s)),
                )
            )
    if not total:
        ring.append(el("path", {"class": "chart-empty", **whole}))
    middle = {"class": "chart-total", "x": cx, "text-anchor": "middle", "font-size": 16}
    ring.append(
        el("text", {**middle, "y": cy + (0 if total else 5)}, fmt(total) if total else empty_text)
    )
    if total:
        ring.append(
            el(
                "text",
                {"class": "chart-axis", "x": cx, "y": cy + 16, "text-anchor": "middle"},
                total_label,
            )
        )
    rows, x = [], cx + DONUT_OUTER + 36
    for n, (s, role) in enumerate(zip(slices, roles, strict=True)):
        y = cy - LEGEND_ROW * (len(slices) - 1) / 2 + LEGEND_ROW * n
        shown = s.label if len(s.label) <= 28 else s.label[:27] + "…"
        at_right = {"x": DONUT_WIDTH - 8, "y": y + 1, "text-anchor": "end"}
        rows.append(
            el(
                "g",
                {"class": "chart-legend-item"},
                el("title", None, said(s)),
                swatch(role, x, y),
                el("text", {"class": "chart-legend", "x": x + 16, "y": y + 1}, shown),
                el("text", {"class": "chart-axis", **at_right}, share(s.value)),
            )
        )
    mix = "; ".join(f"{s.label} {share(s.value)}" for s in slices if s.value)
    summary = f"{title}: {mix}, of {fmt(total)}" if total else f"{title}: {empty_text}"
    desc = "A ring, one slice per row of the table in its order, the total in its centre."
    body = [el("g", {"class": "chart-ring"}, *ring), el("g", {"class": "chart-legend-col"}, *rows)]
    table = Table(
        caption=title,
        columns=(label_heading, value_heading, "Share"),
        rows=(
            *((s.label, fmt(s.value), share(s.value)) for s in slices),
            ("Total", fmt(total), "100%" if total else NO_SHARE),
        ),
    )
    return Chart(svg("donut", DONUT_WIDTH, math.ceil(height), summary, desc, body), table, summary)


def _default_fmt(money_currency: str | None) -> Formatter:
    if money_currency:
        return lambda minor: format_money(minor, money_currency)
    return lambda count: f"{count:,}"


def _whole_money(currency: str) -> Formatter:
    # Ticks are round numbers: "1,000 USD" says as much as "1,000.00 USD", in less room.
    def fmt(minor: int) -> str:
        text = format_money(minor, currency)
        return text.replace("." + "0" * minor_digits(currency) + " ", " ", 1)

    return fmt


def _check_lengths(series: Sequence[Series | RateSeries], buckets: Sequence[Bucket]) -> None:
    for s in series:
        role_class(s.role)
        if len(s.values) != len(buckets):
            raise ValueError(f"{s.name!r} has {len(s.values)} values for {len(buckets)} buckets")


def _span(buckets: Sequence[Bucket]) -> str:
    return f", {buckets[0].label} to {buckets[-1].label}" if buckets else ""


Bars = Iterator[tuple[Series, int, dict[str, object]]]


def _stacked(series: Sequence[Series], index: int, plot: Plot) -> Bars:
    width = min(plot.band * 0.7, 48.0)
    x, below = plot.centre(index) - width / 2, 0
    for s in series:
        value = s.values[index]
        if value:
            # Round the edges, not the heights: the segments then add up to the whole bar.
            bottom, top = round(plot.y(below), 2), round(plot.y(below + value), 2)
            yield s, value, _bar(s.role, x, top, width, bottom - top)
        below += value


def _grouped(series: Sequence[Series], index: int, plot: Plot) -> Bars:
    inner = min(plot.band * 0.8, 24.0 * max(1, len(series)))
    width = inner / max(1, len(series))
    for k, s in enumerate(series):
        value = s.values[index]
        if value:
            top, bottom = round(plot.y(value), 2), round(plot.y(0), 2)
            x = plot.centre(index) - inner / 2 + k * width
            yield s, value, _bar(s.role, x, top, width, bottom - top)


def _bar(role: str, x: float, y: float, width: float, height: float) -> dict[str, object]:
    return {
        "class": f"chart-bar {role_class(role)}",
        "x": x,
        "y": y,
        "width": width,
        "height": height,
    }
