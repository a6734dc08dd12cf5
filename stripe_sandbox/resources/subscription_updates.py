"""``POST /v1/subscriptions/<id>``: plan switches with Stripe's prorations, discounts,
pauses, cancellation at the period's end (and back), trials, payment method and
metadata changes; and ``/resume``."""

from __future__ import annotations

from typing import Any

from .. import cycle, discounting, prorations
from ..api import Ctx, route
from ..errors import InvalidRequest, StateConflict, StripeError
from ..store import snapshot
from ..wire import Params
from .subscriptions import (
    ENDED,
    PRORATION,
    _attached_pm,
    _item,
    _pause,
    _plan,
    cancellation_details,
)

ITEM_PARAMS = ("id", "price", "quantity", "deleted", "metadata")


def apply_items(
    ctx: Ctx, p: Params, sub: dict[str, Any], at: int, discounts: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], bool]:
    """Apply ``items[...]`` of ``p`` to ``sub`` (the real one, or a preview's copy);
    returns the prorations the change makes as of ``at`` and whether an item's billing
    interval changed (which restarts the period and bills it now)."""
    current = {i["id"]: i for i in sub["items"]["data"]}
    specs: list[dict[str, Any]] = []
    interval_changed = False

    def prorate(item: dict[str, Any], *, credit: bool) -> None:
        spec = prorations.for_item(ctx, sub, item, at, discounts, credit=credit)
        if spec is not None:
            specs.append(spec)

    for entry in p.dicts("items"):
        entry.only(*ITEM_PARAMS)
        item_id = entry.str("id")
        if item_id is None:
            added = _item(ctx, sub["id"], entry, at)
            ref = next(iter(current.values()))
            added.update(
                current_period_start=ref["current_period_start"],
                current_period_end=ref["current_period_end"],
            )
            current[added["id"]] = added
            prorate(added, credit=False)
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
            prorate(old, credit=True)
            continue
        new = dict(old)
        if "price" in entry:
            price = ctx.load("price", entry.str("price"), param=f"{entry.prefix}[price]")
            if price["currency"] != sub["currency"]:
                raise InvalidRequest(
                    "All prices on a subscription must have the same currency.",
                    param=f"{entry.prefix}[price]",
                )
            if not price.get("recurring"):
                raise InvalidRequest(
                    f"The price specified ({price['id']}) is not recurring.",
                    param=f"{entry.prefix}[price]",
                )
            new.update(price=price, plan=_plan(price))
            was, now = old["price"]["recurring"], price["recurring"]
            if (was["interval"], was["interval_count"]) != (now["interval"], now["interval_count"]):
                interval_changed = True
        if "quantity" in entry:
            new["quantity"] = entry.int("quantity", minimum=1)
        metadata = entry.metadata(old["metadata"])
        if metadata is not None:
            new["metadata"] = metadata
        if (new["price"]["id"], new["quantity"]) != (old["price"]["id"], old["quantity"]):
            prorate(old, credit=True)
            prorate(new, credit=False)
        current[item_id] = new
    if not current:
        raise InvalidRequest("A subscription must have at least one item.", param="items")
    sub["items"] = {**sub["items"], "data": list(current.values()), "total_count": len(current)}
    if interval_changed:  # the new period is billed in full: only the credits remain
        specs = [s for s in specs if s["credit"]]
    return specs, interval_changed


def proration_date(p: Params | None, sub: dict[str, Any], at: int) -> int:
    """``proration_date``: prorate as of that moment of the current period (a preview's
    moment, so that the update bills exactly what was shown)."""
    when = p.int("proration_date") if p is not None else None
    if when is None:
        return at
    if not cycle.period_start(sub) <= when <= cycle.period_end(sub):
        raise InvalidRequest(
            "proration_date must be within the subscription's current billing period.",
            param=f"{p.prefix}[proration_date]" if p is not None and p.prefix else "proration_date",
        )
    return when


def _cancellation(ctx: Ctx, sub: dict[str, Any], at: int) -> None:
    """``cancel_at_period_end`` / ``cancel_at`` (asked for now: ``canceled_at``,
    ``cancellation_details.reason``), and the customer's ``cancellation_details``."""
    p = ctx.params
    asked: bool | None = None
    if "cancel_at_period_end" in p and "cancel_at" in p and p.bool("cancel_at_period_end"):
        raise InvalidRequest(
            "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
            param="cancel_at",
        )
    if "cancel_at_period_end" in p:
        asked = bool(p.bool("cancel_at_period_end"))
        sub["cancel_at_period_end"] = asked
        sub["cancel_at"] = cycle.period_end(sub) if asked else None
    if "cancel_at" in p:
        raw = p.raw("cancel_at")
        ends = [i["current_period_end"] for i in sub["items"]["data"]]
        if raw == "":
            when = None
        elif raw in ("min_period_end", "max_period_end"):
            when = min(ends) if raw == "min_period_end" else max(ends)
        else:
            when = p.int("cancel_at")
            if when is not None and when <= at:
                raise InvalidRequest("Invalid timestamp: must be in the future.", param="cancel_at")
        sub.update(cancel_at=when, cancel_at_period_end=False)
        asked = when is not None
        if when is not None:
            cycle.schedule(ctx, sub, when, "cancel_at")
    if asked:
        sub["canceled_at"] = at
        sub["cancellation_details"] = {
            **sub["cancellation_details"],
            "reason": "cancellation_requested",
        }
    elif asked is False:  # taken back: nothing of the request remains
        sub["canceled_at"] = None
        sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}
    details = cancellation_details(ctx)
    if details:
        sub["cancellation_details"] = {**sub["cancellation_details"], **details}


