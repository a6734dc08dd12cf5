"""Subscription cycle behaviours: trials, cancel at period end, pauses, coupons,
plan switches with proration, incomplete first payments, card expiry, decline codes."""

from __future__ import annotations

import pytest
import stripe

DAY = 86400
T0 = 1_790_000_000


@pytest.fixture
def world(client: stripe.StripeClient):
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    product = client.v1.products.create(params={"name": "Pro"})
    monthly = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 3000,
            "recurring": {"interval": "month"},
            "product": product.id,
        }
    )
    bigger = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 6000,
            "recurring": {"interval": "month"},
            "product": product.id,
        }
    )
    return clock, monthly, bigger


def customer_with(client: stripe.StripeClient, clock, pm: str = "pm_card_visa"):
    customer = client.v1.customers.create(params={"test_clock": clock.id, "payment_method": pm})
    card = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )
    return customer, card


def advance(client: stripe.StripeClient, clock, days: float) -> None:
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": T0 + int(days * DAY)}
    )


def test_trial_ends_and_bills(client, world) -> None:
    clock, monthly, _ = world
    customer, _ = customer_with(client, clock)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly.id}], "trial_period_days": 14}
    )
    assert sub.status == "trialing" and sub.trial_end == T0 + 14 * DAY
    advance(client, clock, 15)
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active"
    assert sub["items"].data[0].current_period_start == T0 + 14 * DAY
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "paid" and invoice.amount_paid == 3000
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert "customer.subscription.trial_will_end" in types


def test_cancel_at_period_end_takes_effect(client, world) -> None:
    clock, monthly, _ = world
    customer, _ = customer_with(client, clock)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly.id}]}
    )
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert sub.status == "active" and sub.cancel_at_period_end
    advance(client, clock, 31)
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled"
    assert sub.ended_at == sub["items"].data[0].current_period_end
    deleted = client.v1.events.list(params={"type": "customer.subscription.deleted"}).data
    assert deleted[0].created == sub.ended_at


def test_pause_collection_voids_then_resumes(client, world) -> None:
    clock, monthly, _ = world
    customer, _ = customer_with(client, clock)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly.id}]}
    )
    sub = client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void", "resumes_at": T0 + 45 * DAY}}
    )
    assert sub.pause_collection.behavior == "void"
    advance(client, clock, 31)
    paused_invoice = client.v1.invoices.retrieve(
        client.v1.subscriptions.retrieve(sub.id).latest_invoice
    )
    assert paused_invoice.status == "void"
    advance(client, clock, 62)  # the next renewal is on day 61, after resumes_at
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.pause_collection is None
    assert client.v1.invoices.retrieve(sub.latest_invoice).status == "paid"


def test_repeating_coupon_discounts_two_invoices(client, world) -> None:
    clock, monthly, _ = world
    customer, _ = customer_with(client, clock)
    coupon = client.v1.coupons.create(
        params={"percent_off": 50, "duration": "repeating", "duration_in_months": 2}
    )
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly.id}],
            "discounts": [{"coupon": coupon.id}],
            "expand": ["discounts"],
        }
    )
    assert sub.discounts[0].source.coupon.id == coupon.id
    paid = []
    for month in (1, 2, 3):
        advance(client, clock, 31 * month)
        paid.append(
            client.v1.invoices.retrieve(
                client.v1.subscriptions.retrieve(sub.id).latest_invoice
            ).amount_paid
        )
    first = client.v1.invoices.list(params={"subscription": sub.id, "limit": 10}).data[-1]
    assert first.amount_paid == 1500 and first.total_discount_amounts[0].amount == 1500
    assert paid == [1500, 3000, 3000]


