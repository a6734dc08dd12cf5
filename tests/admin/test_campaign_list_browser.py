"""The campaign list fits a 1366 px laptop screen in Chromium, even with the longest
names, plans, decline codes and sums: long values are cut short, whole on hover."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.models import utcnow
from app.recovery.models import Campaign
from app.stripe import mirror

from ..app import factories as f
from ..conftest import service_unavailable

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LONG_NAME = "Maximiliana Bartholomew-Featherstonehaugh the Third"
LONG_PLAN = "Platinum Unlimited Annual Membership"


@pytest.fixture
def served(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def widest(ctx) -> None:
    """A page of the widest values each column can hold."""
    ws = f.workspace(name="The Extraordinarily Long Named Wellness Collective of Springfield")
    now = utcnow()
    for i, (state, attribution, code) in enumerate(
        [
            ("recovered", "customer_paid", "reenter_transaction"),
            ("lost", None, "card_velocity_exceeded"),
            ("abandoned", None, "revocation_of_authorizations"),
            ("in_flight", None, "withdrawal_count_limit_exceeded"),
        ]
    ):
        campaign = Campaign(
            workspace_id=ws.id,
            invoice_stripe_id=f"in_{'X' * 24}{i}",
            customer_stripe_id=f"cus_{'Y' * 20}{i}",
            subscription_stripe_id=f"sub_{'Z' * 24}{i}",
            amount_minor=123_456_789,
            currency="usd",
            decline_class="customer_action",
            decline_code=code,
            state=state,
            attribution=attribution,
            auto_retries=4,
            opened_at=now,
            last_failure_at=now,
            window_ends_at=now + dt.timedelta(days=30),
            closed_at=None if state == "in_flight" else now,
        )
        db.session.add(campaign)
        db.session.flush()
        if state == "in_flight":
            continue  # nothing mirrored: the bare ids show
        customer = {"object": "customer", "name": LONG_NAME, "email": "max@long.example"}
        mirror.upsert(db.session, ws.id, {"id": campaign.customer_stripe_id, **customer}, 1)
        plans = [{"price": {"nickname": LONG_PLAN}}, {"price": {"nickname": "Towels"}}]
        subscription = {
            "id": campaign.subscription_stripe_id,
            "object": "subscription",
            "customer": campaign.customer_stripe_id,
            "status": "past_due",
            "items": {"data": plans},
        }
        mirror.upsert(db.session, ws.id, subscription, 1)
    f.user("staff@example.com", staff_role="support")
    db.session.commit()


def test_the_campaign_list_fits_1366_px(served, browser, widest) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(served + "/login")
    page.get_by_label("Email").fill("staff@example.com")
    page.get_by_label("Password").fill(f.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.goto(served + "/admin/recovery-campaigns/")
    widths = page.evaluate(
        """() => {
            const table = document.querySelector("table.model-list");
            return {page: document.documentElement.scrollWidth, window: window.innerWidth,
                    table: table.scrollWidth, box: table.parentElement.clientWidth};
        }"""
    )
    page.screenshot(path="/tmp/admin_campaigns_1366.png")
    assert widths["page"] <= widths["window"], widths
    assert widths["table"] <= widths["box"], widths
    name = page.locator('span.cut[title^="max@long.example"]').first
    assert name.inner_text() == LONG_NAME  # whole in the DOM, cut short on screen
    assert page.evaluate("(el) => el.scrollWidth > el.clientWidth", name.element_handle())
    plan = page.locator(f'span.cut[title^="{LONG_PLAN} + Towels"]').first
    assert plan.is_visible()
