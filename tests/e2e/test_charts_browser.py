"""The dashboard's SVG charts in headless Chromium: a page with the three kinds (and
their tables) under a strict Content-Security-Policy draws every chart at a real size,
themed by the stylesheet, with nothing in the console."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import Markup

from app.insights.charts import (
    Bucket,
    RateSeries,
    Series,
    Slice,
    bar_chart,
    donut_chart,
    line_chart,
)

from .conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000
STYLESHEET = Path(__file__).parents[2] / "app" / "static" / "app.css"
# No script, image, font or connection may load; only the inline copy of our stylesheet.
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def page_html() -> str:
    days = [Bucket(f"2025-12-{d:02d}", f"Dec {d}") for d in range(1, 31)]
    charts = [
        bar_chart(
            [
                Series("Recovered", "good", [125_000 * (d % 3) for d in range(30)]),
                Series("Lost", "bad", [3_000 * d for d in range(30)]),
            ],
            days,
            title="Recovered vs lost <script>",
            money_currency="usd",
        ),
        line_chart(
            [
                RateSeries(
                    "Recovery rate", "good", [None if d % 7 == 0 else 40 + d for d in range(30)]
                )
            ],
            days,
            title="Recovery rate",
            none_text="no closed campaigns",
        ),
        donut_chart(
            [Slice("Insufficient funds", 12, "bad"), Slice("Expired card", 5), Slice("Other", 0)],
            title="Decline mix",
            total_label="declines",
        ),
        donut_chart([Slice("Insufficient funds", 3)], title="One class"),
    ]
    sections = Markup("").join(
        Markup('<section class="card">{}{}</section>').format(chart, chart.table)
        for chart in charts
    )
    return Markup(
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="{}">'
        "<style>{}</style></head><body><main>{}</main></body></html>"
    ).format(CSP, Markup(STYLESHEET.read_text()), sections)  # noqa: S704 (our own stylesheet)


def test_the_three_charts_draw_at_a_real_size_with_no_console_errors(chromium) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            problems: list[str] = []
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.set_content(page_html())

            charts = page.locator("svg.chart")
            assert charts.count() == 4
            for index in range(4):
                box = charts.nth(index).bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100, box
            for selector in (".chart-bar", ".chart-line", ".chart-point", ".chart-slice"):
                shapes = page.locator(f"svg.chart {selector}")
                assert shapes.count() > 0, selector
                box = shapes.first.bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0, selector

            # The stylesheet themes the marks through their classes.
            fill = page.locator(".chart-bar.chart-good").first.evaluate(
                "e => getComputedStyle(e).fill"
            )
            assert fill == "rgb(5, 150, 105)"
            stroke = page.locator(".chart-line").first.evaluate("e => getComputedStyle(e).stroke")
            assert stroke == "rgb(5, 150, 105)"
            # The one-class donut is a whole ring, as big as the other.
            rings = page.locator(".donut-chart .chart-ring")
            assert rings.nth(1).bounding_box()["width"] == pytest.approx(
                rings.nth(0).bounding_box()["width"], abs=3
            )
            assert page.locator("table.chart-table").count() == 4
            assert page.locator("script").count() == 0
            page.screenshot(path="/tmp/charts_browser.png", full_page=True)
            assert problems == []
        finally:
            browser.close()
