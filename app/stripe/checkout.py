"""Checkout Sessions for the checkout-recovery loop: a session read as plain facts (what
was being bought, by whom, its recovery URL and consent), the customer behind it (their
test clock), and the checkouts a customer completed since (the re-check before a
reminder). Reads only: recovery sends the customer to Stripe's own recovery URL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .billing import _epoch, _get, _id
from .client import client_for
from .models import StripeConnection
from .subscriptions import _plain


@dataclass(frozen=True)
class CheckoutFacts:
    id: str
    status: str
    mode: str
    customer_id: str | None
    email: str | None
    name: str | None
    price_ids: list[str]
    plan_name: str | None
    amount_minor: int
    currency: str
    interval: str
    interval_count: int
    recovered_from: str | None
    subscription_id: str | None
    recovery_url: str | None
    recovery_expires_at: dt.datetime | None
    locale: str | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    """The session as Stripe has it (consent, metadata): for the pure rules."""


def facts(session: dict[str, Any], items: list[dict[str, Any]]) -> CheckoutFacts:
    recovery = _get(session, "after_expiration", "recovery") or {}
    details = session.get("customer_details") or {}
    prices = [_get(i, "price") or {} for i in items]
    recurring = next((p.get("recurring") for p in prices if p.get("recurring")), None) or {}
    names = [i.get("description") for i in items if i.get("description")]
    return CheckoutFacts(
        id=session["id"],
        status=session.get("status") or "",
        mode=session.get("mode") or "",
        customer_id=_id(session.get("customer")),
        email=details.get("email") or session.get("customer_email"),
        name=details.get("name"),
        price_ids=sorted({p["id"] for p in prices if p.get("id")}),
        plan_name=", ".join(dict.fromkeys(names)) or None,
        amount_minor=sum(int(i.get("amount_total") or 0) for i in items),
        currency=(session.get("currency") or "usd").lower(),
        interval=recurring.get("interval") or "month",
        interval_count=int(recurring.get("interval_count") or 1),
        recovered_from=session.get("recovered_from"),
        subscription_id=_id(session.get("subscription")),
        recovery_url=recovery.get("url"),
        recovery_expires_at=_epoch(recovery.get("expires_at")),
        locale=session.get("locale"),
        raw=session,
    )


def read_session(connection: StripeConnection, session_id: str) -> CheckoutFacts:
    """The session now, with its line items (events may be stale or out of order)."""
    session = _plain(
        client_for(connection).v1.checkout.sessions.retrieve(session_id, {"expand": ["line_items"]})
    )
    items = (session.get("line_items") or {}).get("data") or []
    return facts(session, items)


@dataclass(frozen=True)
class Buyer:
    email: str | None
    name: str | None
    test_clock: str | None


def buyer(connection: StripeConnection, customer_id: str) -> Buyer:
    customer = client_for(connection).v1.customers.retrieve(customer_id)
    clock = _get(customer, "test_clock")
    return Buyer(
        email=_get(customer, "email") or None,
        name=_get(customer, "name") or None,
        test_clock=_id(clock),
    )


def completed_since(
    connection: StripeConnection, customer_id: str | None, since: dt.datetime
) -> list[CheckoutFacts]:
    """Subscription checkouts completed since ``since`` (the customer's when known,
    else the account's latest), newest first."""
    params: dict[str, Any] = {
        "status": "complete",
        "limit": 100,
        "created": {"gte": int(since.timestamp())},
        "expand": ["data.line_items"],
    }
    if customer_id:
        params["customer"] = customer_id
    found = client_for(connection).v1.checkout.sessions.list(params)
    out = []
    for entry in found.data:
        session = _plain(entry)
        items = (session.get("line_items") or {}).get("data") or []
        if session.get("mode") == "subscription":
            out.append(facts(session, items))
    return out