def test_plan_switch_prorates_on_next_invoice(client, world) -> None:
    clock, monthly, bigger = world
    customer, _ = customer_with(client, clock)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly.id}]}
    )
    advance(client, clock, 15)
    item = sub["items"].data[0]
    sub = client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": item.id, "price": bigger.id}]}
    )
    assert sub["items"].data[0].price.id == bigger.id
    previous = client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert "items" in previous.data.previous_attributes
    advance(client, clock, 31)
    invoice = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    amounts = sorted(line.amount for line in invoice.lines.data)
    period = item.current_period_end - item.current_period_start
    share = (item.current_period_end - (T0 + 15 * DAY)) / period
    assert amounts == sorted([6000, -round(3000 * share), round(6000 * share)])
    assert invoice.amount_paid == sum(amounts)


def test_first_payment_declined_leaves_subscription_incomplete(client, world) -> None:
    clock, monthly, _ = world
    customer, _ = customer_with(client, clock, "pm_card_chargeCustomerFail")
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly.id}]}
    )
    assert sub.status == "incomplete"
    advance(client, clock, 1)
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"
    with pytest.raises(stripe.CardError) as caught:
        client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": monthly.id}],
                "payment_behavior": "error_if_incomplete",
            }
        )
    assert caught.value.http_status == 402


def test_card_expired_on_the_clock_declines_with_expired_card(client, world) -> None:
    clock, monthly, _ = world
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    card = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 9, "exp_year": 2026, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(card.id, params={"customer": customer.id})
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly.id}],
            "default_payment_method": card.id,
        }
    )
    assert sub.status == "active"  # 2026-09-21: still valid
    advance(client, clock, 31)  # the renewal lands in October 2026
    invoice = client.v1.invoices.retrieve(
        client.v1.subscriptions.retrieve(sub.id).latest_invoice,
        params={"expand": ["payments.data.payment.payment_intent"]},
    )
    error = invoice.payments.data[0].payment.payment_intent.last_payment_error
    assert error.code == "expired_card" and error.decline_code == "expired_card"


@pytest.mark.parametrize(
    ("pm", "decline_code", "advice"),
    [
        ("pm_card_sandbox_stolen_card", "stolen_card", "do_not_try_again"),
        ("pm_card_sandbox_do_not_try_again", "do_not_honor", "do_not_try_again"),
        ("pm_card_sandbox_mastercard_insufficient_funds", "insufficient_funds", "try_again_later"),
        ("pm_card_sandbox_authentication_required", "authentication_required", None),
    ],
)
def test_sandbox_cards_decline_renewals_with_their_code(
    client, world, pm, decline_code, advice
) -> None:
    clock, monthly, _ = world
    customer, card = customer_with(client, clock, pm)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly.id}]}
    )
    assert sub.status == "active"
    advance(client, clock, 31)
    invoice = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id)
    assert caught.value.error.decline_code == decline_code
    assert caught.value.error.advice_code == advice
    charge = client.v1.charges.list(params={"customer": customer.id}).data[0]
    assert charge.outcome.advice_code == advice
    if card.card.brand == "mastercard":
        assert charge.outcome.network_advice_code == "02"


def test_sandbox_cards_are_distinct_cards(client, world) -> None:
    clock, _, _ = world
    _, one = customer_with(client, clock, "pm_card_sandbox_insufficient_funds")
    _, two = customer_with(client, clock, "pm_card_sandbox_insufficient_funds")
    _, visa1 = customer_with(client, clock, "pm_card_visa")
    _, visa2 = customer_with(client, clock, "pm_card_visa")
    assert one.card.fingerprint != two.card.fingerprint
    assert visa1.card.fingerprint == visa2.card.fingerprint


def test_void_and_mark_uncollectible(client, world) -> None:
    clock, monthly, _ = world
    customer, _ = customer_with(client, clock, "pm_card_sandbox_generic_decline")
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly.id}]}
    )
    advance(client, clock, 31)
    invoice = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert client.v1.invoices.mark_uncollectible(invoice.id).status == "uncollectible"
    voided = client.v1.invoices.void_invoice(invoice.id)
    assert voided.status == "void" and voided.status_transitions.voided_at == T0 + 31 * DAY
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.pay(invoice.id)
    types = [e.type for e in client.v1.events.list(params={"limit": 5}).data]
    assert "invoice.voided" in types and "invoice.marked_uncollectible" in types
