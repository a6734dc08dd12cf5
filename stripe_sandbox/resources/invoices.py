"""Invoices: ``/v1/invoices`` (made by the subscription cycle), ``pay``, ``void``,
``mark_uncollectible``, ``finalize``; ``/v1/invoice_payments``. The hosted invoice page
and the PDF are in ``invoice_pages.py``."""

from __future__ import annotations

from typing import Any

from .. import billing
from ..api import LIST_PARAMS, Ctx, route
from ..errors import InvalidRequest, StateConflict
from ..render import includable, paginate
from ..store import Account, snapshot
from .payment_methods import resolve
from .payments import decline_error


def _load(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("invoice", oid)


@includable("invoice", "payments")
def _payments(acct: Account, inv: dict[str, Any]) -> dict[str, Any]:
    data = [p for p in acct.all("invoice_payment") if p["invoice"] == inv["id"]]
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "url": f"/v1/invoice_payments?invoice={inv['id']}",
    }


@route("GET", "/v1/invoices/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return _load(ctx, oid)


@route(
    "GET", "/v1/invoices", params=("customer", "subscription", "status", "test_clock", *LIST_PARAMS)
)
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    return paginate(
        ctx.acct,
        ctx.acct.all("invoice"),
        p,
        "/v1/invoices",
        filters={
            "customer": p.str("customer"),
            "subscription": p.str("subscription"),
            "status": p.str("status", choices=("draft", "open", "paid", "uncollectible", "void")),
            "test_clock": p.str("test_clock"),
        },
    )


@route("GET", "/v1/invoices/<oid>/lines")
def lines(ctx: Ctx, oid: str) -> dict[str, Any]:
    inv = _load(ctx, oid)
    return paginate(ctx.acct, inv["lines"]["data"], ctx.params, f"/v1/invoices/{oid}/lines")


@route(
    "POST",
    "/v1/invoices/<oid>",
    params=("auto_advance", "default_payment_method", "description", "metadata"),
)
def update(ctx: Ctx, oid: str) -> dict[str, Any]:
    inv = _load(ctx, oid)
    before = snapshot(inv)
    p = ctx.params
    ctx.apply(inv, strings=("description",), flags=("auto_advance",))
    if "default_payment_method" in p:
        pm_id = p.nullable_str("default_payment_method")
        if pm_id:
            ctx.load("payment_method", pm_id, label="PaymentMethod", param="default_payment_method")
        inv["default_payment_method"] = pm_id
    ctx.emit_changes("invoice.updated", inv, before)
    return inv


@route("POST", "/v1/invoices/<oid>/finalize", params=("auto_advance",))
def finalize(ctx: Ctx, oid: str) -> dict[str, Any]:
    inv = _load(ctx, oid)
    if inv["status"] != "draft":
        raise StateConflict(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            code="invoice_not_editable",
        )
    at = ctx.now(inv["test_clock"])
    if "auto_advance" in ctx.params:
        inv["auto_advance"] = bool(ctx.params.bool("auto_advance"))
    billing.finalize(ctx, inv, at)
    return inv


@route(
    "POST",
    "/v1/invoices/<oid>/pay",
    params=("paid_out_of_band", "payment_method", "off_session", "forgive", "source"),
)
def pay(ctx: Ctx, oid: str) -> dict[str, Any]:
    """Attempt payment now (Backstop's retries and card updates go through here)."""
    inv = _load(ctx, oid)
    p = ctx.params
    if inv["status"] == "paid":
        raise StateConflict("Invoice is already paid", code="invoice_already_paid")
    if inv["status"] == "void":
        raise StateConflict(
            "This invoice can no longer be paid because it has been voided.",
            code="invoice_not_editable",
        )
    at = ctx.now(inv["test_clock"])
    if inv["status"] == "draft":
        billing.finalize(ctx, inv, at)
    if p.bool("paid_out_of_band", False):
        billing.mark_paid(ctx, inv, at, out_of_band=True)
        from ..cycle import after_invoice_paid

        after_invoice_paid(ctx, inv, at)
        return inv
    pm_id = p.str("payment_method")
    if pm_id:
        pm = resolve(ctx, pm_id)
        if pm["customer"] not in (None, inv["customer"]):
            raise InvalidRequest(
                "The provided PaymentMethod belongs to another customer.", param="payment_method"
            )
        pm_id = pm["id"]
    elif billing.charge_method(ctx, inv) is None and inv["amount_due"] > 0:
        raise InvalidRequest(
            "This customer has no attached payment source or default "
            "payment method. Please consider adding a default payment "
            "method.",
            param="payment_method",
        )
    charge, failure = billing.attempt_invoice(ctx, inv, at, pm_id=pm_id, automatic=False)
    if failure is not None and charge is not None:
        pi = ctx.acct.get(charge["payment_intent"])
        raise decline_error(failure, pi, charge)
    return inv


@route("POST", "/v1/invoices/<oid>/void", params=())
def void(ctx: Ctx, oid: str) -> dict[str, Any]:
    inv = _load(ctx, oid)
    if inv["status"] not in ("open", "uncollectible"):
        raise StateConflict(
            f"You can only void an open or uncollectible invoice; this one is {inv['status']}.",
            code="invoice_not_editable",
        )
    billing.close(ctx, inv, "void", ctx.now(inv["test_clock"]))
    return inv


@route("POST", "/v1/invoices/<oid>/mark_uncollectible", params=())
def mark_uncollectible(ctx: Ctx, oid: str) -> dict[str, Any]:
    inv = _load(ctx, oid)
    if inv["status"] != "open":
        raise StateConflict(
            f"You can only mark an open invoice uncollectible; this one is {inv['status']}.",
            code="invoice_not_editable",
        )
    billing.close(ctx, inv, "uncollectible", ctx.now(inv["test_clock"]))
    return inv


@route("GET", "/v1/invoice_payments/<oid>")
def retrieve_payment(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("invoice_payment", oid)


@route("GET", "/v1/invoice_payments", params=("invoice", *LIST_PARAMS))
def list_payments(ctx: Ctx) -> dict[str, Any]:
    return paginate(
        ctx.acct,
        ctx.acct.all("invoice_payment"),
        ctx.params,
        "/v1/invoice_payments",
        filters={"invoice": ctx.params.str("invoice")},
    )
