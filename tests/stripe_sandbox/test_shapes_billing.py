"""Stripe's keys on the billing objects of plan switches and save offers: preview
invoices, proration invoice items and their lines, discounted renewals, removed
discounts, deleted invoice items (same rules as ``test_shapes.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe

from .test_shapes import DAY, T0, Found, _monthly_price, _subscription, assert_shape, found


def _switched(client: stripe.StripeClient, **extra: Any) -> tuple[Any, Any, Any]:
    """A subscription switched to a dearer price on day 10: two pending prorations, and
    the preview that showed them."""
    sub, clock = _subscription(client, **extra)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 10 * DAY})
    dearer = _monthly_price(client)
    details = {"items": [{"id": sub["items"].data[0].id, "price": dearer.id, "quantity": 2}]}
    preview = client.v1.invoices.create_preview(
        params={"subscription": sub.id, "subscription_details": details}
    )
    client.v1.subscriptions.update(sub.id, params=details)
    return sub, clock, preview


def _renewal(client: stripe.StripeClient, sub: Any, clock: Any) -> Any:
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 31 * DAY})
    return client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)


def make_invoice(client: stripe.StripeClient) -> list[Found]:
    coupon = client.v1.coupons.create(params={"percent_off": 10, "duration": "forever"})
    sub, clock, preview = _switched(client, discounts=[{"coupon": coupon.id}])
    plain = client.v1.invoices.create_preview(params={"subscription": sub.id})
    return [
        found("create_preview with subscription_details", preview),
        found("create_preview", plain),
        found("renewal with prorations and a discount", _renewal(client, sub, clock)),
    ]


def make_line_item(client: stripe.StripeClient) -> list[Found]:
    sub, clock, preview = _switched(client)
    renewal = _renewal(client, sub, clock)
    return [
        *(found("preview line", line) for line in preview.lines.data),
        *(found("renewal line", line) for line in renewal.lines.data),
        *(found("listed", line) for line in client.v1.invoices.line_items.list(renewal.id).data),
    ]


def make_invoiceitem(client: stripe.StripeClient) -> list[Found]:
    sub, _, _ = _switched(client)
    listed = client.v1.invoice_items.list(params={"customer": sub.customer}).data
    event = client.v1.events.list(params={"type": "invoiceitem.created"}).data[0]
    return [
        *(found("listed", ii) for ii in listed),
        found("retrieved", client.v1.invoice_items.retrieve(listed[0].id)),
        found("invoiceitem.created", event.data.object),
    ]


def make_discount(client: stripe.StripeClient) -> list[Found]:
    coupon = client.v1.coupons.create(
        params={"percent_off": 10, "duration": "repeating", "duration_in_months": 1}
    )
    sub, clock = _subscription(client, discounts=[{"coupon": coupon.id}])
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 40 * DAY})
    ended = client.v1.events.list(params={"type": "customer.discount.deleted"}).data[0]
    assert ended.data.object.subscription == sub.id
    return [found("customer.discount.deleted at its end", ended.data.object)]


def make_subscription(client: stripe.StripeClient) -> list[Found]:
    sub, _ = _subscription(client)
    canceling = client.v1.subscriptions.update(
        sub.id,
        params={"cancel_at_period_end": True, "cancellation_details": {"feedback": "unused"}},
    )
    paused = client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void", "resumes_at": T0 + 40 * DAY}}
    )
    trial = client.v1.subscriptions.update(
        sub.id, params={"trial_end": T0 + 20 * DAY, "proration_behavior": "none"}
    )
    canceled = client.v1.subscriptions.cancel(sub.id, params={"prorate": True})
    return [
        found("cancel_at_period_end", canceling),
        found("pause_collection", paused),
        found("trial_end", trial),
        found("canceled with prorate", canceled),
    ]


FACTORIES: dict[str, Callable[[stripe.StripeClient], list[Found]]] = {
    "invoice": make_invoice,
    "line_item": make_line_item,
    "invoiceitem": make_invoiceitem,
    "discount": make_discount,
    "subscription": make_subscription,
}


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_billing_object_has_stripes_keys(client: stripe.StripeClient, kind: str) -> None:
    copies = FACTORIES[kind](client)
    assert copies
    for where, obj, extra in copies:
        assert_shape(kind, where, obj, extra)


def test_deleted_invoiceitem_has_stripes_keys(client: stripe.StripeClient) -> None:
    sub, _, _ = _switched(client)
    pending = client.v1.invoice_items.list(params={"customer": sub.customer}).data[0]
    deleted = client.v1.invoice_items.delete(pending.id)
    assert deleted.deleted is True
    assert_shape("deleted_invoiceitem", "deleted", deleted.to_dict(), frozenset())
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.invoice_items.retrieve(pending.id)
    assert gone.value.http_status == 404
