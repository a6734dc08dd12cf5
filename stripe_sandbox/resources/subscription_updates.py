"""``POST /v1/subscriptions/<id>``: plan switches with simple proration, pauses,
discounts, cancel at period end, payment method and metadata changes; and resume."""

from __future__ import annotations

from typing import Any

from .. import cycle, invoicing
from ..api import Ctx, route
from ..errors import InvalidRequest, StateConflict
from ..store import snapshot
from .subscriptions import ENDED, PRORATION, _attached_pm, _discounts, _item, _pause, _plan


def _prorate(
    ctx: Ctx, sub: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None, at: int
) -> list[dict[str, Any]]:
    """Credit the unused time of ``old`` and charge the rest of the period for ``new``."""
    ref = old or new
    assert ref is not None
    start, end = ref["current_period_start"], ref["current_period_end"]
    if end <= start or at >= end:
        return []
    share = (end - at) / (end - start)
    lines = []
    if old is not None:
        amount = round(old["price"]["unit_amount"] * old["quantity"] * share)
        lines.append(
            {
                "item": old["id"],
                "price": old["price"]["id"],
                "amount": -amount,
                "start": at,
                "end": end,
                "description": "Unused time on "
                + invoicing.price_description(ctx, old["price"], old["quantity"]),
            }
        )
    if new is not None:
        amount = round(new["price"]["unit_amount"] * new["quantity"] * share)
        lines.append(
            {
                "item": new["id"],
                "price": new["price"]["id"],
                "amount": amount,
                "start": at,
                "end": end,
                "description": "Remaining time on "
                + invoicing.price_description(ctx, new["price"], new["quantity"]),
            }
        )
    return lines


def _apply_items(ctx: Ctx, sub: dict[str, Any], at: int) -> list[dict[str, Any]]:
    """Apply ``items[...]``; returns the proration lines the change creates."""
    current = {i["id"]: i for i in sub["items"]["data"]}
    lines: list[dict[str, Any]] = []
    for entry in ctx.params.dicts("items"):
        item_id = entry.str("id")
        if item_id is None:
            added = _item(ctx, sub["id"], entry, at)
            ref = next(iter(current.values()))
            added.update(
                current_period_start=ref["current_period_start"],
                current_period_end=ref["current_period_end"],
            )
            current[added["id"]] = added
            lines += _prorate(ctx, sub, None, added, at)
            continue
        old = current.get(item_id)
        if old is None:
            raise InvalidRequest(
                f"No such subscription item: '{item_id}'",
                param=f"{entry.prefix}[id]",
                code="resource_missing",
            )
        if entry.bool("deleted", False):
            del current[item_id]
            lines += _prorate(ctx, sub, old, None, at)
            continue
        new = dict(old)
        if "price" in entry:
            price = ctx.load("price", entry.str("price"), param=f"{entry.prefix}[price]")
            if price["currency"] != sub["currency"]:
                raise InvalidRequest(
                    "All prices on a subscription must have the same currency.",
                    param=f"{entry.prefix}[price]",
                )
            new.update(price=price, plan=_plan(price))
        if "quantity" in entry:
            new["quantity"] = entry.int("quantity", minimum=1)
        metadata = entry.metadata(old["metadata"])
        if metadata is not None:
            new["metadata"] = metadata
        if (new["price"]["id"], new["quantity"]) != (old["price"]["id"], old["quantity"]):
            lines += _prorate(ctx, sub, old, None, at) + _prorate(ctx, sub, None, new, at)
        current[item_id] = new
    if not current:
        raise InvalidRequest("A subscription must have at least one item.", param="items")
    sub["items"] = {**sub["items"], "data": list(current.values()), "total_count": len(current)}
    return lines


@route(
    "POST",
    "/v1/subscriptions/<oid>",
    params=(
        "items",
        "default_payment_method",
        "description",
        "metadata",
        "cancel_at",
        "cancel_at_period_end",
        "cancellation_details",
        "coupon",
        "discounts",
        "pause_collection",
        "payment_behavior",
        "proration_behavior",
        "trial_end",
        "off_session",
    ),
)
def update(ctx: Ctx, oid: str) -> dict[str, Any]:
    sub = ctx.load("subscription", oid)
    p = ctx.params
    at = ctx.now(sub["test_clock"])
    if sub["status"] in ENDED and set(p.keys()) - {"metadata", "cancellation_details", "expand"}:
        raise StateConflict(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    before = snapshot(sub)
    proration = p.str("proration_behavior", "create_prorations", choices=PRORATION)
    lines = _apply_items(ctx, sub, at) if "items" in p else []
    if "default_payment_method" in p:
        sub["default_payment_method"] = _attached_pm(ctx, sub["customer"], "default_payment_method")
    for field in ("description",):
        if field in p:
            sub[field] = p.nullable_str(field)
    metadata = p.metadata(sub["metadata"])
    if metadata is not None:
        sub["metadata"] = metadata
    if "cancel_at_period_end" in p:
        sub["cancel_at_period_end"] = bool(p.bool("cancel_at_period_end"))
        sub["canceled_at"] = at if sub["cancel_at_period_end"] else None
    if "cancel_at" in p:
        sub["cancel_at"] = p.int("cancel_at")
        if sub["cancel_at"]:
            cycle.schedule(ctx, sub, sub["cancel_at"], "cancel_at")
    details = p.dict("cancellation_details")
    if details is not None:
        sub["cancellation_details"] = {
            **sub["cancellation_details"],
            "comment": details.str("comment"),
            "feedback": details.str("feedback"),
        }
    discounts = _discounts(ctx, sub, at)
    if discounts is not None:
        for old_id in sub["discounts"]:
            old = ctx.acct.get(old_id, "discount")
            if old is not None:
                ctx.emit("customer.discount.deleted", old, created=at)
        sub["discounts"] = discounts
    pause = _pause(ctx, sub, at)
    if pause is not False:
        sub["pause_collection"] = pause
    if p.raw("trial_end") == "now" and sub["status"] == "trialing":
        sub.update(trial_end=at, status="active")
        cycle.restart_period(ctx, sub, before, at)
        return sub
    if lines and proration == "always_invoice":
        cycle.update_sub(ctx, sub, before, at)
        cycle.bill_now(ctx, sub, at, extra_lines=lines)
        return sub
    if lines and proration == "create_prorations":
        ctx.acct.priv(sub["id"]).setdefault("pending_lines", []).extend(lines)
    cycle.update_sub(ctx, sub, before, at)
    return sub


@route(
    "POST", "/v1/subscriptions/<oid>/resume", params=("billing_cycle_anchor", "proration_behavior")
)
def resume(ctx: Ctx, oid: str) -> dict[str, Any]:
    """Resume a ``paused`` subscription (a trial that ended without a payment method)."""
    sub = ctx.load("subscription", oid)
    if sub["status"] != "paused":
        raise StateConflict(
            "Only a subscription with status paused can be resumed.", param="subscription"
        )
    at = ctx.now(sub["test_clock"])
    before = snapshot(sub)
    sub["status"] = "active"
    cycle.restart_period(ctx, sub, before, at, then="customer.subscription.resumed")
    return sub
