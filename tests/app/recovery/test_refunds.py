"""Refunds of recovered payments: the laws of what a refund takes back, what a credited
invoice counts as recovered, and a month on the sandbox where the merchant refunds a
recovered payment in two parts (and Stripe's events arrive again, late or twice)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.events.models import DomainEvent
from app.extensions import db
from app.insights import figures
from app.models import utcnow
from app.recovery import refunds
from app.recovery.closing import recovered_amount
from app.recovery.models import ChargeAttempt

from ..recovery.shop import Shop

AMOUNTS = st.integers(0, 10**7)


@given(failed=AMOUNTS, paid=st.none() | st.integers(-5, 10**7))
def test_a_recovery_counts_what_was_paid_never_more_than_failed(failed, paid) -> None:
    counted = recovered_amount(failed, paid)
    assert 0 <= counted <= failed
    if paid is not None and 0 <= paid <= failed:
        assert counted == paid  # a credit note made the invoice smaller
    if paid is None:
        assert counted == failed  # Stripe did not say: the amount that failed


@given(recovered=AMOUNTS, totals=st.lists(AMOUNTS, max_size=8))
def test_refunds_take_back_at_most_what_was_recovered_whatever_the_order(recovered, totals) -> None:
    """Stripe's running totals, delivered in any order and any number of times: the
    sum taken back is the largest total (capped at the recovery), never more."""
    already = 0
    for total in totals:
        delta = refunds.refunded_now(already, total, recovered)
        assert delta >= 0
        already += delta
    assert already == min(max(totals, default=0), recovered)


def _paying_charge(shop: Shop, invoice_id: str) -> str:
    invoice = shop.client.v1.invoices.retrieve(invoice_id, params={"expand": ["payments"]})
    intents = [p.payment.payment_intent for p in invoice.payments.data]
    charges = [
        c for pi in intents for c in shop.client.v1.charges.list(params={"payment_intent": pi}).data
    ]
    return next(c.id for c in charges if c.status == "succeeded")


def _recovered_campaign(shop: Shop):
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds_recover1")
    shop.advance(days=31)
    shop.advance(days=10)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.recovered_minor == 2900
    return campaign


def test_a_refunded_recovery_comes_off_the_figures_on_its_day(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    campaign = _recovered_campaign(shop)
    charge = _paying_charge(shop, campaign.invoice_stripe_id)
    recovered_day = figures.today_for("UTC", campaign.closed_at)

    shop.advance(days=5)  # the merchant refunds a part five days later...
    shop.client.v1.refunds.create(params={"charge": charge, "amount": 1000})
    shop.catch_up()
    campaign = shop.campaign(campaign.subscription_stripe_id)
    assert campaign.refunded_minor == 1000 and campaign.recovered_minor == 2900
    today = figures.today_for("UTC", shop.now)
    read = figures.read(db.session, shop.workspace.id, days=30, today=today)
    assert read.totals["recovered"].amounts == {"usd": 1900}
    assert read.totals["recovered"].count == 1  # still a recovery, of less money
    assert read.totals["refunded"].amounts == {"usd": 1000}
    assert read.series[("recovered", "usd")][recovered_day] == 1900
    assert read.by_key["recovered"][campaign.attribution].amounts == {"usd": 1900}

    shop.client.v1.refunds.create(params={"charge": charge})  # ...then the rest
    shop.catch_up()
    campaign = shop.campaign(campaign.subscription_stripe_id)
    assert campaign.refunded_minor == 2900
    emitted = db.session.execute(
        select(DomainEvent.data).where(
            DomainEvent.workspace_id == shop.workspace.id,
            DomainEvent.name == refunds.EVENT,
        )
    ).scalars()
    assert sorted(d["refunded_minor"] for d in emitted) == [1000, 1900]

    # The first charge.refunded again (late, or redelivered): nothing changes.
    attempt = refunds.find_attempt(db.session, shop.workspace.id, charge)
    stale = {"id": charge, "amount_refunded": 1000}
    assert refunds.record(db.session, attempt, stale, now=utcnow()) == 0
    read = figures.read(db.session, shop.workspace.id, days=30, today=today)
    assert read.totals["recovered"].amounts == {"usd": 0}


def test_a_refund_of_a_charge_not_recorded_yet_is_found_on_the_customer(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    campaign = _recovered_campaign(shop)
    charge = _paying_charge(shop, campaign.invoice_stripe_id)
    db.session.execute(delete(ChargeAttempt).where(ChargeAttempt.campaign_id == campaign.id))
    db.session.commit()
    shop.client.v1.refunds.create(params={"charge": charge, "amount": 500})
    shop.catch_up()
    assert shop.campaign(campaign.subscription_stripe_id).refunded_minor == 500
    assert refunds.find_attempt(db.session, shop.workspace.id, charge).refunded_minor == 500


def test_a_refund_of_a_payment_backstop_did_not_recover_counts_nothing(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    sub = shop.subscribe("pm_card_visa")  # the first invoice paid at once: no campaign
    invoice = shop.client.v1.invoices.list(params={"subscription": sub.id}).data[0]
    shop.client.v1.refunds.create(params={"charge": _paying_charge(shop, invoice.id)})
    shop.catch_up()
    assert not db.session.execute(
        select(DomainEvent.id).where(
            DomainEvent.workspace_id == shop.workspace.id, DomainEvent.name == refunds.EVENT
        )
    ).first()
