"""Discounts: coupons applied to a subscription, what they take off an invoice, and how
they end (a ``repeating`` coupon runs out at ``end``, a ``once`` coupon is used up).

Stripe's classic billing mode: a discount reduces the discountable (non-proration)
lines of an invoice, spread over them in proportion to their amounts; prorations carry
the discount inside their own amount instead (see ``prorations.py``).
"""

from __future__ import annotations

from typing import Any

from .api import Ctx
from .errors import InvalidRequest
from .events import changed
from .store import new_id, snapshot
from .wire import Params


def new_discount(coupon: dict[str, Any], sub: dict[str, Any], at: int) -> dict[str, Any]:
    from .cycle import add_interval

    end = None
    if coupon["duration"] == "repeating":
        end = add_interval(at, "month", coupon["duration_in_months"])
    return {
        "id": new_id("di"),
        "object": "discount",
        "checkout_session": None,
        "customer": sub["customer"],
        "customer_account": None,
        "end": end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"type": "coupon", "coupon": coupon},
        "start": at,
        "subscription": sub["id"],
        "subscription_item": None,
    }


def requested(ctx: Ctx, sub: dict[str, Any], at: int, p: Params | None = None) -> list[Any] | None:
    """The coupons (dicts) and kept discount ids asked for by ``discounts[]`` or the
    older ``coupon``; None when neither is given, [] when they are cleared. Checks only:
    :func:`apply` makes them."""
    p = p if p is not None else ctx.params
    if "coupon" not in p and "discounts" not in p:
        return None
    wanted: list[Any] = []
    if "coupon" in p:
        if p.raw("coupon") == "":
            return []
        wanted.append(_redeemable(ctx, p.str("coupon"), "coupon", sub, at))
    if "discounts" in p:
        if p.raw("discounts") == "":
            return []
        for entry in p.dicts("discounts"):
            entry.only("coupon", "discount", "promotion_code")
            if entry.str("promotion_code") is not None:
                raise InvalidRequest(
                    "The sandbox supports discounts[][coupon] and discounts[][discount] only.",
                    param=f"{entry.prefix}[promotion_code]",
                )
            kept = entry.str("discount")
            if kept is not None:
                if kept not in sub.get("discounts", []):
                    raise InvalidRequest(
                        f"No such discount: '{kept}'",
                        param=f"{entry.prefix}[discount]",
                        code="resource_missing",
                    )
                wanted.append(kept)
                continue
            coupon_id = entry.str("coupon", required=True)
            wanted.append(_redeemable(ctx, coupon_id, f"{entry.prefix}[coupon]", sub, at))
    return wanted


def _redeemable(
    ctx: Ctx, coupon_id: str | None, param: str, sub: dict[str, Any], at: int
) -> dict[str, Any]:
    coupon = ctx.load("coupon", coupon_id, param=param)
    expired = coupon["redeem_by"] is not None and at > coupon["redeem_by"]
    used_up = (
        coupon["max_redemptions"] is not None
        and coupon["times_redeemed"] >= coupon["max_redemptions"]
    )
    if expired or used_up or not coupon["valid"]:
        raise InvalidRequest(f"Coupon expired: {coupon['id']}", param=param)
    if coupon["currency"] and coupon["currency"] != sub["currency"]:
        raise InvalidRequest(
            f"The coupon {coupon['id']} has a currency of {coupon['currency']}, which does "
            f"not match the subscription's currency of {sub['currency']}.",
            param=param,
        )
    return coupon


def apply(ctx: Ctx, sub: dict[str, Any], wanted: list[Any] | None, at: int) -> None:
    """Set the subscription's discounts to what :func:`requested` found, if anything: new
    ones are created (``customer.discount.created``), dropped ones deleted."""
    if wanted is None:
        return
    ids: list[str] = []
    for entry in wanted:
        if isinstance(entry, str):
            ids.append(entry)
            continue
        discount = new_discount(entry, sub, at)
        entry["times_redeemed"] += 1
        if entry["max_redemptions"] and entry["times_redeemed"] >= entry["max_redemptions"]:
            entry["valid"] = False
        ctx.acct.put(discount)
        ctx.emit("customer.discount.created", discount, created=at)
        if discount["end"] is not None:
            clock, seq = sub.get("test_clock"), ctx.state.seq
            ctx.acct.schedule(clock, discount["end"], "discount_end", discount["id"], seq)
        ids.append(discount["id"])
    for old_id in sub.get("discounts", []):
        old = ctx.acct.get(old_id, "discount")
        if old is not None and old_id not in ids:
            ctx.emit("customer.discount.deleted", old, created=at)
    sub["discounts"] = ids


