"""Cards on a merchant's account, for dunning and the hosted pages: SetupIntents for
Stripe Elements, setting the default payment method where the failed payment came
from, the customer's contact, pausing a subscription, expiring cards.

Stripe's objects come back as plain facts, as in :mod:`billing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .billing import _get, _id
from .client import client_for
from .models import StripeConnection


@dataclass(frozen=True)
class Contact:
    email: str | None
    name: str | None
    timezone: str | None


def customer_contact(connection: StripeConnection, customer_id: str) -> Contact:
    customer = client_for(connection).v1.customers.retrieve(customer_id)
    metadata = _get(customer, "metadata") or {}
    tz = _get(metadata, "timezone") or _get(metadata, "tz")
    return Contact(
        email=_get(customer, "email") or None,
        name=_get(customer, "name") or None,
        timezone=tz if isinstance(tz, str) else None,
    )


@dataclass(frozen=True)
class SetupStart:
    id: str
    client_secret: str


def create_setup_intent(
    connection: StripeConnection, customer_id: str, *, idempotency_key: str
) -> SetupStart:
    """A SetupIntent on the merchant's account for the customer's next card, to be
    charged off-session (renewals)."""
    intent = client_for(connection).v1.setup_intents.create(
        {
            "customer": customer_id,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": {"backstop": "card_update"},
        },
        {"idempotency_key": idempotency_key},
    )
    return SetupStart(intent.id, intent.client_secret)


@dataclass(frozen=True)
class SetupResult:
    id: str
    status: str
    customer_id: str | None
    payment_method_id: str | None
    error: str | None


def read_setup_intent(connection: StripeConnection, setup_intent_id: str) -> SetupResult:
    intent = client_for(connection).v1.setup_intents.retrieve(setup_intent_id)
    return SetupResult(
        id=intent.id,
        status=_get(intent, "status") or "unknown",
        customer_id=_id(_get(intent, "customer")),
        payment_method_id=_id(_get(intent, "payment_method")),
        error=_get(intent, "last_setup_error", "message"),
    )


def set_default_card(
    connection: StripeConnection,
    customer_id: str,
    subscription_id: str | None,
    payment_method_id: str,
) -> str:
    """Make the card the one renewals charge, where the failed payment came from: the
    subscription's own default if it has one, else the customer's (DESIGN §5). Returns
    which was set: ``subscription`` or ``customer``."""
    client = client_for(connection)
    if subscription_id:
        sub = client.v1.subscriptions.retrieve(subscription_id)
        if _get(sub, "default_payment_method"):
            client.v1.subscriptions.update(
                subscription_id, {"default_payment_method": payment_method_id}
            )
            return "subscription"
    client.v1.customers.update(
        customer_id, {"invoice_settings": {"default_payment_method": payment_method_id}}
    )
    return "customer"


def set_default_card_everywhere(
    connection: StripeConnection, customer_id: str, payment_method_id: str
) -> int:
    """Make the card the customer's default and the default of each of their live
    subscriptions that has one of its own (the portal's "Update card": every renewal
    charges the new card). Returns how many subscriptions changed."""
    client = client_for(connection)
    client.v1.customers.update(
        customer_id, {"invoice_settings": {"default_payment_method": payment_method_id}}
    )
    changed = 0
    for sub in client.v1.subscriptions.list({"customer": customer_id, "limit": 100}).data:
        own = _get(sub, "default_payment_method")
        if own and own != payment_method_id and _get(sub, "status") != "canceled":
            client.v1.subscriptions.update(sub.id, {"default_payment_method": payment_method_id})
            changed += 1
    return changed


def payment_needing_action(connection: StripeConnection, invoice_id: str) -> str | None:
    """The client secret of the invoice's payment that waits for the customer's bank
    (3-D Secure), or None."""
    invoice = client_for(connection).v1.invoices.retrieve(
        invoice_id, {"expand": ["payments.data.payment.payment_intent"]}
    )
    for payment in _get(invoice, "payments", "data") or []:
        intent = _get(payment, "payment", "payment_intent")
        if not isinstance(intent, str) and _get(intent, "status") == "requires_action":
            return _get(intent, "client_secret")
    return None


def pause_subscription(
    connection: StripeConnection, subscription_id: str, resumes_at: dt.datetime, *, key: str
) -> None:
    """Pause collection instead of losing the subscription; it resumes by itself."""
    client_for(connection).v1.subscriptions.update(
        subscription_id,
        {
            "pause_collection": {
                "behavior": "keep_as_draft",
                "resumes_at": int(resumes_at.timestamp()),
            }
        },
        {"idempotency_key": key},
    )


def resume_subscription(connection: StripeConnection, subscription_id: str) -> None:
    client_for(connection).v1.subscriptions.update(subscription_id, {"pause_collection": ""})


@dataclass(frozen=True)
class DefaultCard:
    """An active subscription and the card its renewals will charge."""

    subscription_id: str
    customer_id: str
    test_clock: str | None
    payment_method_id: str
    brand: str | None
    last4: str | None
    exp_month: int
    exp_year: int
    customer_tz: str | None = None
    customer_email: str | None = None


def active_subscription_cards(connection: StripeConnection) -> Iterator[DefaultCard]:
    """Every active (or trialing) subscription with the card it will charge next."""
    client = client_for(connection)
    for status in ("active", "trialing"):
        page = client.v1.subscriptions.list(
            {
                "status": status,
                "limit": 100,
                "expand": [
                    "data.default_payment_method",
                    "data.customer.invoice_settings.default_payment_method",
                ],
            }
        )
        for sub in page.auto_paging_iter():
            card = _card_of(sub)
            if card is not None:
                yield card


def _card_of(sub: Any) -> DefaultCard | None:
    customer = _get(sub, "customer")
    method = _get(sub, "default_payment_method") or _get(
        customer, "invoice_settings", "default_payment_method"
    )
    details = _get(method, "card")
    if method is None or isinstance(method, str) or details is None:
        return None
    month, year = _get(details, "exp_month"), _get(details, "exp_year")
    if not month or not year:
        return None
    tz = _get(customer, "metadata", "timezone") if not isinstance(customer, str) else None
    return DefaultCard(
        subscription_id=_get(sub, "id"),
        customer_id=_id(customer) or "",
        test_clock=_id(_get(sub, "test_clock")) or _id(_get(customer, "test_clock")),
        payment_method_id=_get(method, "id"),
        brand=_get(details, "brand"),
        last4=_get(details, "last4"),
        exp_month=int(month),
        exp_year=int(year),
        customer_tz=tz if isinstance(tz, str) else None,
        customer_email=_get(customer, "email") if not isinstance(customer, str) else None,
    )


def current_card(connection: StripeConnection, subscription_id: str) -> DefaultCard | None:
    """The card the subscription will charge now (None if it ended or has no card)."""
    sub = client_for(connection).v1.subscriptions.retrieve(
        subscription_id,
        {"expand": ["default_payment_method", "customer.invoice_settings.default_payment_method"]},
    )
    if _get(sub, "status") not in ("active", "trialing"):
        return None
    return _card_of(sub)
