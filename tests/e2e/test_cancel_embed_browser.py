"""The cancel flow opened from embed.js on a merchant's page, in headless Chromium, with
the offers applied on the sandbox for real and checked on the test clock afterwards:

- "Too expensive", 20 % off for 3 months: the next renewal invoice is 20 % lower;
- "Not using it", a 2-month pause: no renewal is paid until the pause ends;
- "Cancel anyway" in one tap: the subscription ends at the end of its period.

The merchant's page is served on another port; its "server" (this test) signs
``customer\\nsubscription\\ntimestamp`` with the workspace's embed secret.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from ..conftest import serve_html
from .cancel_site import CancelSite

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
MODAL = 'iframe[title="Cancel your subscription"]'
MERCHANT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Studio · Billing</title></head>
<body><h1>Billing</h1><p>Studio plan, 29.00 USD a month.</p>
<button id="cancel">Cancel subscription</button>
<ol id="events" aria-label="Backstop events"></ol>
<script src="%(app)s/hosted/static/embed.js"></script>
<script>
var opts = JSON.parse(new URLSearchParams(location.search).get("opts"));
function log(name) { return function (arg) {
  var li = document.getElementById("events").appendChild(document.createElement("li"));
  li.textContent = name + (arg ? " " + arg : "");
}; }
["onSaved", "onCancelled", "onClose", "onError"].forEach(function (n) { opts[n] = log(n); });
document.getElementById("cancel").addEventListener("click", function () { Backstop.cancel(opts); });
</script></body></html>
"""


@pytest.fixture(scope="module")
def merchant(cancel_site: CancelSite) -> Iterator[str]:
    with serve_html(MERCHANT_PAGE % {"app": cancel_site.app_url}, "/billing") as url:
        yield url


@pytest.fixture
def shop(cancel_site: CancelSite) -> Any:
    """A fresh merchant account on its own clock, with SaaS Standard live and its
    discount set to 20 % off for 3 months."""
    from app.api import embed_secrets
    from app.extensions import db
    from app.retain import drafts, flows

    from ..app.recovery.shop import Shop

    shop = Shop(cancel_site.shop.url)
    shop.secret = embed_secrets.ensure(db.session, shop.workspace)
    flow = flows.create_from_template(
        db.session,
        shop.workspace.id,
        "saas_standard",
        actor_id=None,
        actor_label="t",
        support_email=None,
    )
    step = copy.deepcopy(next(s for s in flow.draft["steps"] if s["id"] == "offer_discount"))
    step["offer"]["percent_off"] = 20
    step["accept_label"] = "Take 20 % off"
    drafts.update_step(db.session, flow, step)
    flows.publish(db.session, flow, actor_id=None, actor_label="t")
    db.session.commit()
    return shop


def page_for(browser: Any, merchant: str, shop: Any, sub: Any) -> Any:
    from app.api.signing import sign

    ts = int(time.time())
    opts = {
        "workspace": shop.workspace.slug,
        "customer": sub.customer,
        "subscription": sub.id,
        "timestamp": ts,
        "signature": sign(shop.secret, sub.customer, ts, sub.id),
    }
    page = browser.new_page(viewport={"width": 1200, "height": 860})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{merchant}?{urlencode({'opts': json.dumps(opts)})}")
    page.get_by_role("button", name="Cancel subscription").click()
    return page


def choose(frame: Any, reason: str) -> None:
    frame.get_by_label(reason, exact=True).check()
    frame.locator("#survey").get_by_role("button", name="Continue").click()


def renewals(shop: Any, sub_id: str) -> list[Any]:
    invoices = shop.client.v1.invoices.list(params={"subscription": sub_id, "limit": 100}).data
    return sorted(
        (i for i in invoices if i.billing_reason == "subscription_cycle"), key=lambda i: i.created
    )


def test_too_expensive_takes_20_off_and_the_next_renewal_is_20_lower(
    chromium_browser: Any, merchant: str, shop: Any
) -> None:
    from playwright.sync_api import expect

    sub = shop.subscribe("pm_card_visa")
    page = page_for(chromium_browser, merchant, shop, sub)
    frame = page.frame_locator(MODAL)
    choose(frame, "It's too expensive")
    expect(frame.locator(".offer-name")).to_have_text("20% off for 3 months")
    expect(frame.locator(".saving")).to_have_text("You save $17.40")
    frame.get_by_role("button", name="Take 20 % off").click()
    expect(frame.locator("#outcome")).to_have_attribute("data-state", "saved")
    frame.get_by_role("button", name="Done").click()
    expect(page.locator('[data-backstop="overlay"]')).to_have_count(0)
    events = page.get_by_role("list", name="Backstop events")
    expect(events).to_contain_text("onSaved saved")
    expect(events).to_contain_text("onClose saved")
    page.close()

    shop.advance(days=31, hours=2)
    [renewal] = renewals(shop, sub.id)
    assert (renewal.status, renewal.total, renewal.amount_paid) == ("paid", 2320, 2320)


def test_not_using_it_pauses_and_nothing_is_paid_until_the_pause_ends(
    chromium_browser: Any, merchant: str, shop: Any
) -> None:
    from playwright.sync_api import expect

    sub = shop.subscribe("pm_card_visa")
    page = page_for(chromium_browser, merchant, shop, sub)
    frame = page.frame_locator(MODAL)
    choose(frame, "I'm not using it enough")
    expect(frame.locator(".offer-name")).to_have_text("Pause for 2 months")
    frame.get_by_role("button", name="Pause for 2 months").click()
    expect(frame.locator("#outcome")).to_have_attribute("data-state", "saved")
    expect(frame.locator(".lede")).to_contain_text(
        "Your subscription is paused until August 1, 2026"
    )
    page.close()

    paused = shop.client.v1.subscriptions.retrieve(sub.id)
    resumes_at = dt.datetime.fromtimestamp(paused.pause_collection.resumes_at, dt.UTC)
    assert resumes_at == shop.now.replace(month=shop.now.month + 2)
    shop.advance(to=resumes_at - dt.timedelta(hours=1))
    paused_renewals = renewals(shop, sub.id)  # the one a month in, inside the pause
    assert [(i.status, i.amount_paid) for i in paused_renewals] == [("void", 0)]
    shop.advance(to=resumes_at + dt.timedelta(hours=2))  # the renewal as the pause ends
    assert [i.status for i in renewals(shop, sub.id)][-1] == "paid"


def test_cancel_anyway_in_one_tap_ends_the_subscription_at_period_end(
    chromium_browser: Any, merchant: str, shop: Any
) -> None:
    from playwright.sync_api import expect

    sub = shop.subscribe("pm_card_visa")
    page = page_for(chromium_browser, merchant, shop, sub)
    frame = page.frame_locator(MODAL)
    frame.get_by_role("button", name="Cancel anyway").click()
    expect(frame.locator("#outcome")).to_have_attribute("data-state", "cancelled")
    expect(frame.get_by_text("You can keep using Studio until")).to_be_visible()
    frame.get_by_role("button", name="Done").click()
    events = page.get_by_role("list", name="Backstop events")
    expect(events).to_contain_text("onCancelled cancelled")
    expect(events).to_contain_text("onClose cancelled")
    page.close()

    ending = shop.client.v1.subscriptions.retrieve(sub.id)
    assert ending.status == "active" and ending.cancel_at_period_end is True
    shop.advance(days=31)
    assert shop.client.v1.subscriptions.retrieve(sub.id).status == "canceled"
