"""Subscriptions and their items: ``/v1/subscriptions``, ``/v1/subscription_items``."""

from __future__ import annotations

from typing import Any

from .. import billing, cycle, discounting, prorations
from ..api import LIST_PARAMS, Ctx, route
from ..errors import CardError, InvalidRequest, StateConflict
from ..render import paginate
from ..store import new_id

ENDED = ("canceled", "incomplete_expired")
PAYMENT_BEHAVIORS = (
    "allow_incomplete",
    "default_incomplete",
    "error_if_incomplete",
    "pending_if_incomplete",
)
PRORATION = ("create_prorations", "none", "always_invoice")
FEEDBACK = (
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
)

end_subscription = cycle.end_subscription


def _item(ctx: Ctx, sub_id: str, p: Any, at: int) -> dict[str, Any]:
    price_id = p.str("price", required=True)
    price = ctx.load("price", price_id, param=f"{p.prefix}[price]")
    if not price.get("recurring"):
        raise InvalidRequest(
            f"The price specified ({price_id}) is not recurring.", param=f"{p.prefix}[price]"
        )
    return {
        "id": new_id("si", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": at,
        "current_period_end": at,
        "current_period_start": at,
        "discounts": [],
        "metadata": p.metadata() or {},
        "plan": _plan(price),
        "price": price,
        "quantity": p.int("quantity", 1, minimum=1),
        "subscription": sub_id,
        "tax_rates": [],
    }


def _plan(price: dict[str, Any]) -> dict[str, Any]:
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": str(price["unit_amount"]),
        "billing_scheme": "per_unit",
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": price["metadata"],
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": "licensed",
    }


def _attached_pm(ctx: Ctx, customer_id: str, param: str) -> str | None:
    pm_id = ctx.params.nullable_str(param)
    if pm_id is None:
        return None
    pm = ctx.load("payment_method", pm_id, label="PaymentMethod", param=param)
    if pm["customer"] != customer_id:
        raise InvalidRequest(
            f"The customer does not have a payment method with the ID {pm_id}. The payment "
            "method must be attached to the customer.",
            param=param,
            code="resource_missing",
        )
    return pm_id


def _pause(ctx: Ctx, sub: dict[str, Any], at: int) -> dict[str, Any] | bool | None:
    """The new ``pause_collection`` (None clears it), or False when not given."""
    if "pause_collection" not in ctx.params:
        return False
    if ctx.params.raw("pause_collection") == "":
        return None
    pause = ctx.params.dict("pause_collection")
    assert pause is not None
    pause.only("behavior", "resumes_at")
    behavior = pause.str(
        "behavior", required=True, choices=("keep_as_draft", "mark_uncollectible", "void")
    )
    resumes_at = pause.int("resumes_at")
    if resumes_at is not None and resumes_at <= at:
        raise InvalidRequest(
            "pause_collection[resumes_at] must be in the future.",
            param="pause_collection[resumes_at]",
        )
    if resumes_at is not None:
        cycle.schedule(ctx, sub, resumes_at, "resume_collection")
    return {"behavior": behavior, "resumes_at": resumes_at}


@route(
    "POST",
    "/v1/subscriptions",
    params=(
        "customer",
        "items",
        "default_payment_method",
        "description",
        "metadata",
        "cancel_at",
        "cancel_at_period_end",
        "coupon",
        "discounts",
        "pause_collection",
        "payment_behavior",
        "trial_end",
        "trial_period_days",
        "trial_from_plan",
        "trial_settings",
        "proration_behavior",
        "collection_method",
        "off_session",
    ),
)
def create(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    customer = ctx.load("customer", p.str("customer", required=True), param="customer")
    at = ctx.now(customer["test_clock"])
    sub_id = new_id("sub")
    items = [_item(ctx, sub_id, entry, at) for entry in p.dicts("items")]
    if not items:
        raise InvalidRequest(
            "Missing required param: items.", param="items", code="parameter_missing"
        )
    currencies = {i["price"]["currency"] for i in items}
    if len(currencies) > 1:
        raise InvalidRequest(
            "All prices on a subscription must have the same currency.", param="items"
        )
    payment_behavior = p.str("payment_behavior", "allow_incomplete", choices=PAYMENT_BEHAVIORS)
    trial_end = _trial_end(ctx, at, items)
    sub = {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": trial_end or at,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic", "flexible": None},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": p.int("cancel_at"),
        "cancel_at_period_end": bool(p.bool("cancel_at_period_end", False)),
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": at,
        "currency": currencies.pop(),
        "customer": customer["id"],
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": _attached_pm(ctx, customer["id"], "default_payment_method"),
        "default_source": None,
        "default_tax_rates": [],
        "description": p.str("description"),
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "total_count": len(items),
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": p.metadata() or {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": at,
        "status": "trialing" if trial_end else "incomplete",
        "test_clock": customer["test_clock"],
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": _missing_pm_behavior(ctx)}},
        "trial_start": at if trial_end else None,
    }
    if trial_end:
        sub["items"]["data"] = [
            {**i, "current_period_start": at, "current_period_end": trial_end} for i in items
        ]
    else:
        cycle.new_period(sub, at)
    # Everything that can refuse the request is checked before anything is stored.
    wanted = discounting.requested(ctx, sub, at)
    pause = _pause(ctx, sub, at)
    if pause is not False:
        sub["pause_collection"] = pause
    ctx.acct.put(sub)
    discounting.apply(ctx, sub, wanted, at)
    if sub["cancel_at"]:
        cycle.schedule(ctx, sub, sub["cancel_at"], "cancel_at")
    inv = cycle.start(ctx, sub, at, payment_behavior)
    if (
        sub["status"] == "incomplete"
        and payment_behavior == "error_if_incomplete"
        and inv["status"] == "open"
        and inv["attempted"]
    ):
        pi = ctx.acct.get(billing.payment_of(ctx, inv)["payment"]["payment_intent"])
        error = pi["last_payment_error"] or {}
        raise CardError(
            error.get("message", "Your card was declined."),
            code=error.get("code", "card_declined"),
            decline_code=error.get("decline_code"),
            advice_code=error.get("advice_code"),
        )
    return sub


