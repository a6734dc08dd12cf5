"""Bringing a customer back on Stripe, for the Win-back loop: the card on file, a new
subscription on the old price (with the offer's coupon), undoing a scheduled cancel,
and marking which campaign a change came from. Each change carries an idempotency key
derived from our row, so a double tap makes one subscription."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .billing import _get, _id
from .client import client_for
from .models import StripeConnection
from .subscriptions import SubscriptionFacts, _plain, subscription_facts

#: Set on what a win-back link created or changed: the campaign's id. The event that
#: follows is credited to the link, however quickly it arrives.
MARKER = "backstop_winback"
_EXPAND = ["items.data.price.product", "latest_invoice"]


@dataclass(frozen=True)
class CardOnFile:
    payment_method_id: str
    brand: str | None
    last4: str | None


def card_on_file(
    connection: StripeConnection, customer_id: str, subscription_id: str | None
) -> CardOnFile | None:
    """The card the customer last paid with: the old subscription's own default, else
    the customer's; None when there is none (or it was detached)."""
    client = client_for(connection)
    candidates: list[Any] = []
    if subscription_id:
        sub = client.v1.subscriptions.retrieve(
            subscription_id, {"expand": ["default_payment_method"]}
        )
        candidates.append(_get(sub, "default_payment_method"))
    customer = client.v1.customers.retrieve(
        customer_id, {"expand": ["invoice_settings.default_payment_method"]}
    )
    candidates.append(_get(customer, "invoice_settings", "default_payment_method"))
    for method in candidates:
        if not method or isinstance(method, str):
            continue
        attached = _id(_get(method, "customer"))
        if attached != customer_id:
            continue  # detached since: Stripe would refuse to charge it
        card = _get(method, "card") or {}
        return CardOnFile(_get(method, "id"), _get(card, "brand"), _get(card, "last4"))
    return None


def read(
    connection: StripeConnection, subscription_id: str
) -> tuple[SubscriptionFacts, str | None]:
    """The subscription's facts and its latest invoice's id."""
    sub = _plain(
        client_for(connection).v1.subscriptions.retrieve(subscription_id, {"expand": _EXPAND})
    )
    return subscription_facts(sub), _id(sub.get("latest_invoice"))


#: Statuses of a subscription that still bills.
LIVE = ("active", "trialing", "past_due")


def subscriptions(connection: StripeConnection, customer_id: str) -> list[SubscriptionFacts]:
    """Every subscription of the customer, ended ones included (newest first)."""
    found = client_for(connection).v1.subscriptions.list(
        {
            "customer": customer_id,
            "status": "all",
            "limit": 100,
            "expand": ["data.items.data.price.product"],
        }
    )
    return [subscription_facts(_plain(s)) for s in found.data]


def live_subscriptions(connection: StripeConnection, customer_id: str) -> list[SubscriptionFacts]:
    """The customer's subscriptions that still bill (active, trialing, past due)."""
    return [s for s in subscriptions(connection, customer_id) if s.status in LIVE]


def subscribe(
    connection: StripeConnection,
    *,
    customer_id: str,
    price_id: str,
    quantity: int,
    payment_method_id: str | None,
    coupon_id: str | None,
    campaign_id: int,
    idempotency_key: str,
) -> tuple[SubscriptionFacts, str | None]:
    """A new subscription, charged at once; a decline or a 3-D Secure request leaves it
    ``incomplete`` with its first invoice open (the page then asks the customer)."""
    params: dict[str, Any] = {
        "customer": customer_id,
        "items": [{"price": price_id, "quantity": quantity}],
        "payment_behavior": "allow_incomplete",
        "metadata": {MARKER: str(campaign_id)},
        "expand": _EXPAND,
    }
    if payment_method_id:
        params["default_payment_method"] = payment_method_id
    if coupon_id:
        params["discounts"] = [{"coupon": coupon_id}]
    sub = _plain(
        client_for(connection).v1.subscriptions.create(params, {"idempotency_key": idempotency_key})
    )
    return subscription_facts(sub), _id(sub.get("latest_invoice"))


def open_invoices(connection: StripeConnection, subscription_id: str) -> list[str]:
    """The subscription's unpaid invoices, oldest first (what coming back settles)."""
    found = client_for(connection).v1.invoices.list(
        {"subscription": subscription_id, "status": "open", "limit": 100}
    )
    return [i.id for i in sorted(found.data, key=lambda i: i.created)]


def mark(
    connection: StripeConnection, subscription_id: str, campaign_id: int, *, idempotency_key: str
) -> None:
    """Say on the subscription that a win-back link is bringing it back."""
    client_for(connection).v1.subscriptions.update(
        subscription_id,
        {"metadata": {MARKER: str(campaign_id)}},
        {"idempotency_key": idempotency_key},
    )


def keep(
    connection: StripeConnection, subscription_id: str, campaign_id: int, *, idempotency_key: str
) -> SubscriptionFacts:
    """Undo a cancel scheduled for the period's end (or a date), marked as ours."""
    sub = client_for(connection).v1.subscriptions.update(
        subscription_id,
        {"cancel_at_period_end": False, "cancel_at": "", "metadata": {MARKER: str(campaign_id)}},
        {"idempotency_key": idempotency_key},
    )
    return subscription_facts(_plain(sub))


def marked_campaign(sub: dict[str, Any]) -> int | None:
    """The campaign a subscription (as an event carries it) was brought back by."""
    value = str((sub.get("metadata") or {}).get(MARKER) or "")
    return int(value) if value.isdigit() else None
