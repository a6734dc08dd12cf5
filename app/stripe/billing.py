"""Reading invoices and charging them, for the recovery loop.

Stripe's objects come back as plain facts (dataclasses of primitives), so the domain
packages never touch the SDK's types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .client import CardError, InvalidRequestError, client_for
from .models import StripeConnection

_INVOICE_EXPAND = ["payments.data.payment.payment_intent.latest_charge"]


@dataclass(frozen=True)
class Card:
    payment_method_id: str | None
    brand: str | None
    fingerprint: str | None


@dataclass(frozen=True)
class Failure:
    """The decline of an invoice's latest payment attempt."""

    decline_code: str | None
    failure_code: str | None
    advice_code: str | None
    network_advice_code: str | None
    charge_id: str | None
    at: dt.datetime | None
    card: Card


@dataclass(frozen=True)
class InvoiceFacts:
    id: str
    status: str
    customer_id: str
    subscription_id: str | None
    amount_due_minor: int
    currency: str
    attempt_count: int
    next_payment_attempt: dt.datetime | None
    test_clock: str | None
    created: dt.datetime
    paid_at: dt.datetime | None
    default_payment_method_id: str | None
    failure: Failure | None
    latest_charge_id: str | None = None
    payment_intent_ids: tuple[str, ...] = ()
    amount_paid_minor: int | None = None
    """What was paid: less than the amount due after a credit note or a partial payment."""

    @property
    def is_stripe_retrying(self) -> bool:
        """Stripe's own Smart Retries are on for this invoice."""
        return self.next_payment_attempt is not None


@dataclass(frozen=True)
class PayResult:
    paid: bool
    invoice: InvoiceFacts
    """The invoice as it stands after the attempt."""
    error: str | None = None
    """Why Stripe refused to try at all (no payment method, already paid, void)."""


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return _get(value, "id")


def card_of(payment_method: Any) -> Card:
    if payment_method is None or isinstance(payment_method, str):
        return Card(payment_method, None, None)
    return Card(
        _get(payment_method, "id"),
        _get(payment_method, "card", "brand"),
        _get(payment_method, "card", "fingerprint"),
    )


def _failure(invoice: Any) -> Failure | None:
    payments = _get(invoice, "payments", "data") or []
    intents = [_get(p, "payment", "payment_intent") for p in payments]
    intents = [pi for pi in intents if pi is not None and not isinstance(pi, str)]
    if not intents:
        return None
    intent = max(intents, key=lambda pi: _get(pi, "created") or 0)
    error = _get(intent, "last_payment_error")
    if not error:
        return None
    charge = _get(intent, "latest_charge")
    card = card_of(_get(error, "payment_method"))
    if card.fingerprint is None and charge is not None and not isinstance(charge, str):
        details = _get(charge, "payment_method_details", "card")
        card = Card(
            _id(_get(charge, "payment_method")),
            _get(details, "brand"),
            _get(details, "fingerprint"),
        )
    return Failure(
        decline_code=_get(error, "decline_code"),
        failure_code=_get(error, "code"),
        advice_code=_get(error, "advice_code"),
        network_advice_code=_get(error, "network_advice_code"),
        charge_id=_get(error, "charge") or _id(charge),
        at=_epoch(_get(charge, "created")) if not isinstance(charge, str) else None,
        card=card,
    )


def _latest_charge(invoice: Any) -> str | None:
    payments = _get(invoice, "payments", "data") or []
    intents = [_get(p, "payment", "payment_intent") for p in payments]
    intents = [pi for pi in intents if pi is not None and not isinstance(pi, str)]
    if not intents:
        return None
    return _id(_get(max(intents, key=lambda pi: _get(pi, "created") or 0), "latest_charge"))


def invoice_facts(invoice: Any) -> InvoiceFacts:
    subscription = _get(invoice, "parent", "subscription_details", "subscription") or _get(
        invoice, "subscription"
    )
    return InvoiceFacts(
        id=_get(invoice, "id"),
        status=_get(invoice, "status") or "draft",
        customer_id=_id(_get(invoice, "customer")) or "",
        subscription_id=_id(subscription),
        amount_due_minor=int(_get(invoice, "amount_due") or 0),
        currency=(_get(invoice, "currency") or "usd").lower(),
        attempt_count=int(_get(invoice, "attempt_count") or 0),
        next_payment_attempt=_epoch(_get(invoice, "next_payment_attempt")),
        test_clock=_id(_get(invoice, "test_clock")),
        created=_epoch(_get(invoice, "created")) or dt.datetime.now(dt.UTC),
        paid_at=_epoch(_get(invoice, "status_transitions", "paid_at")),
        default_payment_method_id=_id(_get(invoice, "default_payment_method")),
        failure=_failure(invoice),
        latest_charge_id=_latest_charge(invoice),
        payment_intent_ids=tuple(
            pi_id
            for p in _get(invoice, "payments", "data") or []
            if (pi_id := _id(_get(p, "payment", "payment_intent")))
        ),
        amount_paid_minor=_int_or_none(_get(invoice, "amount_paid")),
    )


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


