"""Checkout Sessions: ``/v1/checkout/sessions`` (subscription mode), their line items,
``expire``, and the sandbox's test helpers to fill in, complete or recover one as the
customer would on Stripe's page (see ``checkout.py``)."""

from __future__ import annotations

from typing import Any

from .. import checkout
from ..api import LIST_PARAMS, Ctx, route
from ..errors import InvalidRequest
from ..render import includable, paginate
from ..store import Account

KIND = checkout.KIND
BASE = "/v1/checkout/sessions"
HELPERS = "/v1/test_helpers/checkout/sessions"
STATUSES = ("open", "complete", "expired")


def _load(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load(KIND, oid, label="checkout.session", param="session")


def _recovery(ctx: Ctx) -> dict[str, Any] | None:
    after = ctx.params.dict("after_expiration")
    if after is None:
        return None
    after.only("recovery")
    recovery = after.dict("recovery")
    if recovery is None:
        return None
    recovery.only("enabled", "allow_promotion_codes")
    enabled = recovery.bool("enabled")
    if enabled is None:
        raise InvalidRequest(
            "Missing required param: after_expiration[recovery][enabled].",
            param="after_expiration[recovery][enabled]",
            code="parameter_missing",
        )
    return {
        "allow_promotion_codes": bool(recovery.bool("allow_promotion_codes", False)),
        "enabled": enabled,
        "expires_at": None,
        "url": None,
    }


def _promotions(ctx: Ctx) -> str | None:
    consent = ctx.params.dict("consent_collection")
    if consent is None:
        return None
    consent.only("promotions", "terms_of_service", "payment_method_reuse_agreement")
    return consent.str("promotions", choices=("auto", "none"))


@route(
    "POST",
    BASE,
    params=(
        "mode",
        "line_items",
        "customer",
        "customer_email",
        "success_url",
        "cancel_url",
        "expires_at",
        "after_expiration",
        "consent_collection",
        "allow_promotion_codes",
        "client_reference_id",
        "metadata",
        "locale",
    ),
)
def create(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    mode = p.str("mode", required=True, choices=("payment", "setup", "subscription"))
    if mode != "subscription":
        raise InvalidRequest(
            "The sandbox makes Checkout Sessions in subscription mode only.", param="mode"
        )
    customer_id, email = p.str("customer"), p.str("customer_email")
    if customer_id and email:
        raise InvalidRequest(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    customer = ctx.load("customer", customer_id, param="customer") if customer_id else None
    promotions = _promotions(ctx)
    return checkout.build(
        ctx,
        items=p.dicts("line_items"),
        customer=customer,
        customer_email=email,
        success_url=p.str("success_url", required=True) or "",
        cancel_url=p.str("cancel_url"),
        expires_at=p.int("expires_at"),
        recovery=_recovery(ctx),
        promotions=promotions if promotions == "auto" else None,
        allow_promotion_codes=p.bool("allow_promotion_codes"),
        client_reference_id=p.str("client_reference_id"),
        metadata=p.metadata() or {},
        locale=p.str("locale"),
    )


@route("GET", f"{BASE}/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return _load(ctx, oid)


@route("GET", BASE, params=("customer", "status", "subscription", "payment_intent", *LIST_PARAMS))
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    filters = {
        "customer": p.str("customer"),
        "status": p.str("status", choices=STATUSES),
        "subscription": p.str("subscription"),
        "payment_intent": p.str("payment_intent"),
    }
    return paginate(ctx.acct, ctx.acct.all(KIND), p, BASE, filters=filters)


@route("GET", f"{BASE}/<oid>/line_items", params=LIST_PARAMS)
def list_line_items(ctx: Ctx, oid: str) -> dict[str, Any]:
    session = _load(ctx, oid)
    items = checkout.line_items(ctx, session)
    return paginate(ctx.acct, items, ctx.params, f"{BASE}/{oid}/line_items")


@includable(KIND, "line_items")
def _line_items(acct: Account, session: dict[str, Any]) -> dict[str, Any]:
    items = acct.priv(session["id"]).get("line_items", [])
    url = f"{BASE}/{session['id']}/line_items"
    return {"object": "list", "data": items, "has_more": False, "url": url}


@route("POST", f"{BASE}/<oid>/expire", params=())
def expire(ctx: Ctx, oid: str) -> dict[str, Any]:
    session = _load(ctx, oid)
    checkout.require_open(session, "expired")
    checkout.expire(ctx, session, ctx.now(checkout.clock_of(ctx, session)))
    return session


# -- sandbox test helpers: what the customer does on Stripe's page ------------------------------


def _promotions_given(ctx: Ctx) -> str | None:
    return ctx.params.str("promotions", choices=checkout.PROMOTIONS)


@route("POST", f"{HELPERS}/<oid>/fill", params=("email", "name", "promotions"))
def fill(ctx: Ctx, oid: str) -> dict[str, Any]:
    """The customer types their email and ticks (or not) the marketing-consent box, then
    leaves the page."""
    session = _load(ctx, oid)
    checkout.require_open(session, "filled in")
    checkout.fill(
        session,
        email=ctx.params.str("email"),
        name=ctx.params.str("name"),
        promotions=_promotions_given(ctx),
    )
    return session


@route(
    "POST", f"{HELPERS}/<oid>/complete", params=("payment_method", "email", "name", "promotions")
)
def complete(ctx: Ctx, oid: str) -> dict[str, Any]:
    """The customer pays with ``payment_method`` (default ``pm_card_visa``)."""
    session = _load(ctx, oid)
    checkout.complete(
        ctx,
        session,
        payment_method=ctx.params.str("payment_method", "pm_card_visa") or "pm_card_visa",
        email=ctx.params.str("email"),
        name=ctx.params.str("name"),
        promotions=_promotions_given(ctx),
    )
    return session


@route("POST", f"{HELPERS}/<oid>/recover", params=())
def recover(ctx: Ctx, oid: str) -> dict[str, Any]:
    """What opening the expired session's recovery URL does: the new session."""
    return checkout.recover(ctx, _load(ctx, oid))
