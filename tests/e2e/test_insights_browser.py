"""The home dashboard's charts in headless Chromium: drawn (non-empty SVG), their tables
one tap away, the period tabs, and no console error under the dashboard's CSP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from .conftest import CHROMIUM_ARGS, log_in, serve_dashboard

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path, sandbox_url: str) -> Iterator[str]:
    with serve_dashboard(tmp_path, sandbox_url, "owner@kiln.example", "Kiln Co") as (base, app):
        from app.accounts.models import Workspace
        from app.events.models import DomainEvent
        from app.extensions import db
        from app.insights import rollups

        with app.app_context():
            ws = db.session.query(Workspace).one()
            now = dt.datetime.now(dt.UTC)
            for days, name, data in (
                (
                    1,
                    "recovery.campaign.recovered",
                    {"attribution": "retry", "recovered_minor": 2900},
                ),
                (3, "recovery.campaign.lost", {"decline_class": "scheduled", "amount_minor": 1500}),
                (
                    5,
                    "recovery.campaign.started",
                    {
                        "decline_class": "customer_action",
                        "decline_code": "expired_card",
                        "amount_minor": 1500,
                    },
                ),
                (2, "subscription.ended", {"kind": "voluntary", "mrr_minor": 2900}),
            ):
                at = now - dt.timedelta(days=days)
                db.session.add(
                    DomainEvent(
                        workspace_id=ws.id,
                        name=name,
                        subject="x:1",
                        data={"currency": "usd", "customer": "cus_1", **data},
                        occurred_at=at,
                        due_at=at,
                        status="done",  # no worker in this server: the rollups are rebuilt
                    )
                )
            db.session.flush()
            rollups.rebuild(db.session, ws.id)
            db.session.commit()
        yield base


def test_the_home_dashboard_draws_its_charts(live, chromium) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        problems: list[str] = []
        page.on(
            "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
        )
        log_in(page, live, "owner@kiln.example")
        page.goto(live + "/dashboard")
        for chart in ("#money-chart", "#rate-chart", "#mix-chart", "#churn-chart"):
            box = page.locator(f"{chart} svg.chart").bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100, chart
        assert page.locator("#money-chart svg rect.chart-good").count() >= 1
        page.locator("#mix-chart details summary").click()
        expect(page.locator("#mix-chart table.chart-table")).to_contain_text("Needs the customer")
        page.screenshot(path="/tmp/insights_home.png", full_page=True)
        page.get_by_role("link", name="Last 12 months").click()
        expect(page.locator("#rate-chart")).to_contain_text("per week")
        assert problems == []
        browser.close()
