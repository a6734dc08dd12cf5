"""The whole life of a subscription whose renewal fails, through the official SDK:
insufficient funds at renewal, the card swapped, the invoice paid with invoices.pay."""

from __future__ import annotations

import pytest
import stripe

from .conftest import Receiver

DAY = 86400
T0 = 1_790_000_000  # 2026-09-21, a fixed clock start


def _setup(client: stripe.StripeClient, pm: str = "pm_card_sandbox_insufficient_funds"):
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    )
    customer = client.v1.customers.create(
        params={"email": "jo@example.com", "test_clock": clock.id, "payment_method": pm}
    )
    card = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "metadata": {"plan": "pro"},
        }
    )
    return clock, customer, sub


def test_failed_renewal_swapped_card_paid_by_invoices_pay(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["*"]}
    )
    clock, customer, sub = _setup(client)
    assert sub.status == "active"

    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 31 * DAY})
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    renewal = client.v1.invoices.retrieve(sub.latest_invoice, params={"expand": ["payments"]})
    assert renewal.status == "open"
    assert renewal.billing_reason == "subscription_cycle"
    assert renewal.attempt_count == 1 and renewal.attempted
    assert renewal.next_payment_attempt is None  # Stripe's own retries are off by default
    assert renewal.parent.subscription_details.subscription == sub.id
    pi = client.v1.payment_intents.retrieve(renewal.payments.data[0].payment.payment_intent)
    assert pi.last_payment_error.decline_code == "insufficient_funds"
    assert pi.last_payment_error.advice_code == "try_again_later"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.status == "failed" and charge.outcome.type == "issuer_declined"
    assert charge.failure_code == "card_declined"

    new_card = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": new_card.id}}
    )
    paid = client.v1.invoices.pay(renewal.id)
    assert paid.status == "paid" and paid.amount_paid == 2500 and paid.attempt_count == 2
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"

    renewal_at = T0 + 30 * DAY
    expected = [
        ("invoice.created", renewal_at),
        ("customer.subscription.updated", renewal_at),
        ("payment_intent.created", renewal_at + 3600),
        ("invoice.finalized", renewal_at + 3600),
        ("charge.failed", renewal_at + 3600),
        ("payment_intent.payment_failed", renewal_at + 3600),
        ("customer.subscription.updated", renewal_at + 3600),
        ("invoice.payment_failed", renewal_at + 3600),
        ("payment_method.attached", T0 + 31 * DAY),
        ("customer.updated", T0 + 31 * DAY),
        ("charge.succeeded", T0 + 31 * DAY),
        ("payment_intent.succeeded", T0 + 31 * DAY),
        ("invoice_payment.paid", T0 + 31 * DAY),
        ("invoice.paid", T0 + 31 * DAY),
        ("invoice.payment_succeeded", T0 + 31 * DAY),
        ("customer.subscription.updated", T0 + 31 * DAY),
    ]
    events = list(reversed(client.v1.events.list(params={"limit": 100}).data))
    after_start = [
        e
        for e in events
        if e.created >= renewal_at
        and not e.type.startswith(("test_helpers.", "product.", "price."))
    ]
    assert [(e.type, e.created) for e in after_start] == expected
    past_due = [e for e in after_start if e.type == "customer.subscription.updated"][1]
    assert past_due.data.previous_attributes["status"] == "active"
    assert past_due.data.object["status"] == "past_due"

    # Every event was delivered, signed so that the SDK's own verification accepts it.
    delivered = receiver.wait_for(lambda got: len(got) >= len(events))
    assert {e["id"] for e in delivered} >= {e.id for e in events}
    for request in receiver.requests:
        event = stripe.Webhook.construct_event(
            request["body"], request["headers"]["Stripe-Signature"], endpoint.secret
        )
        assert event.type
    in_order = [
        e["type"]
        for e in delivered
        if e["created"] >= renewal_at
        and not e["type"].startswith(("test_helpers.", "product.", "price."))
    ]
    assert in_order == [t for t, _ in expected]


def test_recovering_card_declines_n_times_then_succeeds(client: stripe.StripeClient) -> None:
    clock, _, sub = _setup(client, "pm_card_sandbox_do_not_honor_recover2")
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 31 * DAY})
    invoice_id = client.v1.subscriptions.retrieve(sub.id).latest_invoice
    with pytest.raises(stripe.CardError) as second:  # the renewal was the first decline
        client.v1.invoices.pay(invoice_id)
    assert second.value.error.decline_code == "do_not_honor"
    paid = client.v1.invoices.pay(invoice_id)
    assert paid.status == "paid" and paid.attempt_count == 3


def test_stripe_automatic_retries_follow_the_default_schedule(
    client: stripe.StripeClient, sandbox_url: str, api_key: str
) -> None:
    settings = client.raw_request(
        "post",
        "/v1/test_helpers/sandbox/settings",
        automatic_retries="default",
        subscription_after_retries="cancel",
    )
    assert client.deserialize(settings, api_mode="V1")["automatic_retries"] == "default"
    clock, customer, sub = _setup(client)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 31 * DAY})
    invoice = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    first_attempt = T0 + 30 * DAY + 3600
    assert invoice.next_payment_attempt == first_attempt + 3 * DAY
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 60 * DAY})
    invoice = client.v1.invoices.retrieve(invoice.id)
    assert invoice.attempt_count == 4 and invoice.next_payment_attempt is None
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled"
    assert sub.cancellation_details.reason == "payment_failed"
    charges = client.v1.charges.list(params={"customer": customer.id, "limit": 100}).data
    failed = sorted(c.created for c in charges if c.status == "failed")
    assert failed == [
        first_attempt,
        first_attempt + 3 * DAY,
        first_attempt + 8 * DAY,
        first_attempt + 15 * DAY,
    ]
