"""Checkout recovery against the sandbox: a subscription checkout with consent expires on
the test clock, the 1 h and 24 h reminders go with the plan, its price and Stripe's
recovery URL, the customer completes a checkout from that link (credited to the link,
no 72 h reminder); without consent, or by another path, or when stopped, no email."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from typing import Any

import pytest
from sqlalchemy import select

from app.checkout_recovery import settings as recovery_settings
from app.checkout_recovery.models import CheckoutRecoveryCampaign, CheckoutRecoveryStep
from app.events.models import DomainEvent
from app.extensions import db
from app.outbox.models import OutboxMessage

from ..recovery.shop import START, Shop

RECOVERY = re.compile(r"https?://\S+/c/recover/\S+")


class CheckoutShop(Shop):
    """The shop's Checkout: sessions for customers on its test clock."""

    def abandon(self, *, consent: str | None = "opt_in", email: str = "ada@example.com") -> Any:
        customer = self.client.v1.customers.create(
            params={"email": email, "name": "Ada Lovelace", "test_clock": self.clock.id}
        )
        session = self.client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer.id,
                "line_items": [{"price": self.price, "quantity": 1}],
                "success_url": "https://shop.example/thanks",
                "cancel_url": "https://shop.example/pricing",
                "after_expiration": {"recovery": {"enabled": True}},
                "consent_collection": {"promotions": "auto"},
                "expires_at": int((self.now + dt.timedelta(hours=1)).timestamp()),
            }
        )
        if consent:
            self.helper(session.id, "fill", promotions=consent)
        return session

    def helper(self, session_id: str, action: str, **params: Any) -> dict[str, Any]:
        response = self.client.raw_request(
            "post", f"/v1/test_helpers/checkout/sessions/{session_id}/{action}", **params
        )
        return json.loads(response.body)


@pytest.fixture
def shop(ctx, sandbox_url) -> CheckoutShop:
    return CheckoutShop(sandbox_url)


def campaign_of(session_id: str) -> CheckoutRecoveryCampaign | None:
    db.session.expire_all()
    return db.session.execute(
        select(CheckoutRecoveryCampaign).where(
            CheckoutRecoveryCampaign.session_stripe_id == session_id
        )
    ).scalar_one_or_none()


def steps_of(campaign: CheckoutRecoveryCampaign) -> list[tuple[str, int, str, str | None]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(CheckoutRecoveryStep)
        .where(CheckoutRecoveryStep.campaign_id == campaign.id)
        .order_by(CheckoutRecoveryStep.kind.desc(), CheckoutRecoveryStep.number)
    ).scalars()
    return [(s.kind, s.number, s.status, s.outcome) for s in rows]


def mails(to: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.to_email == to, OutboxMessage.template == "checkout_recovery")
            .order_by(OutboxMessage.id)
        ).scalars()
    )


def event_names(campaign: CheckoutRecoveryCampaign) -> list[str]:
    return list(
        db.session.execute(
            select(DomainEvent.name)
            .where(DomainEvent.subject == f"checkout_recovery_campaign:{campaign.id}")
            .order_by(DomainEvent.id)
        ).scalars()
    )


def test_an_abandoned_checkout_is_recovered_through_the_recovery_link(shop: CheckoutShop) -> None:
    session = shop.abandon()
    shop.advance(minutes=61)
    campaign = campaign_of(session.id)
    assert campaign is not None and campaign.state == "active"
    assert (campaign.plan_name, campaign.amount_minor, campaign.consent) == (
        "Studio",
        2900,
        "stripe",
    )
    assert campaign.expired_at == START + dt.timedelta(hours=1)  # the clock's time
    assert [s[:3] for s in steps_of(campaign)] == [
        ("email", 1, "pending"),
        ("email", 2, "pending"),
        ("email", 3, "pending"),
        ("close", 0, "pending"),
    ]
    assert mails("ada@example.com") == []
    shop.advance(hours=1)  # 1 h after the expiry
    (first,) = mails("ada@example.com")
    assert first.status == "sent" and "Studio" in first.body_text and "29.00" in first.body_text
    url = RECOVERY.search(first.body_text).group(0)
    assert url == campaign.recovery_url
    shop.advance(hours=23)  # 24 h after the expiry
    assert len(mails("ada@example.com")) == 2
    with urllib.request.urlopen(url, timeout=10) as page:  # the customer taps the button
        fresh_id = page.geturl().rsplit("/", 1)[1]
    done = shop.helper(fresh_id, "complete")
    assert done["recovered_from"] == session.id
    shop.catch_up()
    campaign = campaign_of(session.id)
    assert (campaign.state, campaign.won_via) == ("recovered", "link")
    assert campaign.subscription_stripe_id == done["subscription"]
    assert campaign.won_step_id is not None
    shop.advance(days=3)  # the 72 h reminder never goes
    assert len(mails("ada@example.com")) == 2
    assert ("email", 3, "cancelled", "cancelled") in steps_of(campaign)
    assert event_names(campaign) == ["checkout.recovery.started", "checkout.recovery.recovered"]


def test_without_consent_no_campaign_and_no_email(shop: CheckoutShop) -> None:
    refused = shop.abandon(consent="opt_out", email="no@example.com")
    silent = shop.abandon(consent=None, email="silent@example.com")
    shop.advance(hours=30)
    assert campaign_of(refused.id) is None and campaign_of(silent.id) is None
    assert mails("no@example.com") == [] and mails("silent@example.com") == []


def test_a_checkout_another_way_within_the_window_is_credited_to_the_email(
    shop: CheckoutShop,
) -> None:
    session = shop.abandon(email="bo@example.com")
    shop.advance(hours=2, minutes=1)
    assert len(mails("bo@example.com")) == 1
    again = shop.client.v1.checkout.sessions.create(  # the merchant's pricing page again
        params={
            "mode": "subscription",
            "customer": session.customer,
            "line_items": [{"price": shop.price, "quantity": 1}],
            "success_url": "https://shop.example/thanks",
        }
    )
    shop.helper(again.id, "complete")
    shop.catch_up()
    campaign = campaign_of(session.id)
    assert (campaign.state, campaign.won_via) == ("recovered", "email")


def test_a_checkout_before_any_reminder_is_not_claimed(shop: CheckoutShop) -> None:
    session = shop.abandon(email="cy@example.com")
    shop.advance(minutes=61)
    with urllib.request.urlopen(campaign_of(session.id).recovery_url, timeout=10) as page:
        fresh_id = page.geturl().rsplit("/", 1)[1]
    shop.helper(fresh_id, "complete")
    shop.advance(hours=2)
    campaign = campaign_of(session.id)
    assert (campaign.state, campaign.won_via) == ("returned", "other")
    assert mails("cy@example.com") == []


def test_pausing_stops_campaigns_and_starts_none(shop: CheckoutShop) -> None:
    session = shop.abandon(email="di@example.com")
    shop.advance(minutes=61)
    recovery_settings.set_paused(
        db.session, shop.workspace.id, True, by="owner@example.com", now=shop.now
    )
    db.session.commit()
    later = shop.abandon(email="ed@example.com")
    shop.advance(hours=30)
    assert campaign_of(session.id).state == "stopped"
    assert campaign_of(later.id) is None
    assert mails("di@example.com") == [] and mails("ed@example.com") == []