def _trial_end(ctx: Ctx, at: int, items: list[dict[str, Any]]) -> int | None:
    p = ctx.params
    if p.raw("trial_end") == "now":
        return None
    trial_end = p.int("trial_end")
    days = p.int("trial_period_days", minimum=0)
    if trial_end is not None:
        if trial_end <= at:
            raise InvalidRequest("Invalid timestamp: must be in the future.", param="trial_end")
        return trial_end
    if days:
        return at + days * cycle.DAY
    price_days = items[0]["price"]["recurring"].get("trial_period_days")
    if price_days and p.bool("trial_from_plan", False):
        return at + price_days * cycle.DAY
    return None


def _missing_pm_behavior(ctx: Ctx) -> str:
    settings = ctx.params.dict("trial_settings")
    end = settings.dict("end_behavior") if settings else None
    if end is None:
        return "create_invoice"
    return (
        end.str(
            "missing_payment_method",
            "create_invoice",
            choices=("cancel", "create_invoice", "pause"),
        )
        or "create_invoice"
    )


@route("GET", "/v1/subscriptions/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("subscription", oid)


@route(
    "GET", "/v1/subscriptions", params=("customer", "status", "price", "test_clock", *LIST_PARAMS)
)
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    status = p.str("status")
    if status == "all":
        status_filter: Any = None
    elif status:
        status_filter = status
    else:
        status_filter = lambda s: s["status"] not in ENDED  # noqa: E731
    return paginate(
        ctx.acct,
        ctx.acct.all("subscription"),
        p,
        "/v1/subscriptions",
        filters={
            "customer": p.str("customer"),
            "status": status_filter,
            "test_clock": p.str("test_clock"),
            "price": (lambda s: any(i["price"]["id"] == p.str("price") for i in s["items"]["data"]))
            if p.str("price")
            else None,
        },
    )


def cancellation_details(ctx: Ctx) -> dict[str, Any] | None:
    """``cancellation_details[comment|feedback]`` as given (an empty value clears one)."""
    details = ctx.params.dict("cancellation_details")
    if details is None:
        return None
    details.only("comment", "feedback")
    given: dict[str, Any] = {}
    if "comment" in details:
        given["comment"] = details.nullable_str("comment")
    if "feedback" in details:
        feedback = details.nullable_str("feedback")
        if feedback is not None and feedback not in FEEDBACK:
            raise InvalidRequest(
                f"Invalid cancellation_details[feedback]: must be one of {', '.join(FEEDBACK)}",
                param="cancellation_details[feedback]",
            )
        given["feedback"] = feedback
    return given


@route(
    "DELETE", "/v1/subscriptions/<oid>", params=("invoice_now", "prorate", "cancellation_details")
)
def cancel(ctx: Ctx, oid: str) -> dict[str, Any]:
    """Cancel now. ``prorate`` credits the unused time; ``invoice_now`` bills what is
    pending at once; with neither, pending prorations are dropped, as on Stripe."""
    sub = ctx.load("subscription", oid)
    if sub["status"] in ENDED:
        raise StateConflict(
            f"A canceled subscription can only update its cancellation_"
            f"details and metadata. ({oid})",
            code="resource_missing",
        )
    at = ctx.now(sub["test_clock"])
    details = cancellation_details(ctx)
    prorate = ctx.params.bool("prorate", False)
    invoice_now = ctx.params.bool("invoice_now", False)
    if prorate:
        discounts = discounting.active(ctx, sub, at)
        credits = [
            prorations.for_item(ctx, sub, item, at, discounts, credit=True)
            for item in sub["items"]["data"]
        ]
        prorations.record(ctx, sub, [c for c in credits if c], at)
    if invoice_now and prorations.pending(ctx, sub["id"]):
        cycle.bill_now(ctx, sub, at)
    elif not invoice_now and not prorate:
        prorations.drop_pending(ctx, sub, at)
    sub["cancellation_details"] = {**sub["cancellation_details"], **(details or {})}
    sub["canceled_at"] = at
    end_subscription(ctx.state, ctx.acct, sub, reason="cancellation_requested", at=at)
    return sub
