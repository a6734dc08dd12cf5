"""Setup intents: ``/v1/setup_intents`` and ``/v1/setup_attempts``.

Confirming (the card check and 3-D Secure) is in ``setup_checks.py``.

Stripe.js reaches retrieve and confirm with a publishable key plus the intent's
``client_secret``; every other call needs a secret key.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..api import Ctx, route
from ..errors import InvalidRequest
from ..events import changed
from ..render import paginate
from ..store import new_id, snapshot
from .client_secrets import load_intent
from .payment_methods import resolve
from .setup_checks import OPEN, confirm_intent, unexpected_state

CANCEL_REASONS = ("abandoned", "duplicate", "requested_by_customer")


# -- access ---------------------------------------------------------------------------------


def _load(ctx: Ctx, seti_id: str) -> dict[str, Any]:
    return load_intent(
        ctx,
        seti_id,
        "setup_intent",
        label="SetupIntent",
        code="setup_intent_invalid_parameter",
        missing="setupintent",
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
        raise unexpected_state(si, "update")
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
        raise unexpected_state(si, "cancel")
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
