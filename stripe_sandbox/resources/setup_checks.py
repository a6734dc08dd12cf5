"""Confirming a setup intent: Stripe's $0 check on the card, and 3-D Secure.

A good card succeeds and is attached to the intent's customer; Stripe's decline cards
fail (402 ``card_error``, the intent back to ``requires_payment_method``); 3-D Secure
cards stop in ``requires_action`` until the challenge page of the Stripe.js stand-in
(``stripe_sandbox/stripejs.py``) is approved or failed, which calls
:func:`finish_authentication`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from .. import cards
from ..api import Ctx
from ..errors import CardError, InvalidRequest, StripeError
from ..events import changed
from ..store import new_id, snapshot
from .payment_methods import attach_to, build, card_error, card_of, resolve

OPEN = ("requires_payment_method", "requires_confirmation", "requires_action")
AUTH_FAILED_MESSAGE = (
    "We are unable to authenticate your payment method. Please choose a "
    "different payment method and try again."
)


def challenge_url(base_url: str, acct_id: str, si: dict[str, Any], *, redirect: bool) -> str:
    """The sandbox's 3-D Secure page for ``si`` (served by ``stripejs.py``)."""
    query = {"client_secret": si["client_secret"], **({"redirect": "1"} if redirect else {})}
    return f"{base_url}/v3/authenticate/{acct_id}/{si['id']}?{urlencode(query)}"


def redirect_back_url(intent: dict[str, Any], return_url: str, status: str) -> str:
    """``return_url`` with the parameters Stripe appends after a redirect."""
    kind = intent["object"]  # setup_intent or payment_intent
    sep = "&" if "?" in return_url else "?"
    return (
        return_url
        + sep
        + urlencode(
            {
                kind: intent["id"],
                f"{kind}_client_secret": intent["client_secret"],
                "redirect_status": status,
            }
        )
    )


def challenge_action(ctx: Ctx, intent: dict[str, Any], *, sdk: bool) -> dict[str, Any]:
    """The ``next_action`` of an intent waiting for 3-D Secure: handled inside Stripe.js
    (``use_stripe_sdk``) or by sending the browser away and back (``redirect_to_url``)."""
    return_url = ctx.acct.priv(intent["id"]).get("return_url")
    if sdk or not return_url:
        return {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {
                "type": "three_d_secure_redirect",
                "source": new_id("src"),
                "stripe_js": challenge_url(ctx.base_url, ctx.acct.id, intent, redirect=False),
            },
        }
    return {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "return_url": return_url,
            "url": challenge_url(ctx.base_url, ctx.acct.id, intent, redirect=True),
        },
    }


def unexpected_state(si: dict[str, Any], action: str) -> InvalidRequest:
    state = (
        "it has already succeeded after being previously confirmed"
        if si["status"] == "succeeded"
        else f"it has a status of {si['status']}"
    )
    return InvalidRequest(
        f"You cannot {action} this SetupIntent because {state}.",
        code="setup_intent_unexpected_state",
        extra={"setup_intent": snapshot(si)},
    )


# -- the card check -------------------------------------------------------------------------


