"""Stripe's keys on Checkout Sessions (as created, retrieved, listed, expired, recovered,
completed, in their events) and on their line items (same rules as ``test_shapes.py``)."""

from __future__ import annotations

import json

import stripe

from .test_shapes import T0, Found, assert_shape, found

LINE_ITEMS = frozenset({"line_items"})


def test_checkout_session_has_stripes_keys(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    customer = client.v1.customers.create(
        params={"test_clock": clock.id, "email": "shape@example.com"}
    )
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1200,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Shape"},
        }
    )
    created = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "https://example.com/ok",
            "after_expiration": {"recovery": {"enabled": True}},
            "consent_collection": {"promotions": "auto"},
            "expires_at": T0 + 3600,
        }
    )
    client.raw_request(
        "post", f"/v1/test_helpers/checkout/sessions/{created.id}/fill", promotions="opt_in"
    )
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 7200})
    expired = client.v1.checkout.sessions.retrieve(created.id)
    fresh = json.loads(
        client.raw_request("post", f"/v1/test_helpers/checkout/sessions/{created.id}/recover").body
    )
    done = json.loads(
        client.raw_request(
            "post", f"/v1/test_helpers/checkout/sessions/{fresh['id']}/complete"
        ).body
    )
    expanded = client.v1.checkout.sessions.retrieve(done["id"], params={"expand": ["line_items"]})
    events = [
        e
        for e in client.v1.events.list(params={"limit": 100}).data
        if e.type.startswith("checkout.session.")
    ]
    copies: list[Found] = [
        found("created", created),
        found("expired", expired),
        found("recovered", fresh),
        found("completed", done),
        found("expand[]=line_items", expanded, LINE_ITEMS),
        *(found("listed", s) for s in client.v1.checkout.sessions.list().data),
        *(found(e.type, e.data.object) for e in events),
    ]
    assert {e.type for e in events} == {"checkout.session.expired", "checkout.session.completed"}
    for where, obj, extra in copies:
        assert_shape("checkout.session", where, obj, extra)
    items = [
        *client.v1.checkout.sessions.line_items.list(created.id).data,
        *expanded.line_items.data,
    ]
    for item in items:
        assert_shape("item", "line item", item.to_dict(), frozenset())
