"""The payment wall embedded in a merchant's page, in headless Chromium.

The app is served for real (threaded werkzeug, eager tasks that run at commit) against
the Stripe sandbox; the merchant's page is served by this test on another port, so the
wall's iframe and the API call are cross-origin (though on the same site, 127.0.0.1;
one test loads the page from ``localhost``, another site, as a merchant's domain is).
The failed renewals are real: customers on a sandbox test clock whose cards decline
the second charge. The merchant's "server" is this test: it signs
``customer\\ntimestamp`` with the workspace's embed secret and renders the values into
the page. Nothing sleeps: every wait is a Playwright expectation.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from ..conftest import serve_html
from .cancel_site import build_app
from .conftest import log_in, serve

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
WALL = 'iframe[title="Update your payment method"]'
FAILING = "pm_card_sandbox_visa_insufficient_funds"
#: Who is who: a failed renewal each, except ``current`` whose renewal went through.
CARDS = {
    "signed": FAILING,
    "unsigned": FAILING,
    "dismissible": FAILING,
    "reload": FAILING,
    "cross_site": FAILING,
    "current": "pm_card_visa",
}

MERCHANT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Studio · Dashboard</title>
<style>body{margin:0;font:15px/1.5 system-ui,sans-serif;background:#f8fafc}
header{display:flex;justify-content:space-between;padding:14px 28px;background:#0f766e;color:#fff}
main{max-width:820px;margin:32px auto;padding:0 24px} .tile h2{margin:0 0 6px;font-size:16px}
.tile{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:18px 20px;margin:14px 0}
</style></head>
<body><header><b>Acme Studio</b><span>Signed in as a customer</span></header>
<main><h1>Your projects</h1>
<div class="tile"><h2>Spring campaign</h2>12 files · edited yesterday</div>
<div class="tile"><h2>Brand refresh</h2>4 files · edited last week</div>
<ol id="events" aria-label="Backstop events"></ol></main>
<script src="%(app)s/hosted/static/embed.js"></script>
<script>
var q = new URLSearchParams(location.search);
sessionStorage.loads = String((+sessionStorage.loads || 0) + 1);
document.body.setAttribute("data-loads", sessionStorage.loads);
function log(name) { return function (arg) {
  var li = document.getElementById("events").appendChild(document.createElement("li"));
  li.textContent = name + (arg && typeof arg === "object" ? " " + JSON.stringify(arg) : "");
}; }
var opts = JSON.parse(q.get("opts"));
if (q.get("callbacks") !== "none") {
  ["onUpdated", "onClose", "onCurrent", "onError"].forEach(function (n) { opts[n] = log(n); });
}
Backstop.paymentWall(opts);
</script></body></html>
"""


@dataclass
class Site:
    app_url: str
    merchant_url: str
    flask_app: Any
    client: Any
    workspace_id: int
    slug: str
    secret: str
    owner_email: str
    customers: dict[str, str]
    invoices: dict[str, str]

    def opts(self, who: str, *, signed: bool = True, age: int = 0, **extra: Any) -> dict:
        from app.api.signing import sign

        body: dict[str, Any] = {"workspace": self.slug, "customer": self.customers[who], **extra}
        if signed:
            ts = int(time.time()) - age
            body.update(timestamp=ts, signature=sign(self.secret, body["customer"], ts))
        return body

    def url(self, opts: dict, *, host: str = "127.0.0.1", **params: str) -> str:
        base = self.merchant_url.replace("//127.0.0.1:", f"//{host}:", 1)
        return f"{base}?{urlencode({'opts': json.dumps(opts), **params})}"

    def require_signatures(self, required: bool) -> None:
        from app.accounts.models import Workspace
        from app.api import embed_secrets
        from app.extensions import db

        with self.flask_app.app_context():
            workspace = db.session.get(Workspace, self.workspace_id)
            embed_secrets.set_signature_required(db.session, workspace, required)
            db.session.commit()


def merchant_site(app_url: str):
    """The merchant's own page, on an origin of its own."""
    return serve_html(MERCHANT_PAGE % {"app": app_url}, "/app")