def _attempt(ctx: Ctx, si: dict[str, Any], pm: dict[str, Any], status: str) -> dict[str, Any]:
    card = pm["card"]
    attempt = {
        "application": None,
        "created": ctx.now_for_customer(si["customer"]),
        "customer": si["customer"],
        "flow_directions": None,
        "id": new_id("setatt"),
        "livemode": False,
        "object": "setup_attempt",
        "on_behalf_of": si["on_behalf_of"],
        "payment_method": pm["id"],
        "payment_method_details": {
            "card": {
                "brand": card["brand"],
                "checks": dict(card["checks"]),
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "last4": card["last4"],
                "network": card["brand"],
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "setup_error": None,
        "setup_intent": si["id"],
        "status": status,
        "usage": si["usage"],
        "customer_account": None,
    }
    return ctx.acct.put(attempt)


def three_d_secure_details(result: str) -> dict[str, Any]:
    return {
        "authentication_flow": "challenge",
        "electronic_commerce_indicator": None,
        "result": result,
        "result_reason": None if result == "authenticated" else "rejected",
        "transaction_id": str(uuid.uuid4()),
        "version": "2.2.0",
    }


def card_for_data(ctx: Ctx) -> dict[str, Any] | None:
    """A payment method from ``payment_method_data`` (what Stripe.js sends)."""
    data = ctx.params.dict("payment_method_data")
    if data is None:
        return None
    if data.str("type", "card") != "card":
        raise InvalidRequest(
            "The sandbox supports only type=card.", param="payment_method_data[type]"
        )
    given = data.dict("card")
    if given is None:
        raise InvalidRequest(
            "Missing required param: payment_method_data[card].",
            param="payment_method_data[card]",
            code="parameter_missing",
        )
    number = given.str("number", required=True) or ""
    if not cards.luhn_ok(number):
        raise CardError(
            "Your card number is incorrect.",
            code="incorrect_number",
            param="payment_method_data[card][number]",
        )
    exp_month = given.int("exp_month", required=True) or 0
    exp_year = given.int("exp_year", required=True) or 0
    if not 1 <= exp_month <= 12:
        raise CardError(
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param="payment_method_data[card][exp_month]",
        )
    exp_year += 2000 if exp_year < 100 else 0
    pm = build(ctx, cards.card_for_number(number), exp_month=exp_month, exp_year=exp_year)
    billing = data.dict("billing_details")
    if billing is not None:
        for f in ("email", "name", "phone"):
            if f in billing:
                pm["billing_details"][f] = billing.nullable_str(f)
        address = billing.dict("address")
        for f in pm["billing_details"]["address"] if address is not None else ():
            if f in address:
                pm["billing_details"]["address"][f] = address.nullable_str(f)
        if pm["billing_details"]["address"]["postal_code"]:
            pm["card"]["checks"]["address_postal_code_check"] = "pass"
    return pm


def _setup_decline(ctx: Ctx, si: dict[str, Any], pm: dict[str, Any]) -> cards.Decline | None:
    card = card_of(ctx.acct, pm)
    moment = datetime.fromtimestamp(ctx.now_for_customer(si["customer"]), UTC)
    if (pm["card"]["exp_year"], pm["card"]["exp_month"]) < (moment.year, moment.month):
        return cards.decline("expired_card", card.brand)
    if card.attach_decline:
        return cards.decline(card.attach_decline, card.brand)
    return None


def _fail(
    ctx: Ctx,
    si: dict[str, Any],
    attempt: dict[str, Any],
    pm: dict[str, Any],
    error: dict[str, Any],
    before: dict[str, Any],
) -> None:
    attempt["status"] = "failed"
    attempt["setup_error"] = {**error, "payment_method": snapshot(pm)}
    si.update(
        status="requires_payment_method",
        payment_method=None,
        next_action=None,
        last_setup_error={**error, "payment_method": snapshot(pm)},
    )
    ctx.emit("setup_intent.setup_failed", si, previous=changed(before, si))


def _succeed(
    ctx: Ctx,
    si: dict[str, Any],
    attempt: dict[str, Any],
    pm: dict[str, Any],
    before: dict[str, Any],
) -> None:
    if si["customer"]:
        attach_to(ctx, pm["id"], ctx.load("customer", si["customer"], param="customer"))
    attempt["status"] = "succeeded"
    si.update(status="succeeded", payment_method=pm["id"], next_action=None, last_setup_error=None)
    ctx.emit("setup_intent.succeeded", si, previous=changed(before, si))


def confirm_intent(ctx: Ctx, si: dict[str, Any]) -> dict[str, Any]:
    p = ctx.params
    if si["status"] not in OPEN:
        raise unexpected_state(si, "confirm")
    pm = card_for_data(ctx)
    if pm is None and p.str("payment_method"):
        pm = resolve(ctx, p.str("payment_method") or "")
    if pm is None and si["payment_method"]:
        pm = resolve(ctx, si["payment_method"])
    if pm is None:
        raise InvalidRequest(
            "You cannot confirm this SetupIntent because it's missing a payment method. You "
            "can either update the SetupIntent with a payment method and then confirm it "
            "again, or confirm it again directly with a payment method.",
            code="setup_intent_unexpected_state",
            extra={"setup_intent": snapshot(si)},
        )
    if pm["customer"] and si["customer"] and pm["customer"] != si["customer"]:
        raise InvalidRequest(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    return_url = p.str("return_url")
    if return_url is not None:
        ctx.acct.priv(si["id"])["return_url"] = return_url
    previous = ctx.acct.get(si["latest_attempt"], "setup_attempt")
    if previous is not None and previous["status"] == "requires_action":
        previous["status"] = "abandoned"
    before = snapshot(si)
    attempt = _attempt(ctx, si, pm, "requires_action")
    si.update(payment_method=pm["id"], latest_attempt=attempt["id"], last_setup_error=None)
    failure = _setup_decline(ctx, si, pm)
    if failure is not None:
        error = card_error(failure).body()["error"]
        error.update(
            network_advice_code=failure.network_advice_code,
            network_decline_code=failure.network_decline_code,
            payment_method_type="card",
        )
        _fail(ctx, si, attempt, pm, error, before)
        raise card_error(
            failure,
            network_advice_code=failure.network_advice_code,
            network_decline_code=failure.network_decline_code,
            payment_method=snapshot(pm),
            payment_method_type="card",
            setup_intent=snapshot(si),
        )
    if card_of(ctx.acct, pm).three_d_secure:
        si["next_action"] = challenge_action(ctx, si, sdk=bool(p.bool("use_stripe_sdk", False)))
        si["status"] = "requires_action"
        ctx.emit("setup_intent.requires_action", si, previous=changed(before, si))
        return si
    _succeed(ctx, si, attempt, pm, before)
    return si


def finish_authentication(ctx: Ctx, si: dict[str, Any], approved: bool) -> dict[str, Any]:
    """The customer completed (or failed) the 3-D Secure challenge of ``si``."""
    if si["status"] != "requires_action":
        return si
    pm = ctx.load("payment_method", si["payment_method"], label="PaymentMethod")
    attempt = ctx.load("setup_attempt", si["latest_attempt"])
    before = snapshot(si)
    details = attempt["payment_method_details"]["card"]
    details["three_d_secure"] = three_d_secure_details("authenticated" if approved else "failed")
    if approved:
        try:
            _succeed(ctx, si, attempt, pm, before)
        except StripeError as exc:
            _fail(ctx, si, attempt, pm, exc.body()["error"], before)
            return si
        ctx.acct.priv(pm["id"])["authenticated"] = True
        return si
    error = {
        "type": "invalid_request_error",
        "code": "setup_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
        "message": AUTH_FAILED_MESSAGE,
    }
    _fail(ctx, si, attempt, pm, error, before)
    return si
