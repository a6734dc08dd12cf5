"""Endpoints refuse parameters they do not take, as Stripe does: a typo in the product's
calls fails against the sandbox, not first in production."""

from __future__ import annotations

import pytest
import stripe


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (
            lambda c, cus: c.v1.payment_intents.create(
                params={"amount": 500, "currency": "usd", "customer": cus, "amout": 1}
            ),
            "amout",
        ),
        (lambda c, cus: c.v1.customers.retrieve(cus, params={"include": "x"}), "include"),
        (
            lambda c, cus: c.v1.test_helpers.test_clocks.create(
                params={"frozen_time": 1_800_000_000, "frozen": 1}
            ),
            "frozen",
        ),
        (lambda c, cus: c.v1.products.list(params={"actve": True}), "actve"),
    ],
)
def test_unknown_parameters_are_refused(client: stripe.StripeClient, call, param) -> None:
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        call(client, customer.id)
    assert refused.value.http_status == 400
    assert refused.value.param == param
    assert f"Received unknown parameter: {param}" in str(refused.value)


def test_expand_is_always_accepted(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    assert client.v1.customers.retrieve(customer.id, params={"expand": ["test_clock"]}).id
