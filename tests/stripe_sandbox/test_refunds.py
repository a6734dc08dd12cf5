"""Refunds: whole and partial, by charge or payment intent, the charge's
``amount_refunded``, the events, and what Stripe refuses."""

from __future__ import annotations

import pytest
import stripe


def _paid(client: stripe.StripeClient, amount: int = 5000) -> stripe.PaymentIntent:
    customer = client.v1.customers.create().id
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "eur",
            "customer": customer,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "off_session": True,
        }
    )


def _events(client: stripe.StripeClient, kind: str) -> list[stripe.Event]:
    return [e for e in client.v1.events.list(params={"limit": 100}).data if e.type == kind]


def test_a_partial_then_the_rest_refunds_the_charge(client: stripe.StripeClient) -> None:
    pi = _paid(client)
    first = client.v1.refunds.create(params={"charge": pi.latest_charge, "amount": 1200})
    assert (first.amount, first.status, first.currency) == (1200, "succeeded", "eur")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1200, False)

    rest = client.v1.refunds.create(params={"payment_intent": pi.id, "reason": "duplicate"})
    assert rest.amount == 3800 and rest.charge == pi.latest_charge and rest.reason == "duplicate"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)

    refunded = _events(client, "charge.refunded")
    assert [e.data.object["amount_refunded"] for e in reversed(refunded)] == [1200, 5000]
    assert refunded[0].data.previous_attributes["amount_refunded"] == 1200
    assert len(_events(client, "refund.created")) == 2
    listed = client.v1.refunds.list(params={"charge": pi.latest_charge}).data
    assert [r.id for r in listed] == [rest.id, first.id]


def test_more_than_is_left_is_refused_and_changes_nothing(client: stripe.StripeClient) -> None:
    pi = _paid(client, amount=1000)
    client.v1.refunds.create(params={"charge": pi.latest_charge, "amount": 600})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"charge": pi.latest_charge, "amount": 401})
    assert refused.value.code == "amount_too_large"
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 600
    client.v1.refunds.create(params={"charge": pi.latest_charge})
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"charge": pi.latest_charge})
    assert again.value.code == "charge_already_refunded"


@pytest.mark.parametrize(
    "params",
    [{}, {"charge": "ch_missing"}, {"charge": "x", "payment_intent": "y"}, {"amount": "0"}],
)
def test_bad_requests_are_refused(client: stripe.StripeClient, params: dict[str, str]) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params=params)