def _failed_renewals(sandbox_url: str) -> dict[str, Any]:
    """A connected merchant whose customers renewed on a test clock; four renewals
    failed (in-flight campaigns), one went through. Runs in an app context."""
    from app.accounts.models import Membership, User
    from app.api import embed_secrets
    from app.extensions import db
    from app.stripe.models import MirrorCustomer

    from ..app.recovery.shop import START, Shop

    shop = Shop(sandbox_url)
    subscriptions = {who: shop.subscribe(card) for who, card in CARDS.items()}
    shop.advance(to=START + dt.timedelta(days=30, hours=2))
    invoices = {}
    for who, sub in subscriptions.items():
        if CARDS[who] == FAILING:
            campaign = shop.campaign(sub.id)
            assert campaign.state == "in_flight", who
            invoices[who] = campaign.invoice_stripe_id
    customers = {who: sub.customer for who, sub in subscriptions.items()}
    mirrored = db.session.execute(
        select(MirrorCustomer.stripe_id).where(MirrorCustomer.workspace_id == shop.workspace.id)
    ).scalars()
    assert set(customers.values()) <= set(mirrored)
    owner = db.session.execute(
        select(User.email).join(Membership).where(Membership.workspace_id == shop.workspace.id)
    ).scalar_one()
    secret = embed_secrets.ensure(db.session, shop.workspace)
    db.session.commit()
    return {
        "client": shop.client,
        "workspace_id": shop.workspace.id,
        "slug": shop.workspace.slug,
        "secret": secret,
        "owner_email": owner,
        "customers": customers,
        "invoices": invoices,
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sandbox_url: str) -> Iterator[Site]:
    from app.extensions import db

    from ..app.recovery.shop import PLATFORM_KEY

    database = tmp_path_factory.mktemp("wall") / "backstop.sqlite"
    # Stripe.js in the wall acts on the merchant's account through our platform.
    build = build_app(
        database,
        sandbox_url,
        stripe_publishable_key="pk_test_" + PLATFORM_KEY.removeprefix("sk_test_"),
    )
    with serve(build) as (app_url, flask_app), merchant_site(app_url) as merchant_url:
        try:
            with flask_app.app_context():
                made = _failed_renewals(sandbox_url)
            yield Site(app_url=app_url, merchant_url=merchant_url, flask_app=flask_app, **made)
        finally:
            with flask_app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="module")
def browser(chromium_browser: Any) -> Any:
    return chromium_browser


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
        site.require_signatures(False)
    assert not errors, errors


def events(page: Any) -> Any:
    return page.get_by_role("list", name="Backstop events")


def type_good_card(wall: Any) -> None:
    """Into the sandbox's Stripe.js stand-in, inside the wall's iframe."""
    wall.get_by_label("Card number").fill("4242 4242 4242 4242")
    wall.get_by_label("Expiration date").fill("12 / 34")
    wall.get_by_label("Security code").fill("123")
    wall.get_by_label("Postal code").fill("94107")


# -- the wall opens, the customer pays, the merchant's page hears it --------------------------


