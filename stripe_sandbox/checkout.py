"""Checkout Sessions in subscription mode: what a session is, how it expires (on its
customer's test clock, or the wall clock), how the customer completes it (a customer,
its card, the subscription and its first invoice paid), and how an expired session's
``after_expiration.recovery.url`` makes a new session with the same line items.

Used by the API (``resources/checkout_sessions.py``), the pages the customer sees
(``resources/checkout_pages.py``) and the clock (``cycle.py``).
"""

from __future__ import annotations

import secrets
from typing import Any

from . import cycle
from .api import Ctx
from .errors import InvalidRequest
from .store import new_id
from .wire import Params

KIND = "checkout.session"
MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 3600
#: How long an expired session's recovery URL works (Stripe: 30 days).
RECOVERY_TTL = 30 * cycle.DAY
PROMOTIONS = ("opt_in", "opt_out")


def session_id() -> str:
    return "cs_test_" + "".join(
        secrets.choice("abcdefghijkmnopqrstuvwxyzABCDEFGH0123456789") for _ in range(58)
    )


def clock_of(ctx: Ctx, session: dict[str, Any]) -> str | None:
    return ctx.state.clock_of_customer(ctx.acct, session.get("customer"))


def pay_url(base_url: str, account_id: str, oid: str) -> str:
    return f"{base_url}/c/pay/{account_id}/{oid}"


def recovery_url(base_url: str, account_id: str, oid: str) -> str:
    return f"{base_url}/c/recover/{account_id}/{oid}"


def line_items(ctx: Ctx, session: dict[str, Any]) -> list[dict[str, Any]]:
    return ctx.acct.priv(session["id"]).setdefault("line_items", [])


