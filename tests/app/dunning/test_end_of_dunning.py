"""The end of dunning against the sandbox: the pause offer that follows the last touch
(planned, sent, taken: the subscription paused, the invoice forgiven, the campaign
closed; taken once), and the last-chance discount applied once when the customer pays
through the final touch's link."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.dunning import card_update, config, discounts, pausing
from app.dunning.models import CardUpdateLink
from app.events.models import DomainEvent
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.recovery import queries

from ..recovery.shop import Shop
from .test_touches import confirmed_setup, messages, reach, renew


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url)


def configure(shop: Shop, **settings) -> None:
    config.save(
        db.session,
        shop.workspace.id,
        sequence=settings.pop("sequence", "standard"),
        from_name=None,
        reply_to=None,
        copy={},
        pause_days=None,
        **settings,
    )
    db.session.commit()


def run_every_touch(shop: Shop, campaign) -> None:
    for step in shop.steps(campaign, "email"):
        reach(shop, step)


def offered(shop: Shop, sub) -> tuple[CardUpdateLink, OutboxMessage]:
    """Run the campaign up to and including its pause offer."""
    campaign = shop.campaign(sub.id)
    run_every_touch(shop, campaign)
    [step] = shop.steps(campaign, "pause_offer")
    reach(shop, step)
    [step] = shop.steps(campaign, "pause_offer")
    assert (step.status, step.outcome) == ("done", "sent"), step.outcome_detail
    link = db.session.execute(
        select(CardUpdateLink).where(CardUpdateLink.purpose == "pause_offer")
    ).scalar_one()
    return link, messages()[-1]


def events(name: str) -> list[DomainEvent]:
    return list(db.session.execute(select(DomainEvent).where(DomainEvent.name == name)).scalars())


def test_the_pause_offer_is_planned_after_the_last_touch_inside_the_window(shop) -> None:
    configure(shop, pause_offer_days=30)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    last_touch = shop.steps(campaign, "email")[-1]
    [offer] = shop.steps(campaign, "pause_offer")
    assert last_touch.due_at + dt.timedelta(hours=24) <= offer.due_at < campaign.window_ends_at
    assert offer.status == "pending"
    assert "2 days after the final reminder email" in offer.reason


def test_no_pause_offer_by_default(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    assert shop.steps(shop.campaign(sub.id), "pause_offer") == []


def test_the_pause_offer_is_sent_and_taken_once(shop) -> None:
    configure(shop, pause_offer_days=30)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    link, message = offered(shop, sub)
    assert message.template == "dunning_pause_offer"
    assert "/pause-offer/" in message.body_text and "forgiven" in message.body_text
    assert "Pause for 30 days" in message.body_html and link.pause_days == 30
    connection, now = shop.stripe_connection, dt.datetime.now(dt.UTC)

    offer = pausing.offer_for(db.session, connection, link, now=now)
    assert offer.state == pausing.OFFER and offer.plan_name == "Studio"
    assert offer.amount == (2900, "usd")
    taken = pausing.accept(db.session, connection, link, now=now)
    db.session.commit()
    assert taken.state == pausing.PAUSED

    campaign = shop.campaign(sub.id)
    stripe_sub = shop.client.v1.subscriptions.retrieve(sub.id)
    assert stripe_sub.pause_collection.behavior == "void"
    assert stripe_sub.pause_collection.resumes_at == int(taken.resumes_at.timestamp())
    invoice = shop.client.v1.invoices.retrieve(campaign.invoice_stripe_id)
    assert invoice.status == "void"
    assert campaign.state == "abandoned" and campaign.recovered_minor == 0
    assert campaign.close_reason == "the customer paused for 30 days instead"
    assert campaign.attribution is None

    again = pausing.accept(db.session, connection, db.session.get(CardUpdateLink, link.id), now=now)
    db.session.commit()
    assert again.state == pausing.USED
    shop.catch_up()  # the voided invoice's webhook changes nothing more
    assert len(events("recovery.campaign.paused_instead")) == 1
    assert len(events("recovery.campaign.abandoned")) == 1
    assert shop.campaign(sub.id).close_reason == "the customer paused for 30 days instead"


def test_an_invoice_paid_meanwhile_is_not_paused(shop) -> None:
    configure(shop, pause_offer_days=14)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    link, _message = offered(shop, sub)
    campaign = shop.campaign(sub.id)
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    now = dt.datetime.now(dt.UTC)
    result = pausing.accept(db.session, shop.stripe_connection, link, now=now)
    db.session.commit()
    assert result.state == pausing.ALREADY_PAID
    assert shop.client.v1.subscriptions.retrieve(sub.id).pause_collection is None
    assert shop.campaign(sub.id).state == "recovered"
    assert db.session.get(CardUpdateLink, link.id).used_at is None
    assert events("recovery.campaign.paused_instead") == []


def test_a_scheduled_cancel_skips_the_offer_saying_why(shop) -> None:
    configure(shop, pause_offer_days=30)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    run_every_touch(shop, campaign)
    shop.client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    [step] = shop.steps(campaign, "pause_offer")
    reach(shop, step)
    [step] = shop.steps(campaign, "pause_offer")
    assert step.outcome == "skipped"
    assert step.outcome_detail == "skipped: the subscription is already set to cancel"
    assert all(m.template != "dunning_pause_offer" for m in messages())


def test_a_campaign_closed_before_the_offer_cancels_it(shop) -> None:
    configure(shop, pause_offer_days=30)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    shop.catch_up()
    [step] = shop.steps(campaign, "pause_offer")
    assert step.status == "cancelled" and "campaign recovered" in step.outcome_detail


def test_the_last_chance_discount_is_applied_once_when_paid_through_the_final_link(shop) -> None:
    configure(shop, discount_percent=20, discount_months=3)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    touches = shop.steps(campaign, "email")
    for step in touches[:-1]:
        reach(shop, step)
    assert all("% off" not in m.body_text for m in messages())
    reach(shop, touches[-1])
    final = messages()[-1]
    assert "get 20% off your next 3 months" in final.body_text
    assert "get 20% off your next 3 months" in final.body_html
    [step] = [s for s in shop.steps(campaign, "email") if s.touch == "d14"]
    assert "last chance: 20% off the next 3 months if paid now" in step.outcome_detail
    link = db.session.execute(
        select(CardUpdateLink).where(CardUpdateLink.step_id == step.id)
    ).scalar_one()
    assert (link.discount_percent, link.discount_months) == (20, 3)
    connection, now = shop.stripe_connection, dt.datetime.now(dt.UTC)
    form = card_update.form_for(db.session, connection, link)
    assert form.discount == (20, 3)

    setup = confirmed_setup(shop, sub.customer)
    result = card_update.complete(db.session, connection, link, setup_intent_id=setup, now=now)
    db.session.commit()
    assert result.state == card_update.PAID
    [discount] = shop.client.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["discounts"]}
    ).discounts
    facts = discount.to_dict()
    coupon_ref = facts.get("coupon") or (facts.get("source") or {}).get("coupon")
    coupon_id = coupon_ref["id"] if isinstance(coupon_ref, dict) else coupon_ref
    coupon = shop.client.v1.coupons.retrieve(coupon_id)
    assert (coupon.percent_off, coupon.duration, coupon.duration_in_months) == (20, "repeating", 3)
    link = db.session.get(CardUpdateLink, link.id)
    assert link.discount_applied_at is not None
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "card_update"
    assert campaign.offer_taken == "last-chance discount: 20% off the next 3 months"
    assert not discounts.take(db.session, connection, link, now=now)  # once
    entries = queries.timeline(db.session, campaign)
    [taken] = [e for e in entries if e.kind == "offer_taken"]
    assert taken.outcome_detail == "last-chance discount: 20% off the next 3 months"
    assert len(events("recovery.campaign.discount_taken")) == 1


def test_an_earlier_touch_link_carries_no_discount(shop) -> None:
    configure(shop, discount_percent=20, discount_months=3)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    reach(shop, shop.steps(campaign, "email")[0])
    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    setup = confirmed_setup(shop, sub.customer)
    now = dt.datetime.now(dt.UTC)
    result = card_update.complete(
        db.session, shop.stripe_connection, link, setup_intent_id=setup, now=now
    )
    db.session.commit()
    assert result.state == card_update.PAID
    assert not shop.client.v1.subscriptions.retrieve(sub.id).discounts
    assert shop.campaign(sub.id).offer_taken is None
