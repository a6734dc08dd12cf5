"""Changing a subscription for the Retain loop: discounts, pauses, plan switches and
cancels, each with an idempotency key derived from our row.

Stripe's objects come back as plain facts, so ``app/retain`` never touches the SDK.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .billing import _epoch, _get
from .client import InvalidRequestError, client_for
from .models import StripeConnection
from .names import plan_name

#: Stripe's ``cancellation_details.feedback`` values; our reasons map onto them.
FEEDBACK = {
    "too_expensive": "too_expensive",
    "budget": "too_expensive",
    "not_using": "unused",
    "low_usage": "unused",
    "adoption": "unused",
    "missing_features": "missing_features",
    "switching": "switched_service",
    "technical_issues": "low_quality",
    "results": "low_quality",
}


@dataclass(frozen=True)
class SubscriptionFacts:
    id: str
    customer_id: str
    status: str
    item_id: str | None
    price_id: str | None
    plan_name: str | None
    amount_minor: int
    currency: str
    interval: str
    interval_count: int
    period_end: dt.datetime | None
    cancel_at_period_end: bool
    is_paused: bool
    test_clock: str | None
    quantity: int = 1
    """Of the first item (the one plan switches and seat changes act on)."""

    @property
    def is_cancelled(self) -> bool:
        return self.status in ("canceled", "incomplete_expired")


@dataclass(frozen=True)
class PriceFacts:
    id: str
    name: str | None
    amount_minor: int
    currency: str
    interval: str
    interval_count: int


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def subscription_facts(sub: dict[str, Any]) -> SubscriptionFacts:
    """Facts of a subscription as Stripe sends it (or as the mirror keeps it)."""
    items = [i for i in (_get(sub, "items", "data") or []) if isinstance(i, dict)]
    first = items[0] if items else {}
    price = first.get("price") or {}
    recurring = price.get("recurring") or {}
    customer = sub.get("customer")
    return SubscriptionFacts(
        id=sub["id"],
        customer_id=customer.get("id") if isinstance(customer, dict) else str(customer),
        status=sub.get("status") or "unknown",
        item_id=first.get("id"),
        price_id=price.get("id"),
        plan_name=plan_name(sub, None),
        amount_minor=sum(
            int((i.get("price") or {}).get("unit_amount") or 0) * int(i.get("quantity") or 1)
            for i in items
        ),
        currency=str(price.get("currency") or "usd"),
        interval=str(recurring.get("interval") or "month"),
        interval_count=int(recurring.get("interval_count") or 1),
        period_end=_epoch(first.get("current_period_end") or sub.get("current_period_end")),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
        is_paused=bool(sub.get("pause_collection")) or sub.get("status") == "paused",
        test_clock=sub.get("test_clock") if isinstance(sub.get("test_clock"), str) else None,
        quantity=int(first.get("quantity") or 1),
    )


def read_subscription(connection: StripeConnection, subscription_id: str) -> SubscriptionFacts:
    sub = client_for(connection).v1.subscriptions.retrieve(
        subscription_id, {"expand": ["items.data.price.product"]}
    )
    return subscription_facts(_plain(sub))


def price_facts(price: dict[str, Any]) -> PriceFacts:
    recurring = price.get("recurring") or {}
    product = price.get("product")
    return PriceFacts(
        id=price["id"],
        name=(product.get("name") if isinstance(product, dict) else None) or price.get("nickname"),
        amount_minor=int(price.get("unit_amount") or 0),
        currency=str(price.get("currency") or "usd"),
        interval=str(recurring.get("interval") or "month"),
        interval_count=int(recurring.get("interval_count") or 1),
    )


def read_price(connection: StripeConnection, price_id: str) -> PriceFacts:
    return price_facts(
        _plain(client_for(connection).v1.prices.retrieve(price_id, {"expand": ["product"]}))
    )


def ensure_coupon(
    connection: StripeConnection,
    coupon_id: str,
    params: dict[str, Any],
    *,
    idempotency_key: str | None = None,
) -> str:
    """The coupon ``coupon_id``, made once per offer shape and reused by everyone."""
    client = client_for(connection)
    try:
        client.v1.coupons.retrieve(coupon_id)
        return coupon_id
    except InvalidRequestError as exc:
        if getattr(exc, "http_status", None) != 404:
            raise
    try:
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        client.v1.coupons.create({"id": coupon_id, **params}, options)
    except InvalidRequestError as exc:
        if getattr(exc, "code", None) != "resource_already_exists":
            raise  # another customer's accept made it a moment ago otherwise
    return coupon_id


def apply_coupon(
    connection: StripeConnection, subscription_id: str, coupon_id: str, *, idempotency_key: str
) -> None:
    client_for(connection).v1.subscriptions.update(
        subscription_id,
        {"discounts": [{"coupon": coupon_id}], "proration_behavior": "none"},
        {"idempotency_key": idempotency_key},
    )


def pause(
    connection: StripeConnection,
    subscription_id: str,
    *,
    resumes_at: dt.datetime,
    idempotency_key: str,
) -> None:
    """No collection until ``resumes_at``: invoices made meanwhile are voided, as a
    pause means nothing is owed for it."""
    client_for(connection).v1.subscriptions.update(
        subscription_id,
        {"pause_collection": {"behavior": "void", "resumes_at": int(resumes_at.timestamp())}},
        {"idempotency_key": idempotency_key},
    )


@dataclass(frozen=True)
class SwitchPreview:
    """What switching plans means for the customer, before they accept."""

    due_now_minor: int  # the prorated difference on the next invoice
    next_invoice_minor: int
    currency: str
    next_invoice_at: dt.datetime | None


def preview_switch(
    connection: StripeConnection,
    sub: SubscriptionFacts,
    price_id: str,
    *,
    at: dt.datetime,
    quantity: int | None = None,
) -> SwitchPreview:
    """Stripe's preview of moving ``sub`` to ``price_id`` (and ``quantity`` seats)."""
    item: dict[str, Any] = {"id": sub.item_id, "price": price_id}
    if quantity is not None:
        item["quantity"] = quantity
    invoice = _plain(
        client_for(connection).v1.invoices.create_preview(
            {
                "customer": sub.customer_id,
                "subscription": sub.id,
                "subscription_details": {
                    "items": [item],
                    "proration_behavior": "create_prorations",
                    "proration_date": int(at.timestamp()),
                },
            }
        )
    )
    lines = _get(invoice, "lines", "data") or []
    proration = sum(
        int(line.get("amount") or 0)
        for line in lines
        if _get(line, "parent", "subscription_item_details", "proration") or line.get("proration")
    )
    return SwitchPreview(
        due_now_minor=proration,
        next_invoice_minor=int(invoice.get("amount_due") or 0),
        currency=str(invoice.get("currency") or sub.currency),
        next_invoice_at=_epoch(invoice.get("next_payment_attempt") or invoice.get("period_end")),
    )


