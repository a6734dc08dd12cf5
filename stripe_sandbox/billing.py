"""Invoices: building them from a subscription, finalizing, paying, voiding.

Used by the API handlers and by the clock (``cycle.py``); every function takes the
moment ``at`` it happens, so events carry the test clock's historical time.
"""

from __future__ import annotations

from typing import Any

from . import store
from .api import Ctx
from .cards import Decline
from .events import changed
from .store import new_id, snapshot


def job_ctx(state: store.State, acct: store.Account) -> Ctx:
    from .wire import Params

    return Ctx(state, acct, Params({}), base_url=getattr(state, "base_url", ""))


# -- amounts --------------------------------------------------------------------------------


def discount_amount(coupon: dict[str, Any], subtotal: int) -> int:
    if coupon.get("percent_off") is not None:
        return min(subtotal, round(subtotal * coupon["percent_off"] / 100))
    return min(subtotal, coupon.get("amount_off") or 0)


def active_discounts(ctx: Ctx, sub: dict[str, Any], at: int) -> list[dict[str, Any]]:
    found = []
    for di_id in sub.get("discounts", []):
        discount = ctx.acct.get(di_id, "discount")
        if discount and (discount["end"] is None or at < discount["end"]):
            found.append(discount)
    return found


# -- building -------------------------------------------------------------------------------


def _line(
    ctx: Ctx,
    inv_id: str,
    sub: dict[str, Any],
    item: dict[str, Any] | None,
    *,
    amount: int,
    currency: str,
    description: str,
    start: int,
    end: int,
    quantity: int = 1,
    price: dict[str, Any] | None = None,
    proration: bool = False,
) -> dict[str, Any]:
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": currency,
        "description": description,
        "discount_amounts": [],
        "discountable": not proration,
        "discounts": [],
        "invoice": inv_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": item["id"] if item else None,
            },
        },
        "period": {"start": start, "end": end},
        "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]} if price else None,
            "unit_amount_decimal": str(price["unit_amount"]) if price else None,
        },
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "subscription": sub["id"],
        "subtotal": amount,
        "taxes": [],
    }


def price_description(ctx: Ctx, price: dict[str, Any], quantity: int) -> str:
    product = ctx.acct.get(price["product"], "product")
    name = product["name"] if product else price["product"]
    recurring = price.get("recurring") or {}
    per = f" / {recurring['interval']}" if recurring else ""
    amount = f"{price['unit_amount'] / 100:.2f} {price['currency'].upper()}"
    return f"{quantity} × {name} (at {amount}{per})"  # noqa: RUF001 - as Stripe writes it


