"""Invoice items: ``/v1/invoiceitems``. The sandbox makes them for prorations only
(``prorations.py``); they can be read, listed and, while pending, deleted."""

from __future__ import annotations

from typing import Any

from ..api import LIST_PARAMS, Ctx, route
from ..errors import StateConflict
from ..render import paginate


@route("GET", "/v1/invoiceitems/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("invoiceitem", oid)


@route("GET", "/v1/invoiceitems", params=("customer", "invoice", "pending", *LIST_PARAMS))
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    pending = p.bool("pending")
    return paginate(
        ctx.acct,
        ctx.acct.all("invoiceitem"),
        p,
        "/v1/invoiceitems",
        filters={
            "customer": p.str("customer"),
            "invoice": p.str("invoice"),
            "pending": None if pending is None else lambda ii: (ii["invoice"] is None) == pending,
        },
    )


@route("DELETE", "/v1/invoiceitems/<oid>")
def delete(ctx: Ctx, oid: str) -> dict[str, Any]:
    ii = ctx.load("invoiceitem", oid)
    if ii["invoice"] is not None:
        raise StateConflict(
            f"The invoice item {oid} is on invoice {ii['invoice']}; the sandbox deletes "
            "pending invoice items only.",
            code="invoice_not_editable",
        )
    ctx.acct.remove(oid)
    ctx.emit("invoiceitem.deleted", ii)
    return {"id": oid, "object": "invoiceitem", "deleted": True}