def test_signed_wall_opens_and_a_good_card_pays(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url(site.opts("signed")))
    overlay = page.locator('[data-backstop="overlay"]')
    expect(overlay).to_be_visible()
    expect(overlay).to_have_attribute("role", "dialog")
    wall = page.frame_locator(WALL)
    expect(wall.get_by_role("heading", name="Your last payment didn't go through")).to_be_visible()
    expect(wall.get_by_role("button", name="Close")).to_have_count(0)  # a hard wall
    type_good_card(wall)
    expect(wall.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")
    page.screenshot(path="/tmp/wall.png")

    wall.get_by_role("button", name=re.compile(r"^Save card")).click()
    expect(events(page)).to_have_text("onUpdated")
    expect(overlay).to_have_count(0)
    expect(page.locator(WALL)).to_have_count(0)
    invoice = site.client.v1.invoices.retrieve(site.invoices["signed"])
    assert invoice.status == "paid"
    assert page.evaluate("document.body.style.overflow") == ""  # the page scrolls again


def test_the_wall_on_another_site_can_save_the_card(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url(site.opts("cross_site"), host="localhost"))
    wall = page.frame_locator(WALL)
    type_good_card(wall)
    with page.expect_response(lambda r: r.url.endswith("/complete")) as answer:
        wall.get_by_role("button", name=re.compile(r"^Save card")).click()
    assert answer.value.status == 200, answer.value.text()
    expect(events(page)).to_have_text("onUpdated")


def test_unsigned_wall_opens_while_signatures_are_optional(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url(site.opts("unsigned", signed=False)))
    wall = page.frame_locator(WALL)
    expect(wall.get_by_role("heading", name="Your last payment didn't go through")).to_be_visible()
    expect(wall.get_by_label("Card number")).to_be_visible()
    expect(events(page)).to_have_text("")


def test_unsigned_is_refused_once_signatures_are_required(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    site.require_signatures(True)
    page.goto(site.url(site.opts("unsigned", signed=False)))
    expect(events(page)).to_have_text(
        'onError {"status":401,"error":"this workspace accepts signed requests only"}'
    )
    expect(page.locator(WALL)).to_have_count(0)


def test_an_expired_timestamp_is_refused(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url(site.opts("unsigned", age=600)))
    expect(events(page)).to_have_text(re.compile(r'^onError \{"status":401,"error":".*timestamp'))
    expect(page.locator(WALL)).to_have_count(0)


def test_a_customer_without_a_failed_payment_is_current(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url(site.opts("current")))
    expect(events(page)).to_have_text("onCurrent")
    expect(page.locator(WALL)).to_have_count(0)


def test_an_unknown_customer_is_an_error(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url({"workspace": site.slug, "customer": "cus_nobody"}))
    expect(events(page)).to_have_text('onError {"status":404,"error":"unknown customer"}')


# -- dismissible walls ------------------------------------------------------------------------


def test_a_dismissible_wall_closes_with_its_cross(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url(site.opts("dismissible", dismissible=True)))
    wall = page.frame_locator(WALL)
    expect(wall.get_by_label("Card number")).to_be_visible()
    wall.get_by_role("button", name="Close").click()
    expect(events(page)).to_have_text("onClose")
    expect(page.locator('[data-backstop="overlay"]')).to_have_count(0)
    assert site.client.v1.invoices.retrieve(site.invoices["dismissible"]).status == "open"


def test_with_no_callbacks_the_page_reloads_after_the_wall_closes(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.url(site.opts("reload", dismissible=True), callbacks="none"))
    expect(page.locator("body")).to_have_attribute("data-loads", "1")
    page.frame_locator(WALL).get_by_role("button", name="Close").click()
    expect(page.locator("body")).to_have_attribute("data-loads", "2")
    # The reloaded page asks again: the payment is still due, so the wall is back.
    expect(page.frame_locator(WALL).get_by_role("button", name="Close")).to_be_visible()


# -- the merchant's settings page -------------------------------------------------------------


def test_the_embed_settings_page(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    log_in(page, site.app_url, site.owner_email)
    page.wait_for_url(site.app_url + "/dashboard")
    page.get_by_role("navigation").get_by_role("link", name="Embed").click()
    page.wait_for_url(site.app_url + "/settings/embed")
    expect(page.get_by_role("heading", name="Embed", exact=True)).to_be_visible()
    secret = page.get_by_label("Embed secret")
    expect(secret).to_have_attribute("type", "password")
    expect(secret).to_have_value(site.secret)
    page.get_by_role("button", name="Show").click()
    expect(secret).to_have_attribute("type", "text")
    expect(page.get_by_role("button", name="Hide")).to_be_visible()
    expect(page.locator("#snippet-page")).to_contain_text(
        f'<script src="{site.app_url}/hosted/static/embed.js"></script>'
    )
    page.get_by_role("button", name="Hide").click()
    page.screenshot(path="/tmp/embed_settings.png", full_page=True)
