"""Customers: ``/v1/customers``."""

from __future__ import annotations

import re
from typing import Any

from .. import invoicing
from ..api import LIST_PARAMS, Ctx, route
from ..errors import InvalidRequest
from ..events import changed
from ..render import paginate
from ..store import new_id, snapshot
from . import tax_ids
from .payment_methods import attach_to, check_attachable, resolve

#: What an update may change (a create also takes the first payment method and a clock).
UPDATABLE = (
    "address",
    "balance",
    "description",
    "email",
    "invoice_settings",
    "metadata",
    "name",
    "phone",
    "preferred_locales",
    "tax_exempt",
)
_ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
# What Stripe refuses: spaces, no "@", or a domain without a dot ("ada@localhost").
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _check_email(ctx: Ctx) -> None:
    email = ctx.params.str("email")
    if email and not _EMAIL.fullmatch(email):
        raise InvalidRequest(f"Invalid email address: {email}", code="email_invalid", param="email")


def _address(ctx: Ctx, current: dict[str, Any] | None) -> dict[str, Any] | None:
    given = ctx.params.dict("address")
    if given is None:
        return None if ctx.params.raw("address") == "" else current
    unknown = set(given.keys()) - set(_ADDRESS_FIELDS)
    if unknown:
        raise InvalidRequest(
            f"Received unknown parameter: address[{sorted(unknown)[0]}]",
            param=f"address[{sorted(unknown)[0]}]",
        )
    base = dict(current or dict.fromkeys(_ADDRESS_FIELDS))
    for f in _ADDRESS_FIELDS:
        if f in given:
            base[f] = given.str(f) or None
    return base


def _default_pm(ctx: Ctx, customer_id: str | None, current: str | None) -> str | None:
    settings = ctx.params.dict("invoice_settings")
    if settings is None or "default_payment_method" not in settings:
        return current
    pm_id = settings.nullable_str("default_payment_method")
    if pm_id is None:
        return None
    pm = ctx.load("payment_method", pm_id, param="invoice_settings[default_payment_method]")
    if customer_id is None or pm.get("customer") != customer_id:
        raise InvalidRequest(
            f"The customer does not have a payment method with the ID {pm_id}. The payment "
            "method must be attached to the customer.",
            param="invoice_settings[default_payment_method]",
            code="resource_missing",
        )
    return pm_id


@route("POST", "/v1/customers", params=(*UPDATABLE, "payment_method", "tax_id_data", "test_clock"))
def create(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    clock_id = p.str("test_clock")
    if clock_id:
        ctx.load("test_helpers.test_clock", clock_id, label="test clock", param="test_clock")
    _check_email(ctx)
    tax_id_data = [tax_ids.parse(entry.only("type", "value")) for entry in p.dicts("tax_id_data")]
    customer_id = new_id("cus", 14)
    customer: dict[str, Any] = {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": p.int("balance", 0),
        "created": ctx.now(clock_id),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": p.str("description"),
        "discount": None,
        "email": p.str("email"),
        "invoice_prefix": customer_id[4:12].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": p.metadata() or {},
        "name": p.str("name"),
        "next_invoice_sequence": 1,
        "phone": p.str("phone"),
        "preferred_locales": p.list("preferred_locales"),
        "shipping": None,
        "tax_exempt": p.str("tax_exempt", "none"),
        "test_clock": clock_id,
    }
    customer["address"] = _address(ctx, None)
    pm_id = p.str("payment_method")
    pm = resolve(ctx, pm_id, created=customer["created"]) if pm_id else None
    if pm is not None:
        check_attachable(ctx, pm)
    ctx.acct.put(customer)
    ctx.emit("customer.created", customer)
    for kind, value, country in tax_id_data:
        tax_ids.add(ctx, customer, kind, value, country)
    if pm is not None:
        attach_to(ctx, pm["id"], customer)
    default_pm = _default_pm(ctx, customer_id, None)
    if default_pm:
        before = snapshot(customer)
        customer["invoice_settings"] = {
            **customer["invoice_settings"],
            "default_payment_method": default_pm,
        }
        ctx.emit("customer.updated", customer, previous=changed(before, customer))
    return customer


@route("GET", "/v1/customers/<cid>")
def retrieve(ctx: Ctx, cid: str) -> dict[str, Any]:
    deleted = ctx.acct.priv(cid).get("deleted") if cid in ctx.acct.private else None
    if deleted:
        return {"id": cid, "object": "customer", "deleted": True}
    return ctx.load("customer", cid)


@route("POST", "/v1/customers/<cid>", params=UPDATABLE)
def update(ctx: Ctx, cid: str) -> dict[str, Any]:
    customer = ctx.load("customer", cid)
    before = snapshot(customer)
    p = ctx.params
    _check_email(ctx)
    ctx.apply(customer, strings=("email", "name", "description", "phone"))
    if "balance" in p:
        customer["balance"] = p.int("balance")
    if "preferred_locales" in p:
        customer["preferred_locales"] = p.list("preferred_locales")
    customer["address"] = _address(ctx, customer["address"])
    default_pm = _default_pm(ctx, cid, customer["invoice_settings"]["default_payment_method"])
    if default_pm != customer["invoice_settings"]["default_payment_method"]:
        customer["invoice_settings"] = {
            **customer["invoice_settings"],
            "default_payment_method": default_pm,
        }
    if ctx.emit_changes("customer.updated", customer, before):
        invoicing.refresh_drafts(ctx, cid)
    return customer


@route("DELETE", "/v1/customers/<cid>")
def delete(ctx: Ctx, cid: str) -> dict[str, Any]:
    customer = ctx.load("customer", cid)
    from .subscriptions import end_subscription

    for sub in ctx.acct.all("subscription"):
        if sub["customer"] == cid and sub["status"] not in ("canceled", "incomplete_expired"):
            end_subscription(
                ctx.state,
                ctx.acct,
                sub,
                reason="cancellation_requested",
                at=ctx.now_for_customer(cid),
            )
    ctx.emit("customer.deleted", customer)
    tax_ids.forget(ctx.acct, cid)
    ctx.acct.remove(cid)
    ctx.acct.priv(cid)["deleted"] = True
    return {"id": cid, "object": "customer", "deleted": True}


@route("GET", "/v1/customers", params=("email", "test_clock", *LIST_PARAMS))
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    filters: dict[str, Any] = {"email": p.str("email"), "test_clock": p.str("test_clock")}
    return paginate(ctx.acct, ctx.acct.all("customer"), p, "/v1/customers", filters=filters)
