"""The customer portal in headless Chromium against the sandbox, every action checked
on Stripe afterwards: opened from embed.js on a merchant's page (modal, and a new tab),
pause and resume, upgrade with the proration preview, a downgrade for the renewal and
keeping the plan, cancel through the cancel flow and "Don't cancel", a new card through
the card-update page, billing details and tax ids, and the invoice links."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from ..conftest import serve_html
from .cancel_site import build_app
from .conftest import serve

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
SHOTS = "/tmp"
MODAL = 'iframe[title="Billing"]'
MERCHANT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Studio · Account</title></head>
<body><h1>Account</h1>
<button id="billing">Billing</button>
<ol id="events" aria-label="Backstop events"></ol>
<script src="%(app)s/hosted/static/embed.js"></script>
<script>
var opts = JSON.parse(new URLSearchParams(location.search).get("opts"));
function log(name) { return function (arg) {
  var li = document.getElementById("events").appendChild(document.createElement("li"));
  li.textContent = name + (arg ? " " + arg : "");
}; }
if (opts.mode !== "tab") {
  ["onUpdated", "onClose", "onError"].forEach(function (n) { opts[n] = log(n); });
}
document.getElementById("billing").addEventListener("click", function () {
  Backstop.portal(opts);
});
</script></body></html>
"""


