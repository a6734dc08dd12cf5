"""The dashboard's SVG charts: nice ticks, bar geometry, gaps in rate lines, whole
donuts, escaping, and the tables that carry the same numbers."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from app.insights import chart_axes
from app.insights.charts import (
    Bucket,
    RateSeries,
    Series,
    Slice,
    bar_chart,
    donut_chart,
    line_chart,
    nice_ticks,
    slice_angles,
)

NS = "{http://www.w3.org/2000/svg}"
SHAPES = {"svg", "desc", "title", "g", "rect", "line", "text", "path", "circle"}
HOSTILE = '<script>alert(1)</script> & "quoted" \'single\' onload="x()"'


def xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (our own output, the thing under test)


def parse(chart) -> ET.Element:
    return xml(str(chart.svg))


def tag(element: ET.Element) -> str:
    return element.tag.removeprefix(NS)


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def title_of(element: ET.Element) -> str:
    found = element.find(f"{NS}title")
    assert found is not None, ET.tostring(element)
    return found.text or ""


def buckets(count: int, label: str = "Dec {}") -> list[Bucket]:
    return [Bucket(f"2025-12-{n:02d}", label.format(n)) for n in range(1, count + 1)]


# -- nice ticks -------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**12))
def test_ticks_start_at_zero_cover_the_max_and_step_by_a_round_number(max_value) -> None:
    ticks = nice_ticks(max_value)
    assert ticks[0] == 0
    assert 3 <= len(ticks) <= 5
    assert ticks[-1] >= max_value
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    (step,) = steps
    assert step > 0
    magnitude = 10 ** (len(str(step)) - 1)
    assert step in (magnitude, 2 * magnitude, 5 * magnitude)
    # Tight: the tick below the top doesn't already cover the max (unless three are the least).
    assert len(ticks) == 3 or ticks[-2] < max_value


@pytest.mark.parametrize(
    ("max_value", "ticks"),
    [
        (0, (0, 1, 2)),
        (1, (0, 1, 2)),
        (3, (0, 1, 2, 3)),
        (7, (0, 2, 4, 6, 8)),
        (100, (0, 50, 100)),
        (101, (0, 50, 100, 150)),
        (1_250, (0, 500, 1_000, 1_500)),
        (337_000, (0, 100_000, 200_000, 300_000, 400_000)),
    ],
)
def test_ticks_examples(max_value, ticks) -> None:
    assert nice_ticks(max_value) == ticks


def test_ticks_refuse_a_negative_max() -> None:
    with pytest.raises(ValueError, match="negative"):
        nice_ticks(-1)


# -- x labels ---------------------------------------------------------------------------------


@given(
    count=st.integers(min_value=1, max_value=400),
    width=st.integers(min_value=1, max_value=16),
    plot_width=st.floats(min_value=200, max_value=1200),
)
def test_shown_x_labels_never_overlap_and_are_at_most_eight(count, width, plot_width) -> None:
    labels = ["x" * width] * count
    step = chart_axes.label_step(labels, plot_width)
    shown = len(range(0, count, step))
    assert shown <= chart_axes.MAX_X_LABELS
    if shown > 1:
        gap = step * plot_width / count
        assert gap >= chart_axes.text_width(labels[0])


@given(count=st.integers(1, 60), width=st.integers(1, 14))
def test_x_labels_stay_inside_the_chart(count, width) -> None:
    plot = chart_axes.Plot((0, 50, 100), ("0%", "50%", "100%"), count)
    for index in range(count):
        label = "m" * width
        x, half = plot.label_x(index, label), chart_axes.text_width(label) / 2
        assert half <= x + 1e-9 and x + half <= chart_axes.WIDTH + 1e-9


def test_a_year_of_weeks_shows_a_few_labels_far_enough_apart() -> None:
    root = parse(
        bar_chart(
            [Series("recovered", "good", [5] * 365)],
            buckets(365, "Week of Nov {}"),
            title="Year",
            money_currency=None,
        )
    )
    axis = by_class(root, "chart-x-axis")[0]
    xs = [float(t.get("x")) for t in axis]
    assert 2 <= len(xs) <= 8
    widest = chart_axes.text_width("Week of Nov 365")
    assert all(b - a >= widest for a, b in itertools.pairwise(xs))


# -- bars -------------------------------------------------------------------------------------

BAR_INPUT = st.integers(min_value=1, max_value=4).flatmap(
    lambda n_series: st.integers(min_value=0, max_value=60).flatmap(
        lambda n_buckets: st.tuples(
            st.lists(
                st.lists(
                    st.one_of(st.just(0), st.integers(min_value=0, max_value=10**7)),
                    min_size=n_buckets,
                    max_size=n_buckets,
                ),
                min_size=n_series,
                max_size=n_series,
            ),
            st.just(n_buckets),
        )
    )
)


@given(data=BAR_INPUT, stacked=st.booleans())
def test_bars_stay_between_baseline_and_top_tick_and_add_up(data, stacked) -> None:
    values, n_buckets = data
    roles = ["good", "bad", "neutral", "series-1"]
    series = [Series(f"s{k}", roles[k], v) for k, v in enumerate(values)]
    root = parse(
        bar_chart(series, buckets(n_buckets), title="T", money_currency="usd", stacked=stacked)
    )
    grid = [e for e in root.iter(f"{NS}line") if e.get("data-tick") is not None]
    top_tick = max(int(e.get("data-tick")) for e in grid)
    baseline = next(float(e.get("y1")) for e in grid if e.get("data-tick") == "0")
    top = min(float(e.get("y1")) for e in grid)
    per_unit = (baseline - top) / top_tick

    groups = by_class(root, "chart-bucket")
    assert [g.get("data-key") for g in groups] == [b.key for b in buckets(n_buckets)]
    for i, group in enumerate(groups):
        assert title_of(group).startswith(f"Dec {i + 1}: ")
        bars = by_class(group, "chart-bar")
        assert len(bars) == sum(1 for s in values if s[i])
        for bar in bars:
            y, height = float(bar.get("y")), float(bar.get("height"))
            assert height >= 0  # a sliver of a big max may round to nothing, never below
            assert y >= top - 1e-9
            assert y + height <= baseline + 1e-9
            assert title_of(bar).startswith(f"Dec {i + 1}: s")
        heights = [float(bar.get("height")) for bar in bars]
        if stacked:
            expected = sum(s[i] for s in values) * per_unit
            assert math.isclose(sum(heights), expected, abs_tol=0.01 * (len(bars) + 1))
        else:
            drawn = [s[i] for s in values if s[i]]
            for height, value in zip(heights, drawn, strict=True):
                assert math.isclose(height, value * per_unit, abs_tol=0.011)


def test_a_bar_says_its_bucket_series_and_money() -> None:
    chart = bar_chart(
        [Series("recovered", "good", [0, 125_000]), Series("lost", "bad", [0, 3_000])],
        buckets(2),
        title="Recovered vs lost",
        money_currency="usd",
    )
    root = parse(chart)
    titles = [title_of(bar) for bar in by_class(root, "chart-bar")]
    assert titles == ["Dec 2: recovered 1,250.00 USD", "Dec 2: lost 30.00 USD"]
    assert title_of(by_class(root, "chart-bucket")[0]) == (
        "Dec 1: recovered 0.00 USD, lost 0.00 USD"
    )
    ticks = [t.text for t in by_class(root, "chart-y-axis")[0].iter(f"{NS}text")]
    assert ticks == ["0 USD", "500 USD", "1,000 USD", "1,500 USD"]
    assert chart.summary == (
        "Recovered vs lost, Dec 1 to Dec 2: recovered 1,250.00 USD; lost 30.00 USD"
    )
    assert root.get("aria-label") == chart.summary


def test_the_bar_table_has_the_chart_s_numbers_and_a_total() -> None:
    chart = bar_chart(
        [Series("Recovered", "good", [100, 250]), Series("Lost", "bad", [5, 0])],
        buckets(2),
        title="Money",
        money_currency="eur",
        fmt=lambda minor: f"€{minor / 100:,.2f}",
        bucket_heading="Day",
    )
    assert chart.table.caption == "Money"
    assert chart.table.columns == ("Day", "Recovered", "Lost", "Total")
    assert chart.table.rows == (
        ("Dec 1", "€1.00", "€0.05", "€1.05"),
        ("Dec 2", "€2.50", "€0.00", "€2.50"),
    )
    root = parse(chart)
    assert "Dec 1: Recovered €1.00" in [title_of(b) for b in by_class(root, "chart-bar")]


def test_grouped_bars_have_no_total_column() -> None:
    chart = bar_chart(
        [Series("A", "series-1", [3]), Series("B", "series-2", [4])],
        buckets(1),
        title="Counts",
        money_currency=None,
        stacked=False,
    )
    assert chart.table.columns == ("Period", "A", "B")
    assert chart.table.rows == (("Dec 1", "3", "4"),)


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ([Series("a", "good", [1, 2, 3])], "3 values for 2 buckets"),
        ([Series("a", "purple", [1, 2])], "unknown chart role"),
        ([Series("a", "good", [1, -2])], "negative"),
    ],
)
def test_bar_input_that_cannot_be_drawn_is_refused(series, message) -> None:
    with pytest.raises(ValueError, match=message):
        bar_chart(series, buckets(2), title="T", money_currency=None)


def test_no_buckets_is_an_empty_chart_not_an_error() -> None:
    chart = bar_chart([Series("a", "good", [])], [], title="Nothing", money_currency=None)
    root = parse(chart)
    assert by_class(root, "chart-bar") == []
    assert chart.table.rows == ()


# -- rate line --------------------------------------------------------------------------------

RATES = st.lists(
    st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False)),
    min_size=1,
    max_size=40,
)


def subpaths(d: str) -> list[list[tuple[float, float]]]:
    found = []
    for chunk in d.split("M")[1:]:
        found.append([tuple(map(float, p.split())) for p in chunk.strip().split(" L")])
    return found


@given(RATES)
def test_undefined_rates_leave_gaps_never_zeros(values) -> None:
    chart = line_chart([RateSeries("rate", "good", values)], buckets(len(values)), title="R")
    root = parse(chart)
    centres = [
        float(g.find(f"{NS}rect").get("x")) + float(g.find(f"{NS}rect").get("width")) / 2
        for g in by_class(root, "chart-bucket")
    ]
    lines = by_class(root, "chart-line")
    drawn = [point for line in lines for sub in subpaths(line.get("d")) for point in sub]
    drawn += [(float(c.get("cx")), float(c.get("cy"))) for c in by_class(root, "chart-point")]
    for x, value in zip(centres, values, strict=True):
        assert any(abs(x - at) < 0.02 for at, _ in drawn) == (value is not None)
    runs = chart_axes.runs(values)
    assert sum(len(subpaths(line.get("d"))) for line in lines) == sum(len(r) > 1 for r in runs)
    # An isolated point can't be a line: it gets a dot.
    dots = [float(c.get("cx")) for c in by_class(root, "chart-point")]
    for run in runs:
        if len(run) == 1:
            assert any(abs(centres[run[0]] - x) < 0.02 for x in dots)


def test_the_rate_table_and_titles_say_when_there_is_no_rate() -> None:
    chart = line_chart(
        [RateSeries("Recovery rate", "good", [50, None, 12.25])],
        buckets(3),
        title="Recovery rate",
        none_text="no closed campaigns",
    )
    root = parse(chart)
    assert chart.table.rows == (
        ("Dec 1", "50%"),
        ("Dec 2", "no closed campaigns"),
        ("Dec 3", "12.2%"),
    )
    hover = [title_of(g) for g in by_class(root, "chart-bucket")]
    assert hover[1] == "Dec 2: Recovery rate no closed campaigns"
    assert "Gaps mark periods with no closed campaigns." in root.find(f"{NS}desc").text
    assert chart.summary == (
        "Recovery rate, Dec 1 to Dec 3: Recovery rate between 12.2% and 50%, 12.2% on Dec 3"
    )
    flat = line_chart([RateSeries("r", "good", [None, 40, None])], buckets(3), title="R")
    assert flat.summary == "R, Dec 1 to Dec 3: r 40% on Dec 2"
    empty = line_chart([RateSeries("r", "good", [None])], buckets(1), title="R")
    assert empty.summary == "R, Dec 1 to Dec 1: r no data"


def test_rates_outside_0_to_100_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        line_chart([RateSeries("r", "good", [101])], buckets(1), title="R")


# -- donut ------------------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=12))
def test_slice_angles_chain_round_the_whole_circle(values) -> None:
    angles = slice_angles(values)
    assert len(angles) == len(values)
    if not sum(values):
        assert all(start == end == 0 for start, end in angles)
        return
    assert angles[0][0] == 0
    assert angles[-1][1] == 360
    for (_, end), (start, _) in itertools.pairwise(angles):
        assert start == end
    for value, (start, end) in zip(values, angles, strict=True):
        assert math.isclose(end - start, 360 * value / sum(values), abs_tol=1e-9)


def arc_angles(d: str, cx: float, cy: float) -> tuple[float, float]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    x0, y0, x1, y1 = numbers[0], numbers[1], numbers[7], numbers[8]

    def angle(x: float, y: float) -> float:
        return math.degrees(math.atan2(x - cx, cy - y)) % 360

    sweep = (angle(x1, y1) - angle(x0, y0)) % 360
    if numbers[5] == 1 and sweep < 180:  # the large-arc flag
        sweep += 360
    return angle(x0, y0), sweep


@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=10))
def test_the_drawn_slices_sweep_the_whole_ring_in_order(values) -> None:
    chart = donut_chart([Slice(f"k{i}", v) for i, v in enumerate(values)], title="Mix")
    root = parse(chart)
    slices = by_class(root, "chart-slice")
    assert len(slices) == sum(1 for v in values if v)
    total_text = by_class(root, "chart-total")[0]
    cx, cy = float(total_text.get("x")), float(root.get("viewBox").split()[3]) / 2
    if not sum(values):
        assert by_class(root, "chart-empty")
        return
    if len(slices) == 1:
        (whole,) = slices
        assert whole.get("fill-rule") == "evenodd"
        assert whole.get("d").count("M") == 2 and whole.get("d").count("A") == 4
        return
    expected_start, swept = 0.0, 0.0
    for path in slices:
        start, sweep = arc_angles(path.get("d"), cx, cy)
        assert math.isclose(start, expected_start % 360, abs_tol=0.05) or math.isclose(
            abs(start - expected_start % 360), 360, abs_tol=0.05
        )
        expected_start += sweep
        swept += sweep
    assert math.isclose(swept, 360, abs_tol=0.1)


def test_a_single_slice_is_a_full_ring_with_its_share_in_the_title() -> None:
    chart = donut_chart(
        [Slice("Insufficient funds", 7), Slice("Expired card", 0)], title="Decline mix"
    )
    root = parse(chart)
    (ring,) = by_class(root, "chart-slice")
    assert title_of(ring) == "Insufficient funds: 7 (100%)"
    d = ring.get("d")
    # Two half turns per circle: no arc starts and ends at the same point.
    for sub in d.split("M")[1:]:
        start = sub.split(" A")[0].strip()
        assert not any(arc.strip().endswith(start) for arc in sub.split(" A")[1:2])
    assert [t.text for t in by_class(root, "chart-total")] == ["7"]
    assert chart.table.rows[-1] == ("Total", "7", "100%")


def test_the_donut_titles_centre_and_table_carry_the_mix() -> None:
    chart = donut_chart(
        [Slice("Insufficient funds", 2, "bad"), Slice("Expired card", 1)],
        title="Decline mix",
        total_label="declines",
        label_heading="Decline",
        value_heading="Declines",
    )
    root = parse(chart)
    assert [title_of(p) for p in by_class(root, "chart-slice")] == [
        "Insufficient funds: 2 (66.7%)",
        "Expired card: 1 (33.3%)",
    ]
    assert "chart-bad" in by_class(root, "chart-slice")[0].get("class")
    assert "chart-series-2" in by_class(root, "chart-slice")[1].get("class")
    centre = [t.text for t in by_class(root, "chart-ring")[0].iter(f"{NS}text")]
    assert centre == ["3", "declines"]
    assert chart.table.columns == ("Decline", "Declines", "Share")
    assert chart.table.rows == (
        ("Insufficient funds", "2", "66.7%"),
        ("Expired card", "1", "33.3%"),
        ("Total", "3", "100%"),
    )
    assert chart.summary == "Decline mix: Insufficient funds 66.7%; Expired card 33.3%, of 3"


def test_a_sliver_is_never_called_zero_percent() -> None:
    chart = donut_chart([Slice("Most", 9_999), Slice("Few", 1), Slice("None", 0)], title="Mix")
    assert [row[2] for row in chart.table.rows] == [">99.9%", "<0.1%", "0%", "100%"]


def test_a_zero_total_is_an_empty_ring() -> None:
    chart = donut_chart([Slice("Expired card", 0)], title="Decline mix", empty_text="No declines")
    root = parse(chart)
    assert by_class(root, "chart-slice") == []
    assert len(by_class(root, "chart-empty")) == 1
    assert [t.text for t in by_class(root, "chart-total")] == ["No declines"]
    assert chart.summary == "Decline mix: No declines"
    assert chart.table.rows == (("Expired card", "0", "—"), ("Total", "0", "—"))


def test_money_donuts_format_in_the_currency() -> None:
    chart = donut_chart(
        [Slice("Plan A", 1999), Slice("Plan B", 1)], title="MRR", money_currency="usd"
    )
    assert chart.table.rows[-1] == ("Total", "20.00 USD", "100%")


# -- every chart ------------------------------------------------------------------------------


def three_charts(label: str = "Dec 1", name: str = "recovered") -> list:
    return [
        bar_chart(
            [Series(name, "good", [125_000, 0]), Series("lost", "bad", [3_000, 50])],
            [Bucket("a", label), Bucket("b", "Dec 2")],
            title=f"{name} vs lost",
            money_currency="usd",
        ),
        line_chart(
            [RateSeries(name, "good", [42.0, None])],
            [Bucket("a", label), Bucket("b", "Dec 2")],
            title=f"{name} rate",
        ),
        donut_chart([Slice(label, 3), Slice(name, 1)], title=f"{name} mix"),
    ]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_every_chart_is_an_accessible_self_contained_image(index) -> None:
    chart = three_charts()[index]
    root = parse(chart)
    assert tag(root) == "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == chart.summary
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    assert tag(root[0]) == "desc" and root[0].text
    for element in root.iter():
        assert tag(element) in SHAPES
        for attribute, value in element.attrib.items():
            assert not attribute.lower().startswith("on")
            assert "href" not in attribute.lower()
            assert "url(" not in value and "javascript:" not in value
        assert element.get("style") is None
    for shape in by_class(root, "chart-bar") + by_class(root, "chart-slice"):
        classes = shape.get("class").split()
        assert any(re.fullmatch(r"chart-(good|bad|neutral|series-[1-6])", c) for c in classes)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_hostile_labels_are_text_never_markup(index) -> None:
    chart = three_charts(label=HOSTILE, name=HOSTILE)[index]
    text = str(chart.svg)
    assert "<script" not in text
    assert 'onload="' not in text
    root = parse(chart)
    assert all(tag(e) != "script" for e in root.iter())
    assert HOSTILE in root.get("aria-label")
    assert any(HOSTILE in (e.text or "") for e in root.iter(f"{NS}title"))
    table = str(chart.table.__html__())
    assert "<script" not in table
    assert xml(table).find("tbody/tr/th").text == HOSTILE


@given(label=st.text(max_size=40), name=st.text(min_size=1, max_size=20))
def test_any_text_gives_parsable_svg_and_tables(label, name) -> None:
    # XML parsers read any line break as \n.
    said = chart_axes.clean(label).replace("\r\n", "\n").replace("\r", "\n")
    for chart in three_charts(label=label, name=name):
        root = parse(chart)
        xml(str(chart.table.__html__()))
        assert any(said in (e.text or "") for e in root.iter(f"{NS}title"))


def test_templates_render_the_chart_and_its_table_unescaped_once() -> None:
    chart = three_charts(label=HOSTILE)[2]
    html = (
        Environment(autoescape=True).from_string("{{ chart }}{{ chart.table }}").render(chart=chart)
    )
    assert html.startswith("<svg ")
    assert html.count("<table") == 1
    assert "&lt;script&gt;" in html and "<script" not in html
    assert str(chart) == str(chart.svg)
