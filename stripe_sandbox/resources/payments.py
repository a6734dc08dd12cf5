"""Payment intents: ``/v1/payment_intents``.

:func:`attempt` is the one place a card is charged; invoices pay through it too.
Confirming, retrieving (Stripe.js reaches both with a publishable key) and 3-D Secure
are in ``payment_confirm.py``.
"""

from __future__ import annotations

import secrets
from typing import Any

from .. import cards
from ..api import LIST_PARAMS, Ctx, route
from ..errors import CardError, StateConflict
from ..events import changed
from ..render import paginate
from ..store import new_id, snapshot
from .charges import build_charge
from .payment_methods import card_error, card_of, resolve
from .setup_checks import challenge_action


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


def outcome_for(
    ctx: Ctx, pm: dict[str, Any], *, at: int, off_session: bool, authenticated: bool = False
) -> cards.Decline | None:
    """How the next charge on ``pm`` would end (nothing is recorded)."""
    private = ctx.acct.priv(pm["id"])
    return cards.charge_outcome(
        card_of(ctx.acct, pm),
        private.get("charges", 0),
        exp_month=pm["card"]["exp_month"],
        exp_year=pm["card"]["exp_year"],
        at=at,
        off_session=off_session,
        authenticated=authenticated or (bool(private.get("authenticated")) and not off_session),
    )


def attempt(
    ctx: Ctx,
    pi: dict[str, Any],
    pm: dict[str, Any],
    *,
    at: int,
    off_session: bool,
    description: str | None = None,
    three_d_secure: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], cards.Decline | None]:
    """Charge ``pm`` for ``pi`` at time ``at``; record the charge and emit Stripe's events.

    ``three_d_secure``: the cardholder just passed the challenge for this payment."""
    before = snapshot(pi)
    card = card_of(ctx.acct, pm)
    private = ctx.acct.priv(pm["id"])
    failure = outcome_for(
        ctx, pm, at=at, off_session=off_session, authenticated=three_d_secure is not None
    )
    private["charges"] = private.get("charges", 0) + 1
    charge = build_charge(ctx, pi, pm, at, failure, description)
    if three_d_secure is not None:
        charge["payment_method_details"]["card"]["three_d_secure"] = three_d_secure
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
        # As on Stripe: the customer can come back on session and authenticate
        # (Stripe.js confirmCardPayment / handleNextAction with the client secret).
        pi["status"] = "requires_action"
        pi["next_action"] = challenge_action(ctx, pi, sdk=True)
    else:
        pi["status"] = "requires_payment_method"
        pi["next_action"] = None
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
        "return_url",
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
        from .payment_confirm import confirm_intent

        return confirm_intent(ctx, pi)
    return pi


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
        next_action=None,
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