class Site:
    def __init__(self, app_url: str, shop: Any) -> None:
        self.app_url, self.shop = app_url, shop

    def portal_url(self, customer: str) -> str:
        import urllib.request

        request = urllib.request.Request(
            self.app_url + "/api/embed/portal",
            data=json.dumps(self.shop.signed(customer)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["url"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sandbox_url: str) -> Iterator[Site]:
    from app.extensions import db

    from ..app.portal.conftest import PortalShop
    from ..app.recovery.shop import PLATFORM_KEY

    database = tmp_path_factory.mktemp("portal") / "backstop.sqlite"
    build = build_app(
        database,
        sandbox_url,
        stripe_publishable_key="pk_test_" + PLATFORM_KEY.removeprefix("sk_test_"),
    )
    with serve(build) as (app_url, flask_app):
        ctx = flask_app.app_context()
        ctx.push()
        try:
            shop = PortalShop(sandbox_url)
            from app.portal import settings as portal_settings

            portal_settings.save(
                db.session,
                shop.workspace.id,
                {
                    "switch_price_ids": [shop.price, shop.plus, shop.lite],
                    "pause_months": ["1", "2"],
                    "can_cancel": True,
                    "shows_invoices": True,
                    "detail_fields": ["email", "name", "address", "tax_id"],
                    "button_style": "pill",
                    "shows_powered_by": True,
                    "support_email": "help@acme.example",
                },
                known_price_ids=None,
            )
            db.session.commit()
            yield Site(app_url, shop)
        finally:
            db.session.remove()
            db.engine.dispose()
            ctx.pop()


@pytest.fixture
def page(chromium_browser: Any) -> Iterator[Any]:
    context = chromium_browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def _sub(site: Site, retrieve: str) -> Any:
    return site.shop.client.v1.subscriptions.retrieve(retrieve)


def test_from_the_merchants_page_a_pause_then_closing_reports_an_update(
    site: Site, page: Any
) -> None:
    from playwright.sync_api import expect

    sub = site.shop.subscribe("pm_card_visa", email="modal@example.com")
    opts = site.shop.signed(sub.customer)
    with serve_html(MERCHANT_PAGE % {"app": site.app_url}, "/account") as merchant:
        page.goto(f"{merchant}?{urlencode({'opts': json.dumps(opts)})}")
        page.get_by_role("button", name="Billing").click()
        frame = page.frame_locator(MODAL)
        expect(frame.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
        expect(frame.locator(".lede")).to_have_text("modal@example.com")
        page.screenshot(path=f"{SHOTS}/portal_modal.png", full_page=True)
        frame.get_by_text("Pause", exact=True).click()
        frame.get_by_label("2 months").check()
        frame.get_by_role("button", name="Pause subscription").click()
        expect(frame.locator("#notice")).to_have_text("Your subscription is paused.")
        expect(frame.get_by_text("Paused until August 1, 2026")).to_be_visible()
        frame.get_by_role("button", name="Close").click()
        expect(page.locator("#events li")).to_have_text(["onUpdated updated", "onClose updated"])
    assert _sub(site, sub.id).pause_collection.behavior == "void"


def test_a_new_tab_opens_the_portal(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    sub = site.shop.subscribe("pm_card_visa", email="tab@example.com")
    opts = {**site.shop.signed(sub.customer), "mode": "tab"}
    with serve_html(MERCHANT_PAGE % {"app": site.app_url}, "/account") as merchant:
        page.goto(f"{merchant}?{urlencode({'opts': json.dumps(opts)})}")
        with page.context.expect_page() as opened:
            page.get_by_role("button", name="Billing").click()
        tab = opened.value
        expect(tab.locator(".lede")).to_have_text("tab@example.com")
        assert "/portal/" in tab.url


def test_resume_then_upgrade_with_the_proration_preview(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    sub = site.shop.subscribe("pm_card_visa")
    url = site.portal_url(sub.customer)
    page.goto(url)
    page.get_by_text("Pause", exact=True).click()
    page.get_by_label("1 month").check()
    page.get_by_role("button", name="Pause subscription").click()
    page.get_by_role("button", name="Resume now").click()
    expect(page.locator("#notice")).to_have_text("Your subscription is active again.")
    assert not _sub(site, sub.id).pause_collection
    page.get_by_text("Change plan").click()
    page.get_by_role("link", name=re.compile("Studio Plus")).click()
    expect(page.get_by_role("heading", name="Change to Studio Plus")).to_be_visible()
    expect(page.locator("#proration")).to_contain_text("Next invoice")
    page.screenshot(path=f"{SHOTS}/portal_switch.png", full_page=True)
    page.get_by_role("button", name="Confirm change").click()
    expect(page.locator("#notice")).to_have_text("Your plan has been changed.")
    assert _sub(site, sub.id)["items"].data[0].price.id == site.shop.plus


def test_a_downgrade_waits_and_can_be_taken_back(site: Site, page: Any) -> None:
    from playwright.sync_api import expect
    from sqlalchemy import select

    from app.extensions import db
    from app.portal.models import PortalChange

    sub = site.shop.subscribe("pm_card_visa")
    page.goto(site.portal_url(sub.customer))
    page.get_by_text("Change plan").click()
    page.get_by_role("link", name=re.compile("Lite")).click()
    expect(page.locator("#at-renewal")).to_contain_text("July 1, 2026")
    page.get_by_role("button", name="Confirm change").click()
    expect(page.get_by_text("Changes to Lite at your next renewal.")).to_be_visible()
    page.get_by_role("button", name="Keep my current plan").click()
    expect(page.locator("#notice")).to_have_text("You'll stay on your current plan.")
    db.session.remove()
    change = db.session.execute(
        select(PortalChange).where(PortalChange.subscription_stripe_id == sub.id)
    ).scalar_one()
    assert change.status == "cancelled"
    assert _sub(site, sub.id)["items"].data[0].price.id == site.shop.price


def test_cancel_runs_the_flow_and_dont_cancel_undoes_it(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    from app.extensions import db
    from app.retain import flows

    if not flows.has_published_flow(db.session, site.shop.workspace.id):
        flows.create_from_template(
            db.session,
            site.shop.workspace.id,
            "saas_standard",
            actor_id=None,
            actor_label="t",
            support_email=None,
        )
        db.session.commit()
    sub = site.shop.subscribe("pm_card_visa")
    page.goto(site.portal_url(sub.customer))
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_role("button", name="Cancel anyway")).to_be_visible()
    page.get_by_role("button", name="Cancel anyway").click()
    expect(page.locator("[data-state='cancelled']")).to_be_visible()
    assert _sub(site, sub.id).cancel_at_period_end
    page.get_by_role("link", name=re.compile("Back")).first.click()
    expect(page.get_by_text("Ends July 1, 2026")).to_be_visible()
    page.get_by_role("button", name="Don't cancel").click()
    expect(page.locator("#notice")).to_have_text("Your subscription will continue.")
    assert not _sub(site, sub.id).cancel_at_period_end


def test_a_new_card_through_the_card_page(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    from .test_card_update_browser import fill_card

    sub = site.shop.subscribe("pm_card_visa")
    page.goto(site.portal_url(sub.customer))
    expect(page.locator("#card")).to_contain_text("4242")
    page.get_by_role("button", name="Update card").click()
    expect(page.get_by_role("heading", name="Update your card")).to_be_visible()
    fill_card(page, "5555 5555 5555 4444")
    page.get_by_role("button", name=re.compile("Save card")).click()
    expect(page.locator("#done-text")).to_contain_text("saved")
    customer = site.shop.client.v1.customers.retrieve(
        sub.customer, params={"expand": ["invoice_settings.default_payment_method"]}
    )
    stripe_sub = site.shop.client.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["default_payment_method"]}
    )
    default = stripe_sub.default_payment_method or customer.invoice_settings.default_payment_method
    assert default.card.last4 == "4444"


def test_billing_details_and_tax_ids(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    sub = site.shop.subscribe("pm_card_visa", email="details@example.com")
    page.goto(site.portal_url(sub.customer))
    page.get_by_role("link", name="Update").click()
    page.get_by_label("Name").fill("Dana Example")
    page.get_by_label("Billing email").fill("not an email")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error")).to_contain_text("Enter an email address")
    page.get_by_label("Billing email").fill("dana@example.com")
    page.get_by_label("Address line 1").fill("Unter den Linden 1")
    page.get_by_label("Postal code").fill("10117")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Country (2 letters, e.g. DE)").fill("DE")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_have_text("Your billing details are saved.")
    customer = site.shop.client.v1.customers.retrieve(sub.customer)
    assert (customer.name, customer.email, customer.address.city) == (
        "Dana Example",
        "dana@example.com",
        "Berlin",
    )
    page.get_by_role("link", name="Update").click()
    page.get_by_label("Kind").select_option("eu_vat")
    page.get_by_label("Number", exact=True).fill("DE123456789")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("DE123456789")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/portal_details.png", full_page=True)
    tax_ids = site.shop.client.v1.customers.tax_ids.list(sub.customer).data
    assert [(t.type, t.value) for t in tax_ids] == [("eu_vat", "DE123456789")]
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("DE123456789")).to_have_count(0)
    assert site.shop.client.v1.customers.tax_ids.list(sub.customer).data == []


def test_invoice_links_open_stripes_invoice_page_and_pdf(site: Site, page: Any) -> None:
    import urllib.request

    from playwright.sync_api import expect

    sub = site.shop.subscribe("pm_card_visa")
    page.goto(site.portal_url(sub.customer))
    row = page.locator("table.invoices tbody tr").first
    expect(row).to_contain_text("$29.00")
    expect(row).to_contain_text("Paid")
    pdf = row.get_by_role("link", name="PDF").get_attribute("href")
    with urllib.request.urlopen(pdf, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/pdf")
        assert response.read(5) == b"%PDF-"
    with page.context.expect_page() as opened:
        row.get_by_role("link", name="View").click()
    invoice_page = opened.value
    invoice_page.wait_for_load_state()
    assert "/invoice/" in invoice_page.url