def _item(ctx: Ctx, p: Params) -> dict[str, Any]:
    p.only("price", "quantity")
    price_id = p.str("price", required=True)
    price = ctx.load("price", price_id, param=f"{p.prefix}[price]")
    if not price.get("recurring"):
        raise InvalidRequest(
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
            param=f"{p.prefix}[price]",
        )
    quantity = p.int("quantity", 1, minimum=1) or 1
    amount = (price["unit_amount"] or 0) * quantity
    product = ctx.acct.get(price["product"], "product") or {}
    return {
        "id": new_id("li"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price["currency"],
        "description": product.get("name") or price.get("nickname"),
        "metadata": {},
        "price": price,
        "quantity": quantity,
    }


def build(
    ctx: Ctx,
    *,
    items: list[Params],
    customer: dict[str, Any] | None,
    customer_email: str | None,
    success_url: str,
    cancel_url: str | None,
    expires_at: int | None,
    recovery: dict[str, Any] | None,
    promotions: str | None,
    allow_promotion_codes: bool | None,
    client_reference_id: str | None,
    metadata: dict[str, str],
    locale: str | None,
    recovered_from: str | None = None,
    copied_items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A new open session (checked whole before anything is stored)."""
    at = ctx.now(customer["test_clock"] if customer else None)
    made = copied_items or [_item(ctx, p) for p in items]
    if not made:
        raise InvalidRequest(
            "You must specify either `line_items` or `subscription_data[items]`.",
            param="line_items",
            code="parameter_missing",
        )
    currencies = {i["currency"] for i in made}
    if len(currencies) > 1:
        raise InvalidRequest("All prices must have the same currency.", param="line_items")
    if expires_at is None:
        expires_at = at + MAX_EXPIRY
    elif not MIN_EXPIRY <= expires_at - at <= MAX_EXPIRY:
        raise InvalidRequest(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
            "Session creation.",
            param="expires_at",
        )
    oid = session_id()
    total = sum(i["amount_total"] for i in made)
    session: dict[str, Any] = {
        "id": oid,
        "object": KIND,
        "adaptive_pricing": {"enabled": False},
        "after_expiration": {"recovery": recovery} if recovery else None,
        "allow_promotion_codes": allow_promotion_codes,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": (
            {
                "payment_method_reuse_agreement": None,
                "promotions": promotions,
                "terms_of_service": None,
            }
            if promotions
            else None
        ),
        "created": at,
        "currency": currencies.pop(),
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer["id"] if customer else None,
        "customer_account": None,
        "customer_creation": None,
        "customer_details": _details(customer["email"], customer.get("name")) if customer else None,
        "customer_email": customer_email,
        "discounts": [],
        "expires_at": expires_at,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": locale,
        "managed_payments": {"enabled": False},
        "metadata": metadata,
        "mode": "subscription",
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": recovered_from,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": pay_url(ctx.base_url, ctx.acct.id, oid),
        "wallet_options": None,
    }
    ctx.acct.put(session, private={"line_items": made})
    ctx.acct.schedule(clock_of(ctx, session), expires_at, "checkout_expire", oid, ctx.state.seq)
    return session


def _details(email: str | None, name: str | None) -> dict[str, Any]:
    return {
        "address": None,
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def fill(
    session: dict[str, Any], *, email: str | None, name: str | None, promotions: str | None
) -> None:
    """What the customer typed on the page (their email, the marketing-consent box)."""
    if email or name:
        details = session["customer_details"] or _details(None, None)
        session["customer_details"] = {
            **details,
            "email": email or details["email"],
            "name": name or details["name"],
        }
    if promotions is not None:
        if not (session["consent_collection"] or {}).get("promotions"):
            raise InvalidRequest(
                "This Checkout Session does not collect promotional consent "
                "(consent_collection[promotions]).",
                param="promotions",
            )
        session["consent"] = {"promotions": promotions, "terms_of_service": None}


def require_open(session: dict[str, Any], action: str) -> None:
    if session["status"] != "open":
        raise InvalidRequest(
            f'Only Checkout Sessions with a status in ["open"] can be {action}. This Checkout '
            f"Session has a status of {session['status']}.",
            code="checkout_session_status_invalid" if action == "expired" else None,
        )


def expire(ctx: Ctx, session: dict[str, Any], at: int) -> None:
    """The session is over unpaid: with recovery enabled it carries a recovery URL."""
    session.update(status="expired", url=None)
    after = session["after_expiration"]
    if after and after["recovery"]["enabled"]:
        after["recovery"] = {
            **after["recovery"],
            "expires_at": at + RECOVERY_TTL,
            "url": recovery_url(ctx.base_url, ctx.acct.id, session["id"]),
        }
    ctx.emit("checkout.session.expired", session, created=at)


def _expire_job(ctx: Ctx, session: dict[str, Any], due: int) -> None:
    if session["status"] == "open" and session["expires_at"] == due:
        expire(ctx, session, due)


cycle.register_job("checkout_expire", _expire_job)


def complete(
    ctx: Ctx,
    session: dict[str, Any],
    *,
    payment_method: str,
    email: str | None,
    name: str | None,
    promotions: str | None,
) -> None:
    """The customer pays: their customer (made when the session had none), the card, the
    subscription on the session's line items with its first invoice paid, then
    ``checkout.session.completed``. A declined card is a 402 and the session stays open."""
    from .resources import customers, subscriptions
    from .resources.payment_methods import attach_to

    require_open(session, "completed")
    fill(session, email=email, name=name, promotions=promotions)
    customer = ctx.acct.get(session["customer"], "customer")
    email = (session["customer_details"] or {}).get("email") or session["customer_email"]
    if customer is None:
        if not email:
            raise InvalidRequest("Missing required param: email.", param="email")
        customer = customers.create(_sub_ctx(ctx, {"email": email, "name": name or ""}))
    card = attach_to(ctx, payment_method, customer)
    items = [
        {"price": i["price"]["id"], "quantity": str(i["quantity"])}
        for i in line_items(ctx, session)
    ]
    sub = subscriptions.create(
        _sub_ctx(
            ctx,
            {
                "customer": customer["id"],
                "items": items,
                "default_payment_method": card["id"],
                "payment_behavior": "error_if_incomplete",
                "metadata": {"checkout_session": session["id"]},
            },
        )
    )
    at = ctx.now(customer["test_clock"])
    session.update(
        status="complete",
        payment_status="paid",
        customer=customer["id"],
        subscription=sub["id"],
        invoice=sub["latest_invoice"],
        url=None,
    )
    details = session["customer_details"] or _details(None, None)
    session["customer_details"] = {
        **details,
        "email": details["email"] or customer["email"],
        "name": details["name"] or customer.get("name"),
    }
    ctx.emit("checkout.session.completed", session, created=at)


def _sub_ctx(ctx: Ctx, data: dict[str, Any]) -> Ctx:
    return Ctx(
        ctx.state,
        ctx.acct,
        Params(data),
        base_url=ctx.base_url,
        request_id=ctx.request_id,
    )


def recover(ctx: Ctx, session: dict[str, Any]) -> dict[str, Any]:
    """What the recovery URL does: a new session with the expired one's line items
    (the open one it made already, when the customer comes back twice)."""
    after = (session["after_expiration"] or {}).get("recovery") or {}
    if session["status"] != "expired" or not after.get("url"):
        raise InvalidRequest("This Checkout Session cannot be recovered.", param="session")
    customer = ctx.acct.get(session["customer"], "customer")
    at = ctx.now(customer["test_clock"] if customer else None)
    if at >= after["expires_at"]:
        raise InvalidRequest("This recovery link has expired.", code="expired")
    for other in ctx.acct.all(KIND):
        if other["recovered_from"] == session["id"] and other["status"] == "open":
            return other
    consent = session["consent_collection"] or {}
    return build(
        ctx,
        items=[],
        copied_items=[{**i, "id": new_id("li")} for i in line_items(ctx, session)],
        customer=customer,
        customer_email=session["customer_email"]
        or (None if customer else (session["customer_details"] or {}).get("email")),
        success_url=session["success_url"],
        cancel_url=session["cancel_url"],
        expires_at=None,
        recovery={**after, "expires_at": None, "url": None},
        promotions=consent.get("promotions"),
        allow_promotion_codes=after.get("allow_promotion_codes") or None,
        client_reference_id=session["client_reference_id"],
        metadata=dict(session["metadata"]),
        locale=session["locale"],
        recovered_from=session["id"],
    )
