"""Building invoices: a subscription's lines for a period, its pending prorations and
its discounts.

:func:`compose` only computes (``create_preview`` shows its result and stores nothing);
:func:`build_invoice` stores a draft and takes the pending items. ``billing.py``
finalizes, pays and closes what is built here.
"""

from __future__ import annotations

import copy
from typing import Any

from . import discounting, prorations
from .api import Ctx
from .store import Account, new_id

# -- the customer on the invoice ------------------------------------------------------------


def customer_details(acct: Account, customer: dict[str, Any]) -> dict[str, Any]:
    """The invoice's copy of the customer: it follows the customer while the invoice is a
    draft and stays as it was once the invoice is finalized."""
    tax_ids = [t for t in acct.all("tax_id") if t["customer"] == customer.get("id")]
    return {
        "customer_address": copy.deepcopy(customer.get("address")),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_tax_exempt": customer.get("tax_exempt", "none"),
        "customer_tax_ids": [{"type": t["type"], "value": t["value"]} for t in reversed(tax_ids)],
    }


def refresh_drafts(ctx: Ctx, customer_id: str) -> None:
    """The customer changed: its draft invoices show the change (no event, as on Stripe)."""
    customer = ctx.acct.get(customer_id, "customer")
    if customer is None:
        return
    details = customer_details(ctx.acct, customer)
    for inv in ctx.acct.all("invoice"):
        if inv["customer"] == customer_id and inv["status"] == "draft":
            inv.update(copy.deepcopy(details))


# -- building -------------------------------------------------------------------------------


def _line(
    inv_id: str,
    sub: dict[str, Any],
    *,
    line_id: str,
    amount: int,
    description: str,
    start: int,
    end: int,
    quantity: int,
    price: dict[str, Any],
    subscription_item: str | None,
    invoice_item: str | None = None,
    proration: bool = False,
    credited: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": line_id,
        "object": "line_item",
        "amount": amount,
        "currency": sub["currency"],
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
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": credited},
                "subscription": sub["id"],
                "subscription_item": subscription_item,
            },
        },
        "period": {"start": start, "end": end},
        "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": str(price["unit_amount"]),
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


def compose(
    ctx: Ctx,
    sub: dict[str, Any],
    *,
    inv_id: str,
    billing_reason: str,
    at: int,
    period_start: int,
    period_end: int,
    charge_items: bool,
    items: list[dict[str, Any]],
    discounts: list[dict[str, Any]],
    credited: dict[str, Any],
    line_prefix: str = "il",
) -> dict[str, Any]:
    """An invoice of ``sub`` (a draft, or a preview): the invoice items first, as Stripe
    lists them, then each subscription item over its current period. Stores nothing."""
    customer = ctx.acct.get(sub["customer"], "customer") or {}
    lines = []
    for ii in items:
        details = ii["parent"]["subscription_details"]
        lines.append(
            _line(
                inv_id,
                sub,
                line_id=new_id(line_prefix),
                amount=ii["amount"],
                description=ii["description"],
                start=ii["period"]["start"],
                end=ii["period"]["end"],
                quantity=ii["quantity"],
                price={
                    "id": ii["pricing"]["price_details"]["price"],
                    "product": ii["pricing"]["price_details"]["product"],
                    "unit_amount": int(ii["pricing"]["unit_amount_decimal"]),
                },
                subscription_item=details.get("subscription_item"),
                invoice_item=ii["id"],
                proration=ii["proration"],
                credited=credited.get(ii["id"]),
            )
        )
    if charge_items:
        for item in sub["items"]["data"]:
            price = item["price"]
            lines.append(
                _line(
                    inv_id,
                    sub,
                    line_id=new_id(line_prefix),
                    amount=price["unit_amount"] * item["quantity"],
                    description=price_description(ctx, price, item["quantity"]),
                    start=item["current_period_start"],
                    end=item["current_period_end"],
                    quantity=item["quantity"],
                    price=price,
                    subscription_item=item["id"],
                )
            )
    subtotal = sum(line["amount"] for line in lines)
    total_discounts = discounting.allocate(discounts, lines)
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
        **customer_details(ctx.acct, customer),
        "customer_shipping": None,
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
        "starting_balance": customer.get("balance", 0),
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
    return inv


def build_invoice(
    ctx: Ctx,
    sub: dict[str, Any],
    *,
    billing_reason: str,
    at: int,
    period_start: int,
    period_end: int,
    charge_items: bool = True,
) -> dict[str, Any]:
    """A draft invoice for the subscription's items over one period, taking its pending
    invoice items; a ``once`` discount it used is removed from the subscription."""
    items = prorations.pending(ctx, sub["id"])
    discounts = discounting.active(ctx, sub, at)
    inv = compose(
        ctx,
        sub,
        inv_id=new_id("in"),
        billing_reason=billing_reason,
        at=at,
        period_start=period_start,
        period_end=period_end,
        charge_items=charge_items,
        items=items,
        discounts=discounts,
        credited=prorations.credited_items(ctx, items),
    )
    ctx.acct.put(inv)
    for ii in items:
        ii["invoice"] = inv["id"]
    # The caller emits customer.subscription.updated for this and its other changes.
    sub["latest_invoice"] = inv["id"]
    used = {d["discount"] for d in inv["total_discount_amounts"] if d["amount"] > 0}
    discounting.use_up(ctx, sub, [d for d in discounts if d["id"] in used], at)
    ctx.emit("invoice.created", inv, created=at)
    return inv
