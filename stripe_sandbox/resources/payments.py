"""Payment intents and charges: ``/v1/payment_intents``, ``/v1/charges``.

:func:`attempt` is the one place a card is charged; invoices pay through it too.
"""

from __future__ import annotations

import secrets
from typing import Any

from .. import cards
from ..api import LIST_PARAMS, Ctx, route
from ..errors import CardError, InvalidRequest, StateConflict
from ..events import changed
from ..render import paginate
from ..store import new_id, snapshot
from .charges import build_charge
from .payment_methods import card_error, card_of, resolve


def new_intent(
    ctx: Ctx,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    created: int,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    pi_id = new_id("pi")
    pi = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{secrets.token_urlsafe(18)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata or {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }
    ctx.acct.put(pi)
    ctx.emit("payment_intent.created", pi, created=created)
    return pi


def attempt(
    ctx: Ctx,
    pi: dict[str, Any],
    pm: dict[str, Any],
    *,
    at: int,
    off_session: bool,
    description: str | None = None,
) -> tuple[dict[str, Any], cards.Decline | None]:
    """Charge ``pm`` for ``pi`` at time ``at``; record the charge and emit Stripe's events."""
    before = snapshot(pi)
    card = card_of(ctx.acct, pm)
    private = ctx.acct.priv(pm["id"])
    failure = cards.charge_outcome(
        card,
        private.get("charges", 0),
        exp_month=pm["card"]["exp_month"],
        exp_year=pm["card"]["exp_year"],
        at=at,
        off_session=off_session,
        authenticated=bool(private.get("authenticated")) and not off_session,
    )
    private["charges"] = private.get("charges", 0) + 1
    charge = build_charge(ctx, pi, pm, at, failure, description)
    pi["payment_method"] = pm["id"]
    pi["latest_charge"] = charge["id"]
    if failure is None:
        pi.update(
            status="succeeded",
            amount_received=pi["amount"],
            last_payment_error=None,
            next_action=None,
        )
        ctx.emit("charge.succeeded", charge, created=at)
        ctx.emit("payment_intent.succeeded", pi, previous=changed(before, pi), created=at)
        if card.dispute_reason:
            from .disputes import create_dispute

            create_dispute(ctx.state, ctx.acct, charge, card.dispute_reason, at)
        return charge, None
    error = {
        "type": "card_error",
        "code": failure.code,
        "decline_code": failure.decline_code,
        "advice_code": failure.advice_code,
        "network_advice_code": failure.network_advice_code,
        "network_decline_code": failure.network_decline_code,
        "message": failure.message,
        "charge": charge["id"],
        "doc_url": f"https://stripe.com/docs/error-codes/{failure.code.replace('_', '-')}",
        "payment_method": pm,
        "payment_method_type": "card",
    }
    pi["last_payment_error"] = error
    if failure.decline_code == "authentication_required":
        pi["status"] = "requires_action"
        # The customer authenticates on the invoice's hosted page (the sandbox's
        # Stripe.js stand-in handles setup intents only).
        invoice_id = ctx.acct.priv(pi["id"]).get("invoice")
        pi["next_action"] = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {
                "type": "three_d_secure_redirect",
                "stripe_js": f"{ctx.base_url}/invoice/{ctx.acct.id}/{invoice_id}"
                if invoice_id
                else None,
            },
        }
    else:
        pi["status"] = "requires_payment_method"
    ctx.emit("charge.failed", charge, created=at)
    ctx.emit("payment_intent.payment_failed", pi, previous=changed(before, pi), created=at)
    if pi["status"] == "requires_action":
        ctx.emit("payment_intent.requires_action", pi, created=at)
    return charge, failure


def decline_error(failure: cards.Decline, pi: dict[str, Any], charge: dict[str, Any]) -> CardError:
    return card_error(
        failure,
        charge=charge["id"],
        payment_intent=pi,
        network_advice_code=failure.network_advice_code,
        network_decline_code=failure.network_decline_code,
    )


# -- /v1/payment_intents ------------------------------------------------------------------


@route(
    "POST",
    "/v1/payment_intents",
    params=(
        "amount",
        "currency",
        "customer",
        "description",
        "metadata",
        "payment_method",
        "confirm",
        "off_session",
        "payment_method_types",
        "setup_future_usage",
    ),
)
def create(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    amount = p.int("amount", required=True, minimum=50)
    currency = (p.str("currency", required=True) or "").lower()
    customer = p.str("customer")
    if customer:
        ctx.load("customer", customer, param="customer")
    at = ctx.now_for_customer(customer)
    pi = new_intent(
        ctx,
        amount=amount,
        currency=currency,
        customer=customer,
        created=at,
        description=p.str("description"),
        metadata=p.metadata() or {},
    )
    pm_id = p.str("payment_method")
    if pm_id:
        pi["payment_method"] = resolve(ctx, pm_id)["id"]
        pi["status"] = "requires_confirmation"
    if p.bool("confirm", False):
        return _confirm(ctx, pi)
    return pi


def _confirm(ctx: Ctx, pi: dict[str, Any]) -> dict[str, Any]:
    if pi["status"] in ("succeeded", "canceled"):
        raise StateConflict(
            f"This PaymentIntent's status is {pi['status']}; it cannot be confirmed.",
            code="payment_intent_unexpected_state",
        )
    pm_id = ctx.params.str("payment_method") or pi["payment_method"]
    if not pm_id:
        raise InvalidRequest(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
            param="payment_method",
        )
    pm = resolve(ctx, pm_id)
    if pm["customer"] and pi["customer"] and pm["customer"] != pi["customer"]:
        raise InvalidRequest(
            "The provided PaymentMethod belongs to another customer.", param="payment_method"
        )
    at = ctx.now_for_customer(pi["customer"])
    charge, failure = attempt(
        ctx,
        pi,
        pm,
        at=at,
        off_session=bool(ctx.params.bool("off_session", False)),
        description=pi["description"],
    )
    if failure is not None:
        raise decline_error(failure, pi, charge)
    return pi


@route(
    "POST",
    "/v1/payment_intents/<oid>/confirm",
    params=("payment_method", "off_session", "return_url"),
)
def confirm(ctx: Ctx, oid: str) -> dict[str, Any]:
    return _confirm(ctx, ctx.load("payment_intent", oid, label="payment_intent"))


@route("GET", "/v1/payment_intents/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("payment_intent", oid, label="payment_intent")


@route("POST", "/v1/payment_intents/<oid>", params=("description", "metadata"))
def update(ctx: Ctx, oid: str) -> dict[str, Any]:
    pi = ctx.load("payment_intent", oid, label="payment_intent")
    before = snapshot(pi)
    ctx.apply(pi, strings=("description",))
    ctx.emit_changes("payment_intent.updated", pi, before)
    return pi


@route("POST", "/v1/payment_intents/<oid>/cancel", params=("cancellation_reason",))
def cancel(ctx: Ctx, oid: str) -> dict[str, Any]:
    pi = ctx.load("payment_intent", oid, label="payment_intent")
    if pi["status"] in ("succeeded", "canceled"):
        raise StateConflict(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.",
            code="payment_intent_unexpected_state",
        )
    before = snapshot(pi)
    pi.update(
        status="canceled",
        canceled_at=ctx.now_for_customer(pi["customer"]),
        cancellation_reason=ctx.params.str("cancellation_reason", "requested_by_customer"),
    )
    ctx.emit("payment_intent.canceled", pi, previous=changed(before, pi))
    return pi


@route("GET", "/v1/payment_intents", params=("customer", *LIST_PARAMS))
def list_(ctx: Ctx) -> dict[str, Any]:
    return paginate(
        ctx.acct,
        ctx.acct.all("payment_intent"),
        ctx.params,
        "/v1/payment_intents",
        filters={"customer": ctx.params.str("customer")},
    )
