"""Building invoices: a subscription's lines for a period, prorations and discounts.

Pure of payments: ``billing.py`` finalizes, pays and closes what is built here.
"""

from __future__ import annotations

from typing import Any

from .api import Ctx
from .store import new_id

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
