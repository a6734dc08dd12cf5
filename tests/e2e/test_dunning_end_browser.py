"""The end of dunning in headless Chromium on the running stack: a card-update link
carrying the last-chance discount shows it and, paid through, sets the discount on the
subscription; the pause offer's page pauses in one tap (its CSRF token travels with the
browser's session cookie) and a second tap meets the paused dead end."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from .merchant import RENEWAL_CHARGED, Merchant
from .stack import running_stack
from .test_card_update_browser import browser, campaign_of, d0_link, fill_card, page_of  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_discount_and_the_pause_offer_in_a_browser(
    tmp_path,
    sandbox_url,
    database_url,
    broker_url,
    db_view,
    browser,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    from app.dunning import links
    from app.dunning.models import CardUpdateLink

    with running_stack(
        tmp_path, sandbox_url, database_url, broker_url, beats=1, BACKSTOP_SWEEP_SECONDS="1"
    ) as stack:
        merchant = Merchant(db_view, sandbox_url, stack.platform_key)
        subs = {
            name: merchant.subscribe("pm_card_sandbox_visa_insufficient_funds")
            for name in ("discount", "pause")
        }
        customers = {
            name: merchant.stripe.v1.subscriptions.retrieve(sub).customer
            for name, sub in subs.items()
        }
        merchant.settle(stack)
        merchant.advance(RENEWAL_CHARGED)
        merchant.settle(stack)
        card_url = d0_link(db_view, customers["discount"])
        base = card_url.split("/update-card/")[0]

        # The link carries the final touch's offer (as the last email's link does).
        campaign = campaign_of(db_view, customers["discount"])
        link = db_view.session.execute(
            select(CardUpdateLink).where(CardUpdateLink.campaign_id == campaign.id)
        ).scalar_one()
        link.discount_percent, link.discount_months = 20, 3
        link_id = link.id
        db_view.session.commit()
        page = page_of(browser)
        page.goto(card_url)
        expect(page.locator("#last-chance")).to_have_text(
            "Last chance: pay now and get 20% off your next 3 months."
        )
        fill_card(page, "4242 4242 4242 4242")
        page.get_by_role("button", name=re.compile("Save card and pay")).click()
        expect(page.locator("#done-text")).to_have_text("Thank you! Your payment went through.")
        db_view.session.remove()
        assert db_view.session.get(CardUpdateLink, link_id).discount_applied_at is not None
        discounted = merchant.stripe.v1.subscriptions.retrieve(subs["discount"])
        assert len(discounted.discounts) == 1

        # The pause offer's page.
        campaign = campaign_of(db_view, customers["pause"])
        pause_link, token = links.issue(
            db_view.session,
            campaign.workspace_id,
            purpose="pause_offer",
            customer_id=campaign.customer_stripe_id,
            campaign_id=campaign.id,
            invoice_id=campaign.invoice_stripe_id,
            subscription_id=campaign.subscription_stripe_id,
            now=dt.datetime.now(dt.UTC),
        )
        pause_link.pause_days = 30
        invoice_id = campaign.invoice_stripe_id
        db_view.session.commit()
        page = page_of(browser)
        page.goto(f"{base}/pause-offer/{token}")
        expect(page.get_by_role("heading", name="Take a break instead")).to_be_visible()
        expect(page.get_by_text("is forgiven")).to_be_visible()
        page.get_by_role("button", name="Pause my subscription").click()
        expect(page.get_by_role("heading", name="Your subscription is paused")).to_be_visible()
        page.screenshot(path="/tmp/pause_offer_paused.png", full_page=True)
        page.go_back()
        page.reload()
        expect(page.get_by_role("heading", name="Your subscription is paused")).to_be_visible()
        paused = merchant.stripe.v1.subscriptions.retrieve(subs["pause"])
        assert paused.pause_collection.behavior == "void"
        assert campaign_of(db_view, customers["pause"]).state == "abandoned"
        assert merchant.stripe.v1.invoices.retrieve(invoice_id).status == "void"