def build_invoice(
    ctx: Ctx,
    sub: dict[str, Any],
    *,
    billing_reason: str,
    at: int,
    period_start: int,
    period_end: int,
    charge_items: bool = True,
    extra_lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A draft invoice for the subscription's items over one period (plus prorations)."""
    customer = ctx.acct.get(sub["customer"], "customer") or {}
    inv_id = new_id("in")
    lines = []
    if charge_items:
        for item in sub["items"]["data"]:
            price = item["price"]
            amount = price["unit_amount"] * item["quantity"]
            lines.append(
                _line(
                    ctx,
                    inv_id,
                    sub,
                    item,
                    amount=amount,
                    currency=price["currency"],
                    description=price_description(ctx, price, item["quantity"]),
                    start=item["current_period_start"],
                    end=item["current_period_end"],
                    quantity=item["quantity"],
                    price=price,
                )
            )
    for pending in ctx.acct.priv(sub["id"]).pop("pending_lines", []) + (extra_lines or []):
        lines.append(
            _line(
                ctx,
                inv_id,
                sub,
                ctx.acct.get(pending["item"]),
                amount=pending["amount"],
                currency=sub["currency"],
                description=pending["description"],
                start=pending["start"],
                end=pending["end"],
                price=ctx.acct.get(pending["price"]),
                proration=True,
            )
        )
    subtotal = sum(line["amount"] for line in lines)
    discountable = sum(line["amount"] for line in lines if line["discountable"])
    discounts = active_discounts(ctx, sub, at) if billing_reason != "subscription_update" else []
    total_discounts = []
    for discount in discounts:
        off = discount_amount(discount["source"]["coupon"], max(0, discountable))
        discountable -= off
        total_discounts.append({"amount": off, "discount": discount["id"]})
    total = subtotal - sum(d["amount"] for d in total_discounts)
    inv = {
        "id": inv_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": None,
        "account_tax_ids": None,
        "amount_due": max(0, total),
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": max(0, total),
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": at + 3600,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": at,
        "currency": sub["currency"],
        "custom_fields": None,
        "customer": sub["customer"],
        "customer_account": None,
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": None,
        "customer_tax_exempt": customer.get("tax_exempt", "none"),
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [d["id"] for d in discounts],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "url": f"/v1/invoices/{inv_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]},
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period_end,
        "period_start": period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subscription": sub["id"],
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "test_clock": customer.get("test_clock"),
        "total": total,
        "total_discount_amounts": total_discounts,
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": at,
    }
    ctx.acct.put(inv)
    # The caller emits customer.subscription.updated for this and its other changes.
    sub["latest_invoice"] = inv_id
    for discount in discounts:
        if discount["source"]["coupon"]["duration"] == "once":
            remove_discount(ctx, sub, discount, at)
    ctx.emit("invoice.created", inv, created=at)
    return inv


def remove_discount(ctx: Ctx, sub: dict[str, Any], discount: dict[str, Any], at: int) -> None:
    sub["discounts"] = [d for d in sub["discounts"] if d != discount["id"]]
    ctx.emit("customer.discount.deleted", discount, created=at)


# -- state changes --------------------------------------------------------------------------


def finalize(ctx: Ctx, inv: dict[str, Any], at: int) -> None:
    from .resources.payments import new_intent

    if inv["status"] != "draft":
        return
    before = snapshot(inv)
    customer = ctx.acct.get(inv["customer"], "customer")
    number = ctx.acct.next_number(f"invoice:{inv['customer']}")
    prefix = customer["invoice_prefix"] if customer else "SANDBOX"
    inv.update(
        status="open",
        number=f"{prefix}-{number:04d}",
        effective_at=at,
        automatically_finalizes_at=None,
        hosted_invoice_url=f"{ctx.base_url}/invoice/{ctx.acct.id}/{inv['id']}",
        invoice_pdf=f"{ctx.base_url}/invoice/{ctx.acct.id}/{inv['id']}?format=pdf",
    )
    inv["status_transitions"] = {**inv["status_transitions"], "finalized_at": at}
    if customer:
        customer["next_invoice_sequence"] = number + 1
    if inv["amount_due"] > 0:
        pi = new_intent(
            ctx,
            amount=inv["amount_due"],
            currency=inv["currency"],
            customer=inv["customer"],
            created=at,
            description="Subscription update"
            if inv["billing_reason"] == "subscription_update"
            else "Subscription creation"
            if inv["billing_reason"] == "subscription_create"
            else "Subscription cycle",
        )
        ctx.acct.priv(pi["id"])["invoice"] = inv["id"]
        payment = {
            "id": new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": None,
            "amount_requested": inv["amount_due"],
            "created": at,
            "currency": inv["currency"],
            "invoice": inv["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
            "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None},
        }
        ctx.acct.put(payment)
        ctx.acct.priv(inv["id"])["payment"] = payment["id"]
    ctx.emit("invoice.finalized", inv, previous=changed(before, inv), created=at)


def payment_of(ctx: Ctx, inv: dict[str, Any]) -> dict[str, Any] | None:
    return ctx.acct.get(ctx.acct.priv(inv["id"]).get("payment"), "invoice_payment")


def charge_method(ctx: Ctx, inv: dict[str, Any]) -> str | None:
    """Where Stripe takes the money: invoice, then subscription, then customer default."""
    sub = ctx.acct.get(inv.get("subscription"), "subscription")
    customer = ctx.acct.get(inv["customer"], "customer")
    return (
        inv.get("default_payment_method")
        or (sub or {}).get("default_payment_method")
        or ((customer or {}).get("invoice_settings") or {}).get("default_payment_method")
    )


def charge_method_for_sub(ctx: Ctx, sub: dict[str, Any]) -> str | None:
    customer = ctx.acct.get(sub["customer"], "customer")
    return sub.get("default_payment_method") or (
        ((customer or {}).get("invoice_settings") or {}).get("default_payment_method")
    )


def attempt_invoice(
    ctx: Ctx, inv: dict[str, Any], at: int, *, pm_id: str | None = None, automatic: bool = True
) -> tuple[dict[str, Any] | None, Decline | None]:
    """One payment attempt on an open invoice; returns (charge, decline)."""
    from .cycle import after_invoice_failed, after_invoice_paid
    from .resources.payments import attempt

    if inv["amount_due"] == 0:
        mark_paid(ctx, inv, at)
        after_invoice_paid(ctx, inv, at)
        return None, None
    payment = payment_of(ctx, inv)
    pi = ctx.acct.get(payment["payment"]["payment_intent"]) if payment else None
    pm = ctx.acct.get(pm_id or charge_method(ctx, inv), "payment_method")
    before = snapshot(inv)
    inv["attempt_count"] += 1
    inv["attempted"] = True
    charge, failure = None, None
    if pm is not None and pi is not None:
        charge, failure = attempt(
            ctx, pi, pm, at=at, off_session=True, description=pi["description"]
        )
    if charge is not None and failure is None:
        mark_paid(ctx, inv, at, previous=changed(before, inv))
        after_invoice_paid(ctx, inv, at)
        return charge, None
    after_invoice_failed(ctx, inv, at, automatic=automatic)
    inv_prev = changed(before, inv)
    ctx.emit("invoice.payment_failed", inv, previous=inv_prev, created=at)
    if pi is not None and pi["status"] == "requires_action":
        ctx.emit("invoice.payment_action_required", inv, created=at)
    return charge, failure


def mark_paid(
    ctx: Ctx,
    inv: dict[str, Any],
    at: int,
    *,
    out_of_band: bool = False,
    previous: dict[str, Any] | None = None,
) -> None:
    before = snapshot(inv)
    inv.update(
        status="paid",
        amount_paid=inv["amount_due"],
        amount_remaining=0,
        attempted=True,
        next_payment_attempt=None,
        auto_advance=False,
    )
    inv["status_transitions"] = {**inv["status_transitions"], "paid_at": at}
    if out_of_band:  # not a field of the current API; kept in private state
        ctx.acct.priv(inv["id"])["paid_out_of_band"] = True
    payment = payment_of(ctx, inv)
    if payment is not None:
        payment.update(status="paid", amount_paid=inv["amount_due"])
        payment["status_transitions"] = {**payment["status_transitions"], "paid_at": at}
        ctx.emit("invoice_payment.paid", payment, created=at)
    prev = {**changed(before, inv), **(previous or {})}
    ctx.emit("invoice.paid", inv, previous=prev, created=at)
    ctx.emit("invoice.payment_succeeded", inv, previous=prev, created=at)


def close(ctx: Ctx, inv: dict[str, Any], status: str, at: int) -> None:
    """Void or mark uncollectible; the payment intent of a voided invoice is canceled."""
    before = snapshot(inv)
    inv.update(status=status, next_payment_attempt=None, auto_advance=False)
    field = "voided_at" if status == "void" else "marked_uncollectible_at"
    inv["status_transitions"] = {**inv["status_transitions"], field: at}
    payment = payment_of(ctx, inv)
    if status == "void" and payment is not None:
        payment["status"] = "canceled"
        payment["status_transitions"] = {**payment["status_transitions"], "canceled_at": at}
        pi = ctx.acct.get(payment["payment"]["payment_intent"])
        if pi and pi["status"] not in ("succeeded", "canceled"):
            pi_before = snapshot(pi)
            pi.update(status="canceled", canceled_at=at, cancellation_reason="void_invoice")
            ctx.emit("payment_intent.canceled", pi, previous=changed(pi_before, pi), created=at)
    event = "invoice.voided" if status == "void" else "invoice.marked_uncollectible"
    ctx.emit(event, inv, previous=changed(before, inv), created=at)
