"""Stripe's keys on what the customer portal reads and writes: tax IDs (as created,
retrieved, listed, expanded on the customer, in events, deleted), a customer with its
address and locales changed, and finalized invoices listed by customer (same rules as
``test_shapes.py``)."""

from __future__ import annotations

from typing import Any

import stripe

from .test_shapes import DAY, T0, Found, _subscription, assert_shape, found


def _tax_ids(client: stripe.StripeClient) -> tuple[Any, Any]:
    customer = client.v1.customers.create(params={"name": "Ada"})
    vat = client.v1.customers.tax_ids.create(
        customer.id, params={"type": "eu_vat", "value": "DE123456789"}
    )
    client.v1.customers.tax_ids.create(
        customer.id, params={"type": "us_ein", "value": "12-3456789"}
    )
    return customer, vat


def test_tax_id_has_stripes_keys(client: stripe.StripeClient) -> None:
    customer, vat = _tax_ids(client)
    expanded = client.v1.customers.retrieve(customer.id, params={"expand": ["tax_ids"]})
    event = client.v1.events.list(params={"type": "customer.tax_id.created"}).data[-1]
    copies: list[Found] = [
        found("created", vat),
        found("retrieved", client.v1.customers.tax_ids.retrieve(customer.id, vat.id)),
        *(found("listed", t) for t in client.v1.customers.tax_ids.list(customer.id).data),
        *(found("customer expand[]=tax_ids", t) for t in expanded.tax_ids.data),
        found("customer.tax_id.created", event.data.object),
    ]
    for where, obj, extra in copies:
        assert_shape("tax_id", where, obj, extra)
        assert set(obj["owner"]) == {"type", "customer", "customer_account"}
    # The customer keeps Stripe's keys; tax_ids is there only when expanded.
    assert_shape("customer", "expand[]=tax_ids", expanded.to_dict(), frozenset({"tax_ids"}))


def test_deleted_tax_id_has_stripes_keys(client: stripe.StripeClient) -> None:
    customer, vat = _tax_ids(client)
    deleted = client.v1.customers.tax_ids.delete(customer.id, vat.id)
    assert_shape("deleted_tax_id", "deleted", deleted.to_dict(), frozenset())
    event = client.v1.events.list(params={"type": "customer.tax_id.deleted"}).data[0]
    assert_shape("tax_id", "customer.tax_id.deleted", event.data.object.to_dict(), frozenset())


def test_portal_customer_and_invoices_have_stripes_keys(client: stripe.StripeClient) -> None:
    sub, clock = _subscription(client)
    customer = client.v1.customers.update(
        sub.customer,
        params={
            "address": {"line1": "1 Main St", "city": "Berlin", "country": "DE"},
            "preferred_locales": ["de", "en"],
        },
    )
    client.v1.customers.tax_ids.create(
        customer.id, params={"type": "eu_vat", "value": "DE123456789"}
    )
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 31 * DAY})
    assert_shape("customer", "updated", customer.to_dict(), frozenset())
    for invoice in client.v1.invoices.list(params={"customer": customer.id}).data:
        assert_shape("invoice", "listed by customer", invoice.to_dict(), frozenset())
