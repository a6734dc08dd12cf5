"""What the hosted portal asks of Stripe: a customer's subscriptions and invoices (to
fill the mirror), upcoming invoices, the card on file, and the changes a customer
makes there. Changes return Stripe's new object as a plain dict, so the caller can
mirror it at once and the page shows what Stripe now holds."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from .billing import _epoch, _get
from .client import InvalidRequestError, client_for
from .models import StripeConnection
from .subscriptions import SubscriptionFacts

SUBSCRIPTION_EXPAND = ["data.items.data.price.product"]


def _plain(obj: Any) -> dict[str, Any]:
    """The object as Stripe's JSON (what the mirror keeps): the response's raw body,
    not the SDK's objects, which turn decimal strings into ``Decimal``."""
    response = getattr(obj, "last_response", None)
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("id") == obj["id"]:
        return data
    return json.loads(json.dumps(obj.to_dict(), default=str))


def _items(page: Any) -> list[dict[str, Any]]:
    response = getattr(page, "last_response", None)
    data = getattr(response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return list(data["data"])
    return [_plain(item) for item in page.data]


def read_customer(connection: StripeConnection, customer_id: str) -> dict[str, Any] | None:
    """The customer, or None when Stripe does not know it (or it was deleted)."""
    try:
        customer = _plain(client_for(connection).v1.customers.retrieve(customer_id))
    except InvalidRequestError as exc:
        if getattr(exc, "http_status", None) == 404:
            return None
        raise
    return None if customer.get("deleted") else customer


def list_subscriptions(connection: StripeConnection, customer_id: str) -> list[dict[str, Any]]:
    """Every subscription of the customer, ended ones included (newest first)."""
    found = client_for(connection).v1.subscriptions.list(
        {"customer": customer_id, "status": "all", "limit": 100, "expand": SUBSCRIPTION_EXPAND}
    )
    return _items(found)


def read_subscription(connection: StripeConnection, subscription_id: str) -> dict[str, Any]:
    return _plain(
        client_for(connection).v1.subscriptions.retrieve(
            subscription_id, {"expand": ["items.data.price.product"]}
        )
    )


def list_invoices(
    connection: StripeConnection, customer_id: str, *, limit: int = 100
) -> list[dict[str, Any]]:
    found = client_for(connection).v1.invoices.list({"customer": customer_id, "limit": limit})
    return _items(found)


@dataclass(frozen=True)
class Upcoming:
    amount_minor: int
    currency: str
    at: dt.datetime | None


def upcoming_invoice(connection: StripeConnection, sub: SubscriptionFacts) -> Upcoming | None:
    """The subscription's next invoice as Stripe previews it; None when there is none
    (cancelled, ending at the period's end, paused without invoices)."""
    try:
        invoice = _plain(
            client_for(connection).v1.invoices.create_preview(
                {"customer": sub.customer_id, "subscription": sub.id}
            )
        )
    except InvalidRequestError as exc:
        if getattr(exc, "code", None) in ("invoice_upcoming_none", "resource_missing") or (
            getattr(exc, "http_status", None) in (400, 404)
        ):
            return None
        raise
    return Upcoming(
        amount_minor=int(invoice.get("amount_due") or 0),
        currency=str(invoice.get("currency") or sub.currency),
        at=_epoch(invoice.get("next_payment_attempt") or invoice.get("period_end")),
    )


def card_on_file(
    connection: StripeConnection, customer_id: str, subscription_ids: list[str]
) -> dict[str, Any] | None:
    """The card renewals charge: a subscription's own default, else the customer's."""
    client = client_for(connection)
    for subscription_id in subscription_ids:
        sub = client.v1.subscriptions.retrieve(
            subscription_id, {"expand": ["default_payment_method"]}
        )
        default = _get(sub, "default_payment_method")
        if default:
            return _card(default)
    customer = client.v1.customers.retrieve(
        customer_id, {"expand": ["invoice_settings.default_payment_method"]}
    )
    default = _get(customer, "invoice_settings", "default_payment_method")
    return _card(default) if default else None


def _card(payment_method: Any) -> dict[str, Any]:
    card = _get(payment_method, "card") or {}
    return {
        "brand": _get(card, "brand"),
        "last4": _get(card, "last4"),
        "exp_month": _get(card, "exp_month"),
        "exp_year": _get(card, "exp_year"),
    }


# -- the customer's changes --------------------------------------------------------------------


def _update(
    connection: StripeConnection, subscription_id: str, params: dict[str, Any], key: str
) -> dict[str, Any]:
    return _plain(
        client_for(connection).v1.subscriptions.update(
            subscription_id,
            {**params, "expand": ["items.data.price.product"]},
            {"idempotency_key": key},
        )
    )


def switch_now(
    connection: StripeConnection,
    sub: SubscriptionFacts,
    price_id: str,
    *,
    at: dt.datetime,
    key: str,
    quantity: int | None = None,
) -> dict[str, Any]:
    """Change plans (or seats) now; the prorated difference goes on the next invoice."""
    item: dict[str, Any] = {"id": sub.item_id, "price": price_id}
    if quantity is not None:
        item["quantity"] = quantity
    return _update(
        connection,
        sub.id,
        {
            "items": [item],
            "proration_behavior": "create_prorations",
            "proration_date": int(at.timestamp()),
        },
        key,
    )


def switch_for_renewal(
    connection: StripeConnection, sub: SubscriptionFacts, price_id: str, *, key: str
) -> dict[str, Any]:
    """Change plans just before the renewal, with nothing prorated: the renewal bills
    the new plan and what was paid for this period stands."""
    return _update(
        connection,
        sub.id,
        {"items": [{"id": sub.item_id, "price": price_id}], "proration_behavior": "none"},
        key,
    )


def pause(
    connection: StripeConnection, subscription_id: str, *, resumes_at: dt.datetime, key: str
) -> dict[str, Any]:
    """Nothing is collected until ``resumes_at`` (invoices meanwhile are voided)."""
    params = {"pause_collection": {"behavior": "void", "resumes_at": int(resumes_at.timestamp())}}
    return _update(connection, subscription_id, params, key)


def resume(connection: StripeConnection, subscription_id: str, *, key: str) -> dict[str, Any]:
    return _update(connection, subscription_id, {"pause_collection": ""}, key)


def renew(connection: StripeConnection, subscription_id: str, *, key: str) -> dict[str, Any]:
    """Undo a cancel scheduled for the period's end."""
    return _update(connection, subscription_id, {"cancel_at_period_end": False}, key)


def update_customer(
    connection: StripeConnection, customer_id: str, params: dict[str, Any], *, key: str
) -> dict[str, Any]:
    return _plain(
        client_for(connection).v1.customers.update(customer_id, params, {"idempotency_key": key})
    )


def list_tax_ids(connection: StripeConnection, customer_id: str) -> list[dict[str, Any]]:
    found = client_for(connection).v1.customers.tax_ids.list(customer_id, {"limit": 100})
    return _items(found)


def add_tax_id(
    connection: StripeConnection, customer_id: str, kind: str, value: str, *, key: str
) -> dict[str, Any]:
    return _plain(
        client_for(connection).v1.customers.tax_ids.create(
            customer_id, {"type": kind, "value": value}, {"idempotency_key": key}
        )
    )


def remove_tax_id(connection: StripeConnection, customer_id: str, tax_id: str) -> None:
    try:
        client_for(connection).v1.customers.tax_ids.delete(customer_id, tax_id)
    except InvalidRequestError as exc:
        if getattr(exc, "http_status", None) != 404:  # gone already: what was asked
            raise
