"""Dunning end to end in headless Chromium, with gunicorn, a Celery worker and a beat
on the sandbox: a renewal fails, the d0 email lands in the outbox, its link opens the
card-update page, a card is entered in the Stripe.js stand-in, the invoice is paid and
the campaign recovered with attribution ``card_update``; the remaining touches are
cancelled. Also a card declined on the page, a 3-D Secure card, a payment the bank
must confirm, and expired and used links."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from .conftest import CHROMIUM_ARGS
from .merchant import RENEWAL_CHARGED, Merchant
from .stack import running_stack, wait_until

pytestmark = pytest.mark.browser
SHOTS = "/tmp"
TIMEOUT_MS = 20_000
LINK = re.compile(r"(https?://\S+/update-card/[A-Za-z0-9_-]+)")


@pytest.fixture
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def page_of(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 420, "height": 860})  # a phone
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def fill_card(page: Any, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date").fill("1234")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Postal code").fill("94107")


def d0_link(db: Any, customer: str) -> str:
    from app.outbox.models import OutboxMessage

    db.session.remove()
    message = db.session.execute(
        select(OutboxMessage).where(
            OutboxMessage.customer_stripe_id == customer, OutboxMessage.template == "dunning"
        )
    ).scalar_one()
    assert message.status == "sent", (message.status, message.error)
    match = LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(1)


def campaign_of(db: Any, customer: str) -> Any:
    from app.recovery.models import Campaign

    db.session.remove()
    return db.session.execute(
        select(Campaign).where(Campaign.customer_stripe_id == customer)
    ).scalar_one()


def touches(db: Any, campaign_id: int) -> list[tuple[str, str]]:
    from app.recovery.models import Step

    db.session.remove()
    rows = db.session.execute(
        select(Step)
        .where(Step.campaign_id == campaign_id, Step.kind == "email")
        .order_by(Step.due_at)
    ).scalars()
    return [(s.touch, s.status) for s in rows]


def test_dunning_email_to_card_update_page_to_recovered(
    tmp_path, sandbox_url, database_url, broker_url, db_view, browser
) -> None:
    from playwright.sync_api import expect

    with running_stack(
        tmp_path, sandbox_url, database_url, broker_url, beats=1, BACKSTOP_SWEEP_SECONDS="1"
    ) as stack:
        merchant = Merchant(db_view, sandbox_url, stack.platform_key)
        subs = {
            name: merchant.subscribe("pm_card_sandbox_visa_insufficient_funds")
            for name in ("good", "declined", "secure", "bank", "expired")
        }
        subs["confirm"] = merchant.subscribe("pm_card_sandbox_authentication_required")
        customers = {
            name: merchant.stripe.v1.subscriptions.retrieve(sub).customer
            for name, sub in subs.items()
        }
        merchant.settle(stack)
        merchant.advance(RENEWAL_CHARGED)
        merchant.settle(stack)
        links = {name: d0_link(db_view, customer) for name, customer in customers.items()}
        assert "Confirm the payment" in _body(db_view, customers["confirm"])  # the 3-D Secure copy

        # A good card: paid at once, recovered by the card update, touches cancelled.
        page = page_of(browser)
        page.goto(links["good"])
        expect(page.get_by_role("heading", name="Update your card")).to_be_visible()
        expect(page.get_by_text("$15.00", exact=True)).to_be_visible()
        page.screenshot(path=f"{SHOTS}/card_update_form.png", full_page=True)
        fill_card(page, "4242 4242 4242 4242")
        page.get_by_role("button", name=re.compile("Save card and pay")).click()
        expect(page.locator("#done-text")).to_have_text("Thank you! Your payment went through.")
        page.screenshot(path=f"{SHOTS}/card_update_paid.png", full_page=True)
        merchant.settle(stack)
        campaign = campaign_of(db_view, customers["good"])
        assert (campaign.state, campaign.attribution) == ("recovered", "card_update")
        assert touches(db_view, campaign.id) == [
            ("d0", "done"),
            ("d3", "cancelled"),
            ("d7", "cancelled"),
            ("d14", "cancelled"),
        ]
        # The same link again: used.
        page.goto(links["good"])
        expect(page.get_by_role("heading", name="You're all paid up")).to_be_visible()
        expect(page.get_by_text("nothing more to do")).to_be_visible()
        expect(page.get_by_role("button", name="Email me a new link")).to_have_count(0)

        # A card that saves but is declined when charged: shown inline, then another works.
        page = page_of(browser)
        page.goto(links["declined"])
        fill_card(page, "4000 0000 0000 0341")
        page.get_by_role("button", name=re.compile("Save card and pay")).click()
        expect(page.locator("#card-error")).to_contain_text("declined")
        page.screenshot(path=f"{SHOTS}/card_update_declined.png", full_page=True)
        fill_card(page, "5555 5555 5555 4444")
        page.get_by_role("button", name=re.compile("Save card and pay")).click()
        expect(page.locator("#done-text")).to_have_text("Thank you! Your payment went through.")

        # A card that asks for 3-D Secure when it is set up.
        page = page_of(browser)
        page.goto(links["secure"])
        fill_card(page, "4000 0025 0000 3155")
        page.get_by_role("button", name=re.compile("Save card and pay")).click()
        challenge = page.frame_locator('iframe[title="3D Secure authentication"]')
        challenge.get_by_role("button", name="Approve").click()
        expect(page.locator("#done-text")).to_have_text("Thank you! Your payment went through.")

        # A card whose every payment needs the bank: the page asks for it, then paid.
        page = page_of(browser)
        page.goto(links["bank"])
        fill_card(page, "4000 0027 6000 3184")
        page.get_by_role("button", name=re.compile("Save card and pay")).click()
        challenge = page.frame_locator('iframe[title="3D Secure authentication"]')
        challenge.get_by_role("button", name="Approve").click()  # the setup
        challenge = page.frame_locator('iframe[title="3D Secure authentication"]')
        challenge.get_by_role("button", name="Approve").click()  # the payment
        expect(page.locator("#done-text")).to_have_text("Thank you! Your payment went through.")

        # The renewal itself waits for the bank: the email's link confirms it, no new card.
        page = page_of(browser)
        page.goto(links["confirm"])
        expect(page.get_by_role("heading", name="Confirm your payment")).to_be_visible()
        page.screenshot(path=f"{SHOTS}/card_update_confirm.png", full_page=True)
        page.get_by_role("button", name=re.compile("Confirm the payment")).click()
        challenge = page.frame_locator('iframe[title="3D Secure authentication"]')
        challenge.get_by_role("button", name="Approve").click()
        expect(page.locator("#done-text")).to_have_text("Thank you! Your payment went through.")

        # An expired link.
        from app.dunning.models import CardUpdateLink

        db_view.session.remove()
        expired_campaign = campaign_of(db_view, customers["expired"])
        link = db_view.session.execute(
            select(CardUpdateLink).where(CardUpdateLink.campaign_id == expired_campaign.id)
        ).scalar_one()
        link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db_view.session.commit()
        page = page_of(browser)
        page.goto(links["expired"])
        expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
        page.screenshot(path=f"{SHOTS}/card_update_expired.png", full_page=True)
        page.get_by_role("button", name="Email me a new link").click()
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

        merchant.settle(stack)
        for name in ("declined", "secure", "bank"):
            campaign = campaign_of(db_view, customers[name])
            assert (campaign.state, campaign.attribution) == ("recovered", "card_update"), name
        assert campaign_of(db_view, customers["expired"]).state == "in_flight"
        confirmed = campaign_of(db_view, customers["confirm"])
        assert confirmed.decline_code == "authentication_required"
        assert confirmed.state == "recovered"
        wait_until(
            "the fresh link's email",
            lambda: _fresh_sent(db_view, customers["expired"]),
            diagnose=stack.diagnose,
        )


def _body(db: Any, customer: str) -> str:
    from app.outbox.models import OutboxMessage

    db.session.remove()
    return db.session.execute(
        select(OutboxMessage.body_text).where(OutboxMessage.customer_stripe_id == customer)
    ).scalar_one()


def _fresh_sent(db: Any, customer: str) -> bool:
    from app.outbox.models import OutboxMessage

    db.session.remove()
    row = db.session.execute(
        select(OutboxMessage).where(
            OutboxMessage.customer_stripe_id == customer,
            OutboxMessage.template == "card_update_link",
        )
    ).scalar_one_or_none()
    return row is not None and row.status == "sent"
