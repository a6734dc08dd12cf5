"""Confirming a payment intent, and 3-D Secure for payments.

An on-session confirmation of a card that needs authentication charges nothing yet: the
intent waits in ``requires_action`` until the challenge page of the Stripe.js stand-in
(``stripe_sandbox/stripejs.py``) is approved or failed, which calls
:func:`finish_authentication`. An off-session charge that needs it is declined
(``authentication_required``, see ``payments.attempt``) and leaves the intent in
``requires_action`` too, so the customer can come back and authenticate. Approved, the
card is charged; failed, the intent goes back to ``requires_payment_method`` with
``payment_intent_authentication_failure``. A payment intent of an invoice pays the
invoice when it succeeds here, with the events Stripe sends.

Stripe.js reaches retrieve and confirm with a publishable key plus the intent's
``client_secret``, and then sees only the fields Stripe shows such a key.
"""

from __future__ import annotations

from typing import Any

from .. import billing
from ..api import Ctx, route
from ..errors import InvalidRequest, StateConflict, StripeError
from ..events import changed
from ..store import snapshot
from .client_secrets import is_publishable
from .client_secrets import load_intent as load_secret_intent
from .payment_methods import resolve
from .payments import attempt, decline_error, outcome_for
from .setup_checks import AUTH_FAILED_MESSAGE, card_for_data, challenge_action
from .setup_checks import three_d_secure_details as three_d_secure

OPEN = ("requires_payment_method", "requires_confirmation", "requires_action")
#: What a publishable key sees of a PaymentIntent (Stripe's "retrievable with publishable
#: key" fields).
PUBLISHABLE_FIELDS = (
    "id",
    "object",
    "amount",
    "automatic_payment_methods",
    "canceled_at",
    "cancellation_reason",
    "capture_method",
    "client_secret",
    "confirmation_method",
    "created",
    "currency",
    "description",
    "last_payment_error",
    "livemode",
    "next_action",
    "payment_method",
    "payment_method_types",
    "processing",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "status",
)


# -- access ---------------------------------------------------------------------------------


def visible(ctx: Ctx, pi: dict[str, Any]) -> dict[str, Any]:
    """``pi`` as the caller's key may see it."""
    return {k: pi[k] for k in PUBLISHABLE_FIELDS} if is_publishable(ctx) else pi


def load_intent(ctx: Ctx, oid: str) -> dict[str, Any]:
    """The intent; with a publishable key only together with its ``client_secret``."""
    return load_secret_intent(
        ctx,
        oid,
        "payment_intent",
        label="PaymentIntent",
        code="payment_intent_invalid_parameter",
        missing="payment_intent",
    )


# -- confirming -----------------------------------------------------------------------------


def _payment_method(ctx: Ctx, pi: dict[str, Any]) -> dict[str, Any]:
    pm = card_for_data(ctx)
    pm_id = ctx.params.str("payment_method") or pi["payment_method"]
    if pm is None and not pm_id:
        raise InvalidRequest(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "To confirm the PaymentIntent with a payment method, pass `payment_method`.",
            code="payment_intent_unexpected_state",
            param="payment_method",
        )
    pm = pm or resolve(ctx, pm_id or "")
    if pm["customer"] and pi["customer"] and pm["customer"] != pi["customer"]:
        raise InvalidRequest(
            "The provided PaymentMethod belongs to another customer.", param="payment_method"
        )
    return pm


def confirm_intent(ctx: Ctx, pi: dict[str, Any]) -> dict[str, Any]:
    p = ctx.params
    if pi["status"] not in OPEN:
        raise StateConflict(
            f"This PaymentIntent's status is {pi['status']}; it cannot be confirmed.",
            code="payment_intent_unexpected_state",
        )
    pm = _payment_method(ctx, pi)
    return_url = p.str("return_url")
    if return_url is not None:
        ctx.acct.priv(pi["id"])["return_url"] = return_url
    off_session = bool(p.bool("off_session", False))
    at = ctx.now_for_customer(pi["customer"])
    failure = outcome_for(ctx, pm, at=at, off_session=off_session)
    if not off_session and failure and failure.decline_code == "authentication_required":
        before = snapshot(pi)
        pi.update(
            status="requires_action",
            payment_method=pm["id"],
            next_action=challenge_action(ctx, pi, sdk=bool(p.bool("use_stripe_sdk", False))),
        )
        if before["status"] != "requires_action":  # Stripe's events mark transitions
            ctx.emit("payment_intent.requires_action", pi, previous=changed(before, pi), created=at)
        return pi
    charge, failure = attempt(
        ctx, pi, pm, at=at, off_session=off_session, description=pi["description"]
    )
    billing.intent_attempted(ctx, pi, paid=failure is None, at=at)
    if failure is not None:
        raise decline_error(failure, pi, charge)
    return pi


def finish_authentication(ctx: Ctx, pi: dict[str, Any], approved: bool) -> dict[str, Any]:
    """The customer completed (or failed) the 3-D Secure challenge of ``pi``."""
    if pi["status"] != "requires_action":
        return pi
    pm = ctx.load("payment_method", pi["payment_method"], label="PaymentMethod")
    at = ctx.now_for_customer(pi["customer"])
    if approved:
        details = {**three_d_secure("authenticated"), "exemption_indicator": None}
        _, failure = attempt(
            ctx,
            pi,
            pm,
            at=at,
            off_session=False,
            description=pi["description"],
            three_d_secure=details,
        )
        billing.intent_attempted(ctx, pi, paid=failure is None, at=at)
        return pi
    before = snapshot(pi)
    pi.update(
        status="requires_payment_method",
        next_action=None,
        last_payment_error={
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
            "message": AUTH_FAILED_MESSAGE,
            "payment_method": snapshot(pm),
        },
    )
    ctx.emit("payment_intent.payment_failed", pi, previous=changed(before, pi), created=at)
    return pi


# -- routes (Stripe.js calls these with a publishable key) ------------------------------------


@route("GET", "/v1/payment_intents/<oid>", auth="publishable", params=("client_secret",))
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return visible(ctx, load_intent(ctx, oid))


@route(
    "POST",
    "/v1/payment_intents/<oid>/confirm",
    auth="publishable",
    params=(
        "client_secret",
        "off_session",
        "payment_method",
        "payment_method_data",
        "return_url",
        "use_stripe_sdk",
    ),
)
def confirm(ctx: Ctx, oid: str) -> dict[str, Any]:
    try:
        return visible(ctx, confirm_intent(ctx, load_intent(ctx, oid)))
    except StripeError as exc:
        if isinstance(exc.extra.get("payment_intent"), dict):
            exc.extra["payment_intent"] = visible(ctx, exc.extra["payment_intent"])
        raise
