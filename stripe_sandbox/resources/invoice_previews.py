"""``POST /v1/invoices/create_preview``: the invoice a subscription would get next, with
the changes of ``subscription_details`` (a plan switch's prorations, a cancellation at
the period's end) or other ``discounts`` applied to a copy. Nothing is stored or
emitted; the preview's id (``upcoming_in_…``) names no object.
"""

from __future__ import annotations

from typing import Any

from .. import cycle, discounting, invoicing, prorations
from ..api import Ctx, route
from ..errors import InvalidRequest, StripeError
from ..store import new_id, snapshot
from .subscription_updates import apply_items, proration_date
from .subscriptions import PRORATION

DETAILS = ("items", "proration_behavior", "proration_date", "cancel_at_period_end")
NO_INVOICE = ("canceled", "incomplete_expired", "paused")


class NoUpcomingInvoice(StripeError):
    """Nothing will be invoiced: the subscription ends and nothing is pending."""

    status = 404

    def __init__(self, customer_id: str):
        super().__init__(
            f"No upcoming invoices for customer: {customer_id}", code="invoice_upcoming_none"
        )


@route(
    "POST",
    "/v1/invoices/create_preview",
    params=("customer", "subscription", "subscription_details", "discounts"),
)
def create_preview(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    customer_id = p.str("customer")
    if customer_id is not None:
        ctx.load("customer", customer_id, param="customer")
    sub_id = p.str("subscription")
    if sub_id is None:
        raise InvalidRequest(
            "The sandbox previews the invoices of existing subscriptions: pass `subscription`.",
            param="subscription",
        )
    real = ctx.load("subscription", sub_id, param="subscription")
    if customer_id is not None and customer_id != real["customer"]:
        raise InvalidRequest(
            f"The subscription {sub_id} does not belong to the customer {customer_id}.",
            param="subscription",
        )
    if real["status"] in NO_INVOICE:
        raise NoUpcomingInvoice(real["customer"])
    details = p.dict("subscription_details")
    if details is not None:
        details.only(*DETAILS)
    sub = snapshot(real)  # everything below works on this copy
    at = ctx.now(sub["test_clock"])
    proration = (
        details.str("proration_behavior", "create_prorations", choices=PRORATION)
        if details is not None
        else "create_prorations"
    )
    prorate_at = proration_date(details, sub, at)
    wanted = discounting.requested(ctx, sub, at)

    def discounts_at(moment: int) -> list[dict[str, Any]]:
        return discounting.resulting(ctx, sub, wanted, at, moment)

    specs, interval_changed = [], False
    if details is not None and "items" in details:
        specs, interval_changed = apply_items(
            ctx, details, sub, prorate_at, discounts_at(prorate_at)
        )
    if proration == "none":
        specs = []
    new_items = [prorations.invoice_item(sub, spec, at) for spec in specs]
    pending = [snapshot(ii) for ii in prorations.pending(ctx, sub["id"])]
    credited = prorations.credited_items(ctx, pending)
    credited.update({ii["id"]: s["credited_items"] for ii, s in zip(new_items, specs, strict=True)})
    items = pending + new_items
    if interval_changed or (new_items and proration == "always_invoice"):
        # What the update would invoice at once.
        if interval_changed:
            cycle.new_period(sub, at)
        created, started, charge_items = at, at, interval_changed
        next_attempt = at
    else:
        created, started = cycle.period_end(sub), cycle.period_start(sub)
        canceling = sub["cancel_at_period_end"]
        if details is not None and "cancel_at_period_end" in details:
            canceling = bool(details.bool("cancel_at_period_end"))
        elif sub["cancel_at"] is not None and sub["cancel_at"] <= created:
            canceling = True
        if canceling and not items:
            raise NoUpcomingInvoice(sub["customer"])
        charge_items = not canceling
        if charge_items:
            cycle.new_period(sub, created)
        next_attempt = created + cycle.DRAFT_FINALIZES_AFTER
    inv = invoicing.compose(
        ctx,
        sub,
        inv_id=new_id("upcoming_in"),
        billing_reason="upcoming",
        at=created,
        period_start=started,
        period_end=created,
        charge_items=charge_items,
        items=items,
        discounts=discounts_at(created),
        credited=credited,
        line_prefix="il_tmp",
    )
    balance = inv["starting_balance"]
    due = inv["total"] + balance
    inv.update(
        amount_due=max(0, due),
        amount_remaining=max(0, due),
        ending_balance=min(0, due),
        auto_advance=False,
        automatically_finalizes_at=None,
        next_payment_attempt=next_attempt,
        webhooks_delivered_at=None,
    )
    return inv
