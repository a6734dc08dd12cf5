"""Setup intents: ``/v1/setup_intents`` and ``/v1/setup_attempts``.

Confirming runs Stripe's $0 check on the card: a good card succeeds and is attached to
the intent's customer; Stripe's decline cards fail (402 ``card_error``, the intent back
to ``requires_payment_method``); 3-D Secure cards stop in ``requires_action`` until the
challenge page of the Stripe.js stand-in (``stripe_sandbox/stripejs.py``) is approved
or failed, which calls :func:`finish_authentication`.

Stripe.js reaches retrieve and confirm with a publishable key plus the intent's
``client_secret``; every other call needs a secret key.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from .. import cards
from ..api import Ctx, route
from ..errors import CardError, InvalidRequest, NotFound, StripeError
from ..events import changed
from ..render import paginate
from ..store import new_id, snapshot
from .payment_methods import attach_to, build, card_error, card_of, resolve

OPEN = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCEL_REASONS = ("abandoned", "duplicate", "requested_by_customer")
AUTH_FAILED_MESSAGE = (
    "We are unable to authenticate your payment method. Please choose a "
    "different payment method and try again."
)


def challenge_url(base_url: str, acct_id: str, si: dict[str, Any], *, redirect: bool) -> str:
    """The sandbox's 3-D Secure page for ``si`` (served by ``stripejs.py``)."""
    query = {"client_secret": si["client_secret"], **({"redirect": "1"} if redirect else {})}
    return f"{base_url}/v3/authenticate/{acct_id}/{si['id']}?{urlencode(query)}"


def redirect_back_url(si: dict[str, Any], return_url: str, status: str) -> str:
    """``return_url`` with the parameters Stripe appends after a redirect."""
    sep = "&" if "?" in return_url else "?"
    return (
        return_url
        + sep
        + urlencode(
            {
                "setup_intent": si["id"],
                "setup_intent_client_secret": si["client_secret"],
                "redirect_status": status,
            }
        )
    )


# -- access ---------------------------------------------------------------------------------


def _load(ctx: Ctx, seti_id: str) -> dict[str, Any]:
    """The intent; with a publishable key only together with its ``client_secret``."""
    si = ctx.acct.get(seti_id, "setup_intent")
    publishable = (ctx.key or "").startswith("pk_test_")
    secret = ctx.params.str("client_secret")
    if publishable and not secret:
        raise InvalidRequest(
            "Missing required param: client_secret.",
            param="client_secret",
            code="parameter_missing",
        )
    if si is None:
        raise NotFound("setupintent", seti_id)
    if secret is not None and secret != si["client_secret"]:
        raise InvalidRequest(
            "The client_secret provided does not match the client_secret "
            "associated with the SetupIntent.",
            param="client_secret",
            code="setup_intent_invalid_parameter",
        )
    return si


def _unexpected(si: dict[str, Any], action: str) -> InvalidRequest:
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


def _types(ctx: Ctx) -> list[str] | None:
    if "payment_method_types" not in ctx.params:
        return None
    types = [str(t) for t in ctx.params.list("payment_method_types")]
    if not types or any(t != "card" for t in types):
        raise InvalidRequest(
            "The sandbox supports only payment_method_types=[card].", param="payment_method_types"
        )
    return types


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


def _three_d_secure(result: str) -> dict[str, Any]:
    return {
        "authentication_flow": "challenge",
        "electronic_commerce_indicator": None,
        "result": result,
        "result_reason": None if result == "authenticated" else "rejected",
        "transaction_id": str(uuid.uuid4()),
        "version": "2.2.0",
    }


def _card_for_data(ctx: Ctx) -> dict[str, Any] | None:
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
        raise _unexpected(si, "confirm")
    pm = _card_for_data(ctx)
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
        sdk = p.bool("use_stripe_sdk", False) or not ctx.acct.priv(si["id"]).get("return_url")
        if sdk:
            si["next_action"] = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {
                    "type": "three_d_secure_redirect",
                    "source": new_id("src"),
                    "stripe_js": challenge_url(ctx.base_url, ctx.acct.id, si, redirect=False),
                },
            }
        else:
            si["next_action"] = {
                "type": "redirect_to_url",
                "redirect_to_url": {
                    "return_url": ctx.acct.priv(si["id"])["return_url"],
                    "url": challenge_url(ctx.base_url, ctx.acct.id, si, redirect=True),
                },
            }
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
    details["three_d_secure"] = _three_d_secure("authenticated" if approved else "failed")
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


# -- routes ---------------------------------------------------------------------------------


