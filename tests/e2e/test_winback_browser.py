"""Win back end to end in headless Chromium, with gunicorn, a Celery worker and a beat
on the sandbox: a customer cancels, the test clock moves 14 days, the first win-back
email is in the outbox with a working link, one tap on the page restarts the old price
with the card on file; the campaign is won with the MRR attributed, and the second
touch never goes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from .conftest import CHROMIUM_ARGS
from .merchant import START, Merchant
from .stack import running_stack

pytestmark = pytest.mark.browser
SHOTS = "/tmp"
TIMEOUT_MS = 20_000
LINK = re.compile(r"(https?://\S+/come-back/[A-Za-z0-9_-]+)")


@pytest.fixture
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def winback_mails(db: Any, customer: str) -> list[Any]:
    from app.outbox.models import OutboxMessage

    db.session.remove()
    return list(
        db.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.customer_stripe_id == customer, OutboxMessage.template == "winback"
            )
            .order_by(OutboxMessage.id)
        ).scalars()
    )


def campaign_of(db: Any, customer: str) -> Any:
    from app.winback.models import WinbackCampaign

    db.session.remove()
    return db.session.execute(
        select(WinbackCampaign).where(WinbackCampaign.customer_stripe_id == customer)
    ).scalar_one()


def test_cancel_then_14_days_then_one_tap_back_on_the_old_price(
    tmp_path, sandbox_url, database_url, broker_url, db_view, browser
) -> None:
    from playwright.sync_api import expect

    with running_stack(
        tmp_path, sandbox_url, database_url, broker_url, beats=1, BACKSTOP_SWEEP_SECONDS="1"
    ) as stack:
        merchant = Merchant(db_view, sandbox_url, stack.platform_key)
        cards = {
            "one_tap": "pm_card_visa",
            "bank": "pm_card_sandbox_authentication_required",
            "declined": "pm_card_sandbox_visa_insufficient_funds",
        }
        subs = {name: merchant.subscribe(card) for name, card in cards.items()}
        customers = {
            name: merchant.stripe.v1.subscriptions.retrieve(sub).customer
            for name, sub in subs.items()
        }
        customer = customers["one_tap"]
        merchant.settle(stack)
        for each in subs.values():
            merchant.stripe.v1.subscriptions.cancel(each)
        merchant.settle(stack)
        assert campaign_of(db_view, customer).state == "active"

        merchant.advance(START + dt.timedelta(days=13))
        merchant.settle(stack)
        assert winback_mails(db_view, customer) == []
        merchant.advance(START + dt.timedelta(days=15))
        merchant.settle(stack)
        [message] = winback_mails(db_view, customer)
        assert message.status == "sent", (message.status, message.error)
        link = LINK.search(message.body_text).group(1)

        context = browser.new_context(viewport={"width": 420, "height": 860})  # a phone
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(link)
        expect(page.get_by_role("heading", name="Come back to Merchant Co")).to_be_visible()
        expect(page.locator("#plan")).to_contain_text("Plan")
        page.screenshot(path=f"{SHOTS}/winback_page.png", full_page=True)
        page.get_by_role("button", name="Restart with Visa ending in 4242").click()
        expect(page.get_by_role("heading", name="Welcome back!")).to_be_visible()
        page.screenshot(path=f"{SHOTS}/winback_back.png", full_page=True)
        merchant.settle(stack)

        subs = merchant.stripe.v1.subscriptions.list(
            params={"customer": customer, "status": "active"}
        ).data
        assert len(subs) == 1 and subs[0]["items"]["data"][0]["price"]["id"] == merchant.price
        campaign = campaign_of(db_view, customer)
        assert (campaign.state, campaign.won_via, campaign.regained_mrr_minor) == (
            "won",
            "link",
            1500,
        )
        assert campaign.new_subscription_stripe_id == subs[0].id

        merchant.advance(START + dt.timedelta(days=45))
        merchant.settle(stack)
        assert len(winback_mails(db_view, customer)) == 1  # the second touch never goes
        page.goto(link)
        expect(page.get_by_role("heading", name="This link has already been used")).to_be_visible()

        # The bank wants the new subscription's payment confirmed (3-D Secure).
        page = context.new_page()
        page.goto(LINK.search(winback_mails(db_view, customers["bank"])[0].body_text).group(1))
        page.get_by_role("button", name=re.compile("Restart with Visa")).click()
        expect(page.get_by_role("button", name="Confirm the payment")).to_be_visible()
        page.screenshot(path=f"{SHOTS}/winback_confirm.png", full_page=True)
        page.get_by_role("button", name="Confirm the payment").click()
        challenge = page.frame_locator('iframe[title="3D Secure authentication"]')
        challenge.get_by_role("button", name="Approve").click()
        expect(page.locator("#done-text")).to_contain_text("Welcome back!")

        # The card on file is declined: the page asks for another, which restarts it.
        page = context.new_page()
        page.goto(LINK.search(winback_mails(db_view, customers["declined"])[0].body_text).group(1))
        page.get_by_role("button", name=re.compile("Restart with Visa")).click()
        expect(page.locator("#tap-message")).to_contain_text("declined")
        page.screenshot(path=f"{SHOTS}/winback_declined.png", full_page=True)
        page.get_by_label("Card number").fill("4242 4242 4242 4242")
        page.get_by_label("Expiration date").fill("1234")
        page.get_by_label("Security code").fill("123")
        page.get_by_label("Postal code").fill("94107")
        page.get_by_role("button", name="Save card and restart").click()
        expect(page.locator("#done-text")).to_contain_text("Welcome back!")
        merchant.settle(stack)
        for name in ("bank", "declined"):
            won = campaign_of(db_view, customers[name])
            assert (won.state, won.won_via) == ("won", "link"), name
            active = merchant.stripe.v1.subscriptions.list(
                params={"customer": customers[name], "status": "all"}
            ).data
            assert [s.status for s in active].count("active") == 1, name
            assert len(active) == 2, name  # the ended one and one new: never two new
