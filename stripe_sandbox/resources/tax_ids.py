"""Customer tax IDs: ``/v1/customers/{customer}/tax_ids`` and the customer's includable
``tax_ids`` list (``expand[]=tax_ids``)."""

from __future__ import annotations

from typing import Any

from .. import invoicing
from ..api import Ctx, route
from ..errors import InvalidRequest, NotFound
from ..render import includable, paginate
from ..store import Account, new_id
from ..tax_id_formats import TYPES, VERIFIED_TYPES, InvalidTaxId, check
from ..wire import Params

_LIST_PARAMS = ("limit", "starting_after", "ending_before")


def parse(p: Params) -> tuple[str, str, str | None]:
    """``type`` and ``value`` of ``p`` checked as Stripe does: (type, value, country)."""
    kind = p.str("type", required=True, choices=TYPES)
    value = (p.str("value", required=True) or "").strip()
    assert kind is not None
    param = f"{p.prefix}[value]" if p.prefix else "value"
    if not value:
        raise InvalidRequest(
            f"You passed an empty string for '{param}'. We assume empty values are an "
            f"attempt to unset a parameter; however '{param}' cannot be unset. You should "
            f"remove '{param}' from your request or supply a non-empty value.",
            code="parameter_invalid_empty",
            param=param,
        )
    try:
        country = check(kind, value)
    except InvalidTaxId:
        raise InvalidRequest(
            f"Invalid value for {kind}.",
            code="tax_id_invalid",
            param=param,
        ) from None
    return kind, value, country


def add(
    ctx: Ctx, customer: dict[str, Any], kind: str, value: str, country: str | None
) -> dict[str, Any]:
    """Store a checked tax ID on ``customer`` and emit ``customer.tax_id.created``."""
    tax_id = {
        "id": new_id("txi"),
        "object": "tax_id",
        "country": country,
        "created": ctx.now_for_customer(customer["id"]),
        "customer": customer["id"],
        "customer_account": None,
        "livemode": False,
        "owner": {"type": "customer", "customer": customer["id"], "customer_account": None},
        "type": kind,
        "value": value,
        # Checked by a government service (asynchronously, on Stripe): the sandbox leaves
        # it pending; other types are not verified at all.
        "verification": {"status": "pending", "verified_address": None, "verified_name": None}
        if kind in VERIFIED_TYPES
        else None,
    }
    ctx.acct.put(tax_id)
    ctx.emit("customer.tax_id.created", tax_id)
    invoicing.refresh_drafts(ctx, customer["id"])
    return tax_id


def of_customer(acct: Account, customer_id: str) -> list[dict[str, Any]]:
    """The customer's tax IDs, newest first."""
    return [t for t in acct.all("tax_id") if t["customer"] == customer_id]


def forget(acct: Account, customer_id: str) -> None:
    """A deleted customer's tax IDs go with it."""
    for tax_id in of_customer(acct, customer_id):
        acct.remove(tax_id["id"])


@includable("customer", "tax_ids")
def _customer_tax_ids(acct: Account, customer: dict[str, Any]) -> dict[str, Any]:
    found = of_customer(acct, customer["id"])
    return {
        "object": "list",
        "data": found[:10],
        "has_more": len(found) > 10,
        "total_count": len(found),
        "url": f"/v1/customers/{customer['id']}/tax_ids",
    }


def _load(ctx: Ctx, cid: str, tid: str) -> dict[str, Any]:
    ctx.load("customer", cid)
    tax_id = ctx.load("tax_id", tid)
    if tax_id["customer"] != cid:  # another customer's is not found under this one
        raise NotFound("tax id", tid)
    return tax_id


@route("POST", "/v1/customers/<cid>/tax_ids", params=("type", "value"))
def create(ctx: Ctx, cid: str) -> dict[str, Any]:
    customer = ctx.load("customer", cid)
    kind, value, country = parse(ctx.params)
    return add(ctx, customer, kind, value, country)


@route("GET", "/v1/customers/<cid>/tax_ids", params=_LIST_PARAMS)
def list_(ctx: Ctx, cid: str) -> dict[str, Any]:
    ctx.load("customer", cid)
    url = f"/v1/customers/{cid}/tax_ids"
    return paginate(ctx.acct, of_customer(ctx.acct, cid), ctx.params, url)


@route("GET", "/v1/customers/<cid>/tax_ids/<tid>")
def retrieve(ctx: Ctx, cid: str, tid: str) -> dict[str, Any]:
    return _load(ctx, cid, tid)


@route("DELETE", "/v1/customers/<cid>/tax_ids/<tid>")
def delete(ctx: Ctx, cid: str, tid: str) -> dict[str, Any]:
    tax_id = _load(ctx, cid, tid)
    ctx.emit("customer.tax_id.deleted", tax_id)
    ctx.acct.remove(tid)
    invoicing.refresh_drafts(ctx, cid)
    return {"id": tid, "object": "tax_id", "deleted": True}