def _trial(ctx: Ctx, sub: dict[str, Any], at: int, proration: str) -> list[dict[str, Any]]:
    """``trial_end=<time>``: a trial extended, or a free period given to an active
    subscription (the unused paid time is credited unless ``proration_behavior=none``).
    Returns those credits."""
    trial_end = ctx.params.int("trial_end")
    assert trial_end is not None
    if trial_end <= at:
        raise InvalidRequest("Invalid timestamp: must be in the future.", param="trial_end")
    if sub["status"] not in ("trialing", "active", "past_due"):
        raise StateConflict(
            f"A subscription with status {sub['status']} cannot start a trial.",
            param="trial_end",
        )
    credits: list[dict[str, Any]] = []
    start = at
    if sub["status"] == "trialing":
        start = cycle.period_start(sub)
    else:
        if proration != "none":
            discounts = discounting.active(ctx, sub, at)
            for item in sub["items"]["data"]:
                spec = prorations.for_item(ctx, sub, item, at, discounts, credit=True)
                if spec is not None:
                    credits.append(spec)
        sub.update(status="trialing", trial_start=at)
    sub.update(trial_end=trial_end, billing_cycle_anchor=trial_end)
    sub["items"] = {
        **sub["items"],
        "data": [
            {**i, "current_period_start": start, "current_period_end": trial_end}
            for i in sub["items"]["data"]
        ],
    }
    if trial_end - cycle.TRIAL_WILL_END_BEFORE > at:
        cycle.schedule(ctx, sub, trial_end - cycle.TRIAL_WILL_END_BEFORE, "trial_will_end")
    cycle.schedule(ctx, sub, trial_end, "period_end")
    return credits


def _change(
    ctx: Ctx, sub: dict[str, Any], at: int, prorate_at: int, proration: str, wanted: Any
) -> tuple[list[dict[str, Any]], bool]:
    """Every change of the update to the subscription itself (checked as it goes, so
    the caller can undo them on an error); returns the prorations and whether the
    billing interval changed."""
    p = ctx.params
    specs: list[dict[str, Any]] = []
    interval_changed = False
    if "items" in p:
        discounts = discounting.resulting(ctx, sub, wanted, at, prorate_at)
        specs, interval_changed = apply_items(ctx, p, sub, prorate_at, discounts)
    if "default_payment_method" in p:
        sub["default_payment_method"] = _attached_pm(ctx, sub["customer"], "default_payment_method")
    if "description" in p:
        sub["description"] = p.nullable_str("description")
    metadata = p.metadata(sub["metadata"])
    if metadata is not None:
        sub["metadata"] = metadata
    _cancellation(ctx, sub, at)
    pause = _pause(ctx, sub, at)
    if pause is not False:
        sub["pause_collection"] = pause
    if "trial_end" in p and p.raw("trial_end") != "now":
        specs += _trial(ctx, sub, at, proration)
    return specs, interval_changed


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
        "proration_date",
        "trial_end",
        "off_session",
    ),
)
def update(ctx: Ctx, oid: str) -> dict[str, Any]:
    sub = ctx.load("subscription", oid)
    p = ctx.params
    at = ctx.now(sub["test_clock"])
    if sub["status"] in ENDED:
        if set(p.keys()) - {"metadata", "cancellation_details", "expand"}:
            raise StateConflict(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        before = snapshot(sub)
        details = cancellation_details(ctx) or {}
        metadata = p.metadata(sub["metadata"])
        if metadata is not None:
            sub["metadata"] = metadata
        sub["cancellation_details"] = {**sub["cancellation_details"], **details}
        cycle.update_sub(ctx, sub, before, at)
        return sub
    before = snapshot(sub)
    proration = p.str("proration_behavior", "create_prorations", choices=PRORATION)
    prorate_at = proration_date(p, sub, at)
    wanted = discounting.requested(ctx, sub, at)
    try:
        specs, interval_changed = _change(ctx, sub, at, prorate_at, proration, wanted)
    except StripeError:
        # Stripe applies all of an update or none of it.
        sub.clear()
        sub.update(before)
        raise
    # Prorations were worked out with the discounts this same call sets, as Stripe does.
    discounting.apply(ctx, sub, wanted, at)
    if p.raw("trial_end") == "now" and sub["status"] == "trialing":
        sub.update(trial_end=at, status="active")
        cycle.restart_period(ctx, sub, before, at)
        return sub
    if proration == "none":
        specs = []
    prorations.record(ctx, sub, specs, at)
    if interval_changed:
        # A new interval restarts the billing period now and bills it at once.
        sub["billing_cycle_anchor"] = at
        cycle.new_period(sub, at)
        cycle.schedule(ctx, sub, cycle.period_end(sub), "period_end")
        cycle.bill_now(ctx, sub, at, charge_items=True, before=before)
    elif specs and proration == "always_invoice":
        cycle.bill_now(ctx, sub, at, before=before)
    else:
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
