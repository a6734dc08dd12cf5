"""Refunds: ``/v1/refunds``. A refund of a succeeded charge, whole or in part, succeeds at
once (cards), raises the charge's ``amount_refunded`` and emits ``refund.created`` and
``charge.refunded`` as Stripe does; more than the charge's unrefunded amount is refused."""

from __future__ import annotations

from typing import Any

from ..api import LIST_PARAMS, Ctx, route
from ..errors import InvalidRequest, StateConflict
from ..events import changed
from ..render import paginate
from ..store import new_id, snapshot

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _charge_of(ctx: Ctx) -> dict[str, Any]:
    charge_id, intent_id = ctx.params.str("charge"), ctx.params.str("payment_intent")
    if charge_id and intent_id:
        raise InvalidRequest(
            "You can only pass one of charge or payment_intent.", param="payment_intent"
        )
    if charge_id:
        return ctx.load("charge", charge_id, param="charge")
    if intent_id:
        intent = ctx.load("payment_intent", intent_id, param="payment_intent")
        latest = intent.get("latest_charge")
        charge = ctx.acct.get(latest if isinstance(latest, str) else None, "charge")
        if charge is None or intent.get("status") != "succeeded":
            raise StateConflict(
                f"PaymentIntent {intent_id} does not have a successful charge to refund.",
                param="payment_intent",
            )
        return charge
    raise InvalidRequest(
        "One of the following params should be provided for this request: "
        "payment_intent or charge.",
        param="charge",
        code="parameter_missing",
    )


@route(
    "POST",
    "/v1/refunds",
    params=("charge", "payment_intent", "amount", "reason", "metadata"),
)
def create(ctx: Ctx) -> dict[str, Any]:
    charge = _charge_of(ctx)
    if charge.get("status") != "succeeded":
        raise StateConflict(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.", param="charge"
        )
    if charge.get("disputed"):
        raise StateConflict(
            f"Charge {charge['id']} has been charged back; it cannot be refunded.",
            code="charge_disputed",
            param="charge",
        )
    left = charge["amount"] - charge.get("amount_refunded", 0)
    if left <= 0:
        raise StateConflict(
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
            param="charge",
        )
    amount = ctx.params.int("amount", left, minimum=1) or left
    if amount > left:
        raise InvalidRequest(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            param="amount",
            code="amount_too_large",
        )
    at = ctx.now_for_customer(charge.get("customer"))
    refund: dict[str, Any] = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": charge["id"],
        "created": at,
        "currency": charge["currency"],
        "destination_details": {"card": {"type": "reversal"}, "type": "card"},
        "metadata": ctx.params.metadata({}) or {},
        "payment_intent": charge.get("payment_intent"),
        "reason": ctx.params.str("reason", choices=REASONS),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
        "customer": charge.get("customer"),
        "customer_account": None,
        "payment_method": charge.get("payment_method"),
    }
    ctx.acct.put(refund)
    before = snapshot(charge)
    charge["amount_refunded"] = charge.get("amount_refunded", 0) + amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    refunds = dict(charge.get("refunds") or {"object": "list", "has_more": False})
    refunds["data"] = [snapshot(refund), *(refunds.get("data") or [])]
    refunds["total_count"] = len(refunds["data"])
    charge["refunds"] = refunds
    ctx.emit("refund.created", refund, created=at)
    ctx.emit("charge.refunded", charge, previous=changed(before, charge), created=at)
    return refund


@route("GET", "/v1/refunds/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("refund", oid)


@route("GET", "/v1/refunds", params=("charge", "payment_intent", *LIST_PARAMS))
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    filters = {"charge": p.str("charge"), "payment_intent": p.str("payment_intent")}
    return paginate(ctx.acct, ctx.acct.all("refund"), p, "/v1/refunds", filters=filters)