def resulting(
    ctx: Ctx, sub: dict[str, Any], wanted: list[Any] | None, at: int, moment: int | None = None
) -> list[dict[str, Any]]:
    """The discounts the subscription has once :func:`requested`'s are applied at ``at``,
    still running at ``moment`` (default ``at``); made up without storing anything:
    prorations are worked out with them, and ``create_preview`` shows them."""
    moment = at if moment is None else moment
    if wanted is None:
        return active(ctx, sub, moment)
    made = [
        ctx.acct.get(entry, "discount") if isinstance(entry, str) else new_discount(entry, sub, at)
        for entry in wanted
    ]
    return [d for d in made if d is not None and still_running(d, moment)]


def active(ctx: Ctx, sub: dict[str, Any], at: int) -> list[dict[str, Any]]:
    found = []
    for di_id in sub.get("discounts", []):
        discount = ctx.acct.get(di_id, "discount")
        if discount is not None and still_running(discount, at):
            found.append(discount)
    return found


def still_running(discount: dict[str, Any], at: int) -> bool:
    return discount["end"] is None or at < discount["end"]


def amount_off(coupon: dict[str, Any], base: int) -> int:
    if base <= 0:
        return 0
    if coupon.get("percent_off") is not None:
        return min(base, round(base * coupon["percent_off"] / 100))
    return min(base, coupon.get("amount_off") or 0)


def net_of(discounts: list[dict[str, Any]], amount: float, share_of_items: float) -> float:
    """What one subscription item costs after the discounts, for its prorations: an
    amount off is split evenly over the items, as Stripe's classic mode does."""
    for discount in discounts:
        coupon = discount["source"]["coupon"]
        if coupon.get("percent_off") is not None:
            amount -= amount * coupon["percent_off"] / 100
        else:
            amount -= min(amount, (coupon.get("amount_off") or 0) * share_of_items)
    return amount


def allocate(discounts: list[dict[str, Any]], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply ``discounts`` in turn to the discountable lines: fills each line's
    ``discount_amounts`` and returns the invoice's ``total_discount_amounts``."""
    eligible = [line for line in lines if line["discountable"] and line["amount"] > 0]
    remaining = {line["id"]: line["amount"] for line in eligible}
    totals = []
    for discount in discounts:
        base = sum(remaining.values())
        off = amount_off(discount["source"]["coupon"], base)
        totals.append({"amount": off, "discount": discount["id"]})
        left = off
        for index, line in enumerate(eligible):
            last = index == len(eligible) - 1
            part = left if last else off * remaining[line["id"]] // base if base else 0
            part = min(part, remaining[line["id"]], left)
            remaining[line["id"]] -= part
            left -= part
            line["discount_amounts"].append({"amount": part, "discount": discount["id"]})
    return totals


def use_up(ctx: Ctx, sub: dict[str, Any], discounts: list[dict[str, Any]], at: int) -> None:
    """A ``once`` coupon is spent by the first invoice it discounted."""
    for discount in discounts:
        if discount["source"]["coupon"]["duration"] == "once" and discount["id"] in sub.get(
            "discounts", []
        ):
            sub["discounts"] = [d for d in sub["discounts"] if d != discount["id"]]
            ctx.emit("customer.discount.deleted", discount, created=at)


def end(ctx: Ctx, discount: dict[str, Any], due: int) -> None:
    """A ``repeating`` discount ran its months: Stripe removes it from the subscription."""
    sub = ctx.acct.get(discount.get("subscription"), "subscription")
    if sub is None or discount["id"] not in sub.get("discounts", []) or discount["end"] != due:
        return
    if sub["status"] in ("canceled", "incomplete_expired"):
        return
    before = snapshot(sub)
    sub["discounts"] = [d for d in sub["discounts"] if d != discount["id"]]
    ctx.emit("customer.discount.deleted", discount, created=due)
    ctx.emit("customer.subscription.updated", sub, previous=changed(before, sub), created=due)
