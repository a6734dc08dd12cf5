"""Campaigns against the sandbox: a renewal fails, Backstop plans, retries under the
caps on the clock's time, and closes the campaign the way the invoice ended."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.recovery.models import ChargeAttempt

from .shop import START, Shop

MONTH = dt.timedelta(days=30)


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url)


def renew(shop: Shop) -> None:
    """Past the first renewal: June 1 + a month, finalized and charged an hour later."""
    shop.advance(to=START + dt.timedelta(days=30, hours=2))


def test_a_failed_renewal_opens_one_campaign_with_its_plan(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", tz="America/New_York")
    renew(shop)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "in_flight"
    assert campaign.decline_code == "insufficient_funds"
    assert campaign.decline_class == "scheduled"
    assert campaign.card_brand == "visa" and campaign.card_fingerprint
    assert campaign.customer_tz == "America/New_York"
    assert campaign.amount_minor == 2900 and campaign.currency == "usd"
    planned = shop.steps(campaign)
    assert 1 <= len(planned) <= 4
    for step in planned:
        local = step.due_at.replace(tzinfo=dt.UTC).astimezone(
            __import__("zoneinfo").ZoneInfo("America/New_York")
        )
        assert (local.hour, local.minute) == (10, 0) and local.weekday() < 5
        assert step.reason
    [window] = shop.steps(campaign, "window_end")
    assert window.status == "pending"
    attempts = db.session.execute(select(ChargeAttempt)).scalars().all()
    assert len(attempts) == 1 and attempts[0].source == "stripe"


def test_retries_run_on_the_clock_and_recover(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds_recover2")
    renew(shop)
    campaign = shop.campaign(sub.id)
    first = shop.steps(campaign)[0]
    shop.advance(to=first.due_at.replace(tzinfo=dt.UTC))
    first = db.session.get(type(first), first.id)
    assert first.outcome == "declined", first.outcome_detail
    second = next(s for s in shop.steps(campaign) if s.status == "pending")
    shop.advance(to=second.due_at.replace(tzinfo=dt.UTC))
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered", [
        (s.status, s.outcome, s.outcome_detail) for s in shop.steps(campaign)
    ]
    assert campaign.attribution == "retry"
    window = shop.steps(campaign, "window_end")[0]
    assert window.status == "cancelled"
    sources = sorted(a.source for a in db.session.execute(select(ChargeAttempt)).scalars())
    assert sources == ["backstop", "backstop", "stripe"]