def read_invoice(connection: StripeConnection, invoice_id: str) -> InvoiceFacts:
    """The invoice as Stripe has it now, with its latest decline."""
    invoice = client_for(connection).v1.invoices.retrieve(invoice_id, {"expand": _INVOICE_EXPAND})
    return invoice_facts(invoice)


@dataclass(frozen=True)
class Charge:
    """One attempt on the card network: the caps count these."""

    id: str
    at: dt.datetime
    succeeded: bool
    card: Card
    decline_code: str | None
    failure_code: str | None
    advice_code: str | None
    network_advice_code: str | None


def charge_facts(charge: Any) -> Charge:
    outcome = _get(charge, "outcome")
    blocked = _get(outcome, "type") == "blocked"
    details = _get(charge, "payment_method_details", "card")
    succeeded = _get(charge, "status") == "succeeded"
    return Charge(
        id=_get(charge, "id"),
        at=_epoch(_get(charge, "created")) or dt.datetime.now(dt.UTC),
        succeeded=succeeded,
        card=Card(
            _id(_get(charge, "payment_method")),
            _get(details, "brand"),
            _get(details, "fingerprint"),
        ),
        # Stripe's radar blocks carry a risk level as reason; the decline is "fraudulent".
        decline_code=None if succeeded else ("fraudulent" if blocked else _get(outcome, "reason")),
        failure_code=_get(charge, "failure_code"),
        advice_code=_get(outcome, "advice_code"),
        network_advice_code=_get(outcome, "network_advice_code"),
    )


def list_charges(connection: StripeConnection, invoice: InvoiceFacts) -> list[Charge]:
    """Every charge made on the invoice's payments, oldest first."""
    client = client_for(connection)
    found = []
    for pi_id in invoice.payment_intent_ids:
        for charge in client.v1.charges.list(
            {"payment_intent": pi_id, "limit": 100}
        ).auto_paging_iter():
            found.append(charge_facts(charge))
    return sorted(found, key=lambda c: (c.at, c.id))


@dataclass(frozen=True)
class Subscription:
    id: str
    status: str
    default_card: Card | None
    cancellation_reason: str | None


def read_subscription(connection: StripeConnection, subscription_id: str) -> Subscription:
    sub = client_for(connection).v1.subscriptions.retrieve(
        subscription_id, {"expand": ["default_payment_method"]}
    )
    default = _get(sub, "default_payment_method")
    return Subscription(
        id=sub.id,
        status=_get(sub, "status") or "unknown",
        default_card=card_of(default) if default else None,
        cancellation_reason=_get(sub, "cancellation_details", "reason"),
    )


def customer_default_card(connection: StripeConnection, customer_id: str) -> Card | None:
    customer = client_for(connection).v1.customers.retrieve(
        customer_id, {"expand": ["invoice_settings.default_payment_method"]}
    )
    default = _get(customer, "invoice_settings", "default_payment_method")
    return card_of(default) if default else None


def customer_timezone(connection: StripeConnection, customer_id: str) -> str | None:
    """The customer's IANA timezone from ``metadata.timezone`` (Stripe has no timezone
    field; merchants who know it set it there)."""
    customer = client_for(connection).v1.customers.retrieve(customer_id)
    metadata = _get(customer, "metadata") or {}
    value = _get(metadata, "timezone") or _get(metadata, "tz")
    return value if isinstance(value, str) else None


def read_payment_method(connection: StripeConnection, payment_method_id: str) -> Card:
    return card_of(client_for(connection).v1.payment_methods.retrieve(payment_method_id))


def card_to_charge(
    connection: StripeConnection, invoice: InvoiceFacts, subscription: Subscription | None
) -> Card | None:
    """The card ``invoices.pay`` will charge: the invoice's, the subscription's, else the
    customer's default (Stripe's own order)."""
    if invoice.default_payment_method_id:
        return read_payment_method(connection, invoice.default_payment_method_id)
    if subscription is not None and subscription.default_card is not None:
        return subscription.default_card
    return customer_default_card(connection, invoice.customer_id)


def pay_invoice(
    connection: StripeConnection, invoice_id: str, *, idempotency_key: str
) -> PayResult:
    """One attempt on an open invoice. A decline is a result, not an exception; a
    second call with the same key is answered from Stripe's idempotency cache."""
    client = client_for(connection)
    try:
        client.v1.invoices.pay(invoice_id, {}, {"idempotency_key": idempotency_key})
    except CardError:
        return PayResult(False, read_invoice(connection, invoice_id))
    except InvalidRequestError as exc:
        return PayResult(
            False, read_invoice(connection, invoice_id), error=exc.user_message or str(exc)
        )
    facts = read_invoice(connection, invoice_id)
    return PayResult(facts.status == "paid", facts)


def void_invoice(connection: StripeConnection, invoice_id: str, *, idempotency_key: str) -> str:
    """Forgive an open invoice (nothing is owed on it any more); returns its new status.
    An invoice already void is left as it is."""
    client = client_for(connection)
    try:
        invoice = client.v1.invoices.void_invoice(
            invoice_id, {}, {"idempotency_key": idempotency_key}
        )
    except InvalidRequestError:
        facts = read_invoice(connection, invoice_id)
        if facts.status == "void":
            return facts.status
        raise
    return _get(invoice, "status") or "void"
