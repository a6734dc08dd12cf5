"""Prorations as Stripe's classic billing mode makes them: a change mid-period credits
the unused time of what the item cost and charges the rest of the period at its new
price, to the second. Each is an ``invoiceitem`` with ``proration: true`` (not
discountable: any discount of the subscription is already inside its amount), pending
until an invoice picks it up: the next renewal, or one made at once
(``always_invoice``, a final ``invoice_now``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import discounting
from .api import Ctx
from .store import new_id


def _description(ctx: Ctx, what: str, item: dict[str, Any], at: int) -> str:
    product = ctx.acct.get(item["price"]["product"], "product")
    name = product["name"] if product else item["price"]["product"]
    quantity = f"{item['quantity']} × " if item["quantity"] != 1 else ""  # noqa: RUF001
    day = datetime.fromtimestamp(at, UTC).strftime("%d %b %Y")
    return f"{what} time on {quantity}{name} after {day}"


def _credited(ctx: Ctx, sub: dict[str, Any], item: dict[str, Any]) -> dict[str, Any] | None:
    """The invoice line that billed this item at this price, which a credit refunds."""
    for inv in ctx.acct.all("invoice"):
        if inv.get("subscription") != sub["id"] or inv["status"] in ("draft", "void"):
            continue
        for line in inv["lines"]["data"]:
            details = line["parent"]["subscription_item_details"] or {}
            price = (line["pricing"].get("price_details") or {}).get("price")
            if (
                details.get("subscription_item") == item["id"]
                and not details.get("proration")
                and price == item["price"]["id"]
            ):
                return {"invoice": inv["id"], "invoice_line_items": [line["id"]]}
    return None


def for_item(
    ctx: Ctx,
    sub: dict[str, Any],
    item: dict[str, Any],
    at: int,
    discounts: list[dict[str, Any]],
    *,
    credit: bool,
) -> dict[str, Any] | None:
    """The credit (``credit=True``) or charge for ``item`` from ``at`` to its period's end;
    None when nothing is left of the period."""
    start, end = item["current_period_start"], item["current_period_end"]
    if end <= start or at >= end or sub["status"] == "trialing":
        return None  # nothing was charged for a trial, so nothing is prorated
    share = (end - max(at, start)) / (end - start)
    items = max(1, len(sub["items"]["data"]))
    full = item["price"]["unit_amount"] * item["quantity"]
    amount = round(discounting.net_of(discounts, full, 1 / items) * share)
    return {
        "amount": -amount if credit else amount,
        "description": _description(ctx, "Unused" if credit else "Remaining", item, at),
        "item": item,
        "start": max(at, start),
        "end": end,
        "credit": credit,
        "credited_items": _credited(ctx, sub, item) if credit else None,
    }


def invoice_item(sub: dict[str, Any], spec: dict[str, Any], at: int) -> dict[str, Any]:
    item, price = spec["item"], spec["item"]["price"]
    return {
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": spec["amount"],
        "currency": sub["currency"],
        "customer": sub["customer"],
        "customer_account": None,
        "date": at,
        "description": spec["description"],
        "discountable": False,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "net_amount": spec["amount"],
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub["id"], "subscription_item": item["id"]},
        },
        "period": {"start": spec["start"], "end": spec["end"]},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": str(price["unit_amount"]),
        },
        "proration": True,
        "quantity": item["quantity"],
        "quantity_decimal": str(item["quantity"]),
        "tax_rates": [],
        "test_clock": sub.get("test_clock"),
    }


def record(
    ctx: Ctx, sub: dict[str, Any], specs: list[dict[str, Any]], at: int
) -> list[dict[str, Any]]:
    """Store the prorations as pending invoice items (``invoiceitem.created``)."""
    made = []
    for spec in specs:
        ii = invoice_item(sub, spec, at)
        ctx.acct.put(ii, private={"credited_items": spec["credited_items"]})
        ctx.emit("invoiceitem.created", ii, created=at)
        made.append(ii)
    return made


def subscription_of(ii: dict[str, Any]) -> str | None:
    return ((ii.get("parent") or {}).get("subscription_details") or {}).get("subscription")


def pending(ctx: Ctx, sub_id: str) -> list[dict[str, Any]]:
    """The subscription's invoice items no invoice has taken yet, oldest first."""
    return [
        ii
        for ii in reversed(ctx.acct.all("invoiceitem"))
        if ii["invoice"] is None and subscription_of(ii) == sub_id
    ]


def credited_items(ctx: Ctx, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {ii["id"]: (ctx.acct.private.get(ii["id"]) or {}).get("credited_items") for ii in items}


def drop_pending(ctx: Ctx, sub: dict[str, Any], at: int) -> None:
    """An immediate cancellation without ``invoice_now`` or ``prorate`` removes them."""
    for ii in pending(ctx, sub["id"]):
        if ii["proration"]:
            ctx.acct.remove(ii["id"])
            ctx.emit("invoiceitem.deleted", ii, created=at)