@route("POST", "/v1/setup_intents")
def create(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    customer = p.str("customer")
    if customer:
        ctx.load("customer", customer, param="customer")
    types = _types(ctx)
    automatic = p.dict("automatic_payment_methods")
    if types is None or (automatic is not None and automatic.bool("enabled")):
        apm: dict[str, Any] | None = {"allow_redirects": "always", "enabled": True}
        config: dict[str, Any] | None = {"id": new_id("pmc"), "parent": None}
    else:
        apm, config = None, None
    si_id = new_id("seti")
    pm_id = p.str("payment_method")
    if pm_id:
        pm_id = resolve(ctx, pm_id)["id"]
    si: dict[str, Any] = {
        "id": si_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": apm,
        "cancellation_reason": None,
        "client_secret": f"{si_id}_secret_{secrets.token_urlsafe(24).replace('-', 'x')}",
        "created": ctx.now_for_customer(customer),
        "customer": customer,
        "description": p.str("description"),
        "flow_directions": p.list("flow_directions") or None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": p.metadata() or {},
        "next_action": None,
        "on_behalf_of": p.str("on_behalf_of"),
        "payment_method": pm_id,
        "payment_method_configuration_details": config,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": types or ["card"],
        "single_use_mandate": None,
        "status": "requires_confirmation" if pm_id else "requires_payment_method",
        "usage": p.str("usage", "off_session", choices=("on_session", "off_session")),
        "excluded_payment_method_types": None,
    }
    ctx.acct.put(si)
    ctx.emit("setup_intent.created", si)
    if p.bool("confirm", False):
        return confirm_intent(ctx, si)
    return si


@route("GET", "/v1/setup_intents/<seti_id>", auth="publishable")
def retrieve(ctx: Ctx, seti_id: str) -> dict[str, Any]:
    return _load(ctx, seti_id)


@route("POST", "/v1/setup_intents/<seti_id>")
def update(ctx: Ctx, seti_id: str) -> dict[str, Any]:
    si = _load(ctx, seti_id)
    p = ctx.params
    changing = {"customer", "payment_method", "payment_method_types"} & set(p.keys())
    if changing and si["status"] not in OPEN:
        raise _unexpected(si, "update")
    if "customer" in p:
        customer = p.nullable_str("customer")
        if customer:
            ctx.load("customer", customer, param="customer")
        si["customer"] = customer
    if "payment_method" in p:
        pm_id = p.nullable_str("payment_method")
        si["payment_method"] = resolve(ctx, pm_id)["id"] if pm_id else None
        si["status"] = "requires_confirmation" if pm_id else "requires_payment_method"
        si["next_action"] = None
    types = _types(ctx)
    if types is not None:
        si["payment_method_types"] = types
    if "description" in p:
        si["description"] = p.nullable_str("description")
    metadata = p.metadata(si["metadata"])
    if metadata is not None:
        si["metadata"] = metadata
    return si


@route("GET", "/v1/setup_intents")
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    return paginate(
        ctx.acct,
        ctx.acct.all("setup_intent"),
        p,
        "/v1/setup_intents",
        filters={"customer": p.str("customer"), "payment_method": p.str("payment_method")},
    )


@route("POST", "/v1/setup_intents/<seti_id>/confirm", auth="publishable")
def confirm(ctx: Ctx, seti_id: str) -> dict[str, Any]:
    return confirm_intent(ctx, _load(ctx, seti_id))


@route("POST", "/v1/setup_intents/<seti_id>/cancel")
def cancel(ctx: Ctx, seti_id: str) -> dict[str, Any]:
    si = _load(ctx, seti_id)
    if si["status"] not in OPEN:
        raise _unexpected(si, "cancel")
    before = snapshot(si)
    attempt = ctx.acct.get(si["latest_attempt"], "setup_attempt")
    if attempt is not None and attempt["status"] == "requires_action":
        attempt["status"] = "abandoned"
    si.update(
        status="canceled",
        next_action=None,
        cancellation_reason=ctx.params.str("cancellation_reason", choices=CANCEL_REASONS),
    )
    ctx.emit("setup_intent.canceled", si, previous=changed(before, si))
    return si


@route("GET", "/v1/setup_attempts")
def list_attempts(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    seti_id = p.str("setup_intent", required=True)
    ctx.load("setup_intent", seti_id, label="setupintent", param="setup_intent")
    return paginate(
        ctx.acct,
        ctx.acct.all("setup_attempt"),
        p,
        "/v1/setup_attempts",
        filters={"setup_intent": seti_id},
    )