def switch_price(
    connection: StripeConnection,
    sub: SubscriptionFacts,
    price_id: str,
    *,
    at: dt.datetime,
    idempotency_key: str,
) -> None:
    client_for(connection).v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": sub.item_id, "price": price_id}],
            "proration_behavior": "create_prorations",
            "proration_date": int(at.timestamp()),
        },
        {"idempotency_key": idempotency_key},
    )


#: Set on a subscription Backstop cancels: the webhook that follows is then known as ours
#: even when it is processed before the cancel's own transaction commits.
CANCEL_MARKER = "backstop_cancel_session"


def cancel(
    connection: StripeConnection,
    subscription_id: str,
    *,
    at_period_end: bool,
    reason_key: str | None,
    comment: str | None,
    marker: str,
    idempotency_key: str,
) -> SubscriptionFacts:
    """Cancel at the period's end (the subscription runs until then) or at once; the
    customer's reason goes to Stripe's own cancellation details."""
    details: dict[str, Any] = {"feedback": FEEDBACK.get(reason_key or "", "other")}
    if comment:
        details["comment"] = comment[:500]
    client = client_for(connection)
    metadata = {"metadata": {CANCEL_MARKER: marker}}
    if at_period_end:
        sub = client.v1.subscriptions.update(
            subscription_id,
            {"cancel_at_period_end": True, "cancellation_details": details, **metadata},
            {"idempotency_key": idempotency_key},
        )
    else:
        client.v1.subscriptions.update(
            subscription_id, metadata, {"idempotency_key": f"{idempotency_key}:mark"}
        )
        sub = client.v1.subscriptions.cancel(
            subscription_id, {"cancellation_details": details}, {"idempotency_key": idempotency_key}
        )
    return subscription_facts(_plain(sub))


def customer_name(connection: StripeConnection, customer_id: str) -> str | None:
    customer = _plain(client_for(connection).v1.customers.retrieve(customer_id))
    return customer.get("name") or None


def list_prices(connection: StripeConnection, *, limit: int = 100) -> list[PriceFacts]:
    """The account's active recurring prices (for the builder's plan pickers)."""
    found = client_for(connection).v1.prices.list(
        {"active": True, "type": "recurring", "limit": limit, "expand": ["data.product"]}
    )
    return [price_facts(_plain(price)) for price in found.data]
