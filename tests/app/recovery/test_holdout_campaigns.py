"""Held-out campaigns against the sandbox: opened and tracked, no step of Backstop's
(no retry, no email, nothing after a card change or a resume), closed lost by the window
or recovered by the customer, and counted apart in the rollups."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.events.models import DomainEvent
from app.extensions import db
from app.insights import rollups
from app.recovery import campaigns, config, holdout, queries
from app.recovery.models import Campaign, Step

from .shop import START, Shop


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url)


def hold_out_everything(shop: Shop) -> None:
    """Every invoice drawn is held out: a share of 100 % (above what the page allows,
    so the draw itself, not a stub, decides)."""
    row = config.save_holdout(db.session, shop.workspace.id, 5)
    row.holdout_percent = 100
    db.session.commit()


def renew(shop: Shop) -> None:
    shop.advance(to=START + dt.timedelta(days=30, hours=2))


def reload(campaign: Campaign) -> Campaign:
    db.session.expire_all()
    found = db.session.get(Campaign, campaign.id)
    assert found is not None
    return found


def planned(campaign) -> list[Step]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(Step).where(Step.campaign_id == campaign.id, Step.status == "pending")
        ).scalars()
    )


def test_a_held_out_campaign_gets_no_step_and_is_lost_when_its_window_ends(shop) -> None:
    hold_out_everything(shop)
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    assert campaign.is_holdout and campaign.holdout_percent == 100
    assert campaign.state == "in_flight"
    assert [s.kind for s in planned(campaign)] == ["window_end"]
    [entry] = [e for e in queries.timeline(db.session, campaign) if e.kind == "holdout"]
    assert entry.outcome_detail == holdout.reason(100)

    # A card change, a pause and a resume plan nothing for it either.
    assert (
        campaigns.on_card_changed(
            db.session, shop.workspace.id, campaign.customer_stripe_id, shop.now, now=shop.now
        )
        == []
    )
    campaigns.pause(db.session, shop.workspace.id, actor="me", now=shop.now)
    campaigns.resume(db.session, shop.workspace.id, actor="me", now=shop.now)
    db.session.commit()
    assert [s.kind for s in planned(campaign)] == ["window_end"]

    shop.advance(days=31)
    campaign = reload(campaign)
    assert campaign.state == "lost"
    every = shop.steps(campaign, "retry") + shop.steps(campaign, "email")
    assert every == []
    lost = db.session.execute(
        select(DomainEvent).where(
            DomainEvent.name == "recovery.campaign.lost",
            DomainEvent.subject == f"campaign:{campaign.id}",
        )
    ).scalar_one()
    assert lost.data["is_holdout"] is True and lost.data["holdout_percent"] == 100

    rollups.rebuild(db.session, shop.workspace.id)
    metrics = {metric for (_d, metric, _k, _c) in rollups.stored(db.session, shop.workspace.id)}
    assert metrics == {"holdout_failed", "holdout_lost"}


def test_a_held_out_campaign_paid_by_the_customer_is_recovered_apart(shop) -> None:
    hold_out_everything(shop)
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    shop.catch_up()
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "customer_paid"
    rollups.rebuild(db.session, shop.workspace.id)
    metrics = {metric for (_d, metric, _k, _c) in rollups.stored(db.session, shop.workspace.id)}
    assert metrics == {"holdout_failed", "holdout_recovered"}


def test_a_treated_campaign_drawn_while_on_acts_and_counts_as_the_comparison(shop) -> None:
    config.save_holdout(db.session, shop.workspace.id, 5)
    db.session.commit()
    # Three failures at 5 %: all three held out is a 1-in-8,000 draw (the invoice ids are
    # the sandbox's), so one of them is treated.
    subs = [shop.subscribe("pm_card_sandbox_insufficient_funds") for _ in range(3)]
    renew(shop)
    drawn = [shop.campaign(sub.id) for sub in subs]
    campaign = next(c for c in drawn if not c.is_holdout)
    assert all(c.holdout_percent == 5 for c in drawn)
    assert {s.kind for s in planned(campaign)} >= {"retry", "window_end"}
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    shop.catch_up()
    assert reload(campaign).state == "recovered"
    rollups.rebuild(db.session, shop.workspace.id)
    metrics = {metric for (_d, metric, _k, _c) in rollups.stored(db.session, shop.workspace.id)}
    assert "failed" in metrics and {"recovered", "treated_recovered"} <= metrics


def test_staff_cannot_retry_it_and_a_stray_retry_is_dropped_when_due(shop) -> None:
    from app.recovery import operations, planning

    hold_out_everything(shop)
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    with pytest.raises(operations.OperationRefused, match="held out"):
        operations.retry_now(db.session, campaign, actor="staff", now=shop.now)
    # A retry that got planned anyway (none should) is dropped at the moment it is due.
    stray = planning.add_step(
        db.session, campaign, "retry", shop.now + dt.timedelta(hours=1), "a stray retry"
    )
    db.session.commit()
    shop.advance(hours=2)
    db.session.expire_all()
    stray = db.session.get(Step, stray.id)
    assert stray.status == "cancelled" and stray.outcome_detail == holdout.reason(100)
    assert reload(campaign).auto_retries == 0
