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


# -- state changes --------------------------------------------------------------------------


def finalize(ctx: Ctx, inv: dict[str, Any], at: int, *, use_balance: bool = True) -> None:
    """Open the invoice; ``use_balance=False`` for one made while collection is paused,
    which Stripe closes without touching the customer's credit."""
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
        if use_balance:
            _apply_balance(ctx, inv, customer, at)
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


def _apply_balance(ctx: Ctx, inv: dict[str, Any], customer: dict[str, Any], at: int) -> None:
    """The customer's balance meets the invoice when it is finalized: a credit (negative)
    lowers what is due, and a negative total (a downgrade's prorations) becomes credit
    for the next invoices."""
    start = customer.get("balance") or 0
    due = inv["total"] + start
    inv.update(
        starting_balance=start,
        ending_balance=min(0, due),
        amount_due=max(0, due),
        amount_remaining=max(0, due),
    )
    if min(0, due) != start:
        before = snapshot(customer)
        customer["balance"] = min(0, due)
        ctx.emit("customer.updated", customer, previous=changed(before, customer), created=at)


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
    from .cycle import after_invoice_paid
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
    _settle(
        ctx,
        inv,
        pi,
        paid=charge is not None and failure is None,
        at=at,
        before=before,
        automatic=automatic,
    )
    return charge, failure


def intent_attempted(ctx: Ctx, pi: dict[str, Any], *, paid: bool, at: int) -> None:
    """The customer paid (or tried to pay) an invoice's payment intent on session, through
    Stripe.js or the API: the invoice follows as when Stripe charges it."""
    inv = ctx.acct.get(ctx.acct.priv(pi["id"]).get("invoice"), "invoice")
    if inv is None or inv["status"] not in ("open", "uncollectible"):
        return
    before = snapshot(inv)
    inv["attempt_count"] += 1
    inv["attempted"] = True
    _settle(ctx, inv, pi, paid=paid, at=at, before=before, automatic=False)


def _settle(
    ctx: Ctx,
    inv: dict[str, Any],
    pi: dict[str, Any] | None,
    *,
    paid: bool,
    at: int,
    before: dict[str, Any],
    automatic: bool,
) -> None:
    from .cycle import after_invoice_failed, after_invoice_paid

    if paid:
        mark_paid(ctx, inv, at, previous=changed(before, inv))
        after_invoice_paid(ctx, inv, at)
        return
    after_invoice_failed(ctx, inv, at, automatic=automatic)
    inv_prev = changed(before, inv)
    ctx.emit("invoice.payment_failed", inv, previous=inv_prev, created=at)
    if pi is not None and pi["status"] == "requires_action":
        ctx.emit("invoice.payment_action_required", inv, created=at)


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
            pi.update(
                status="canceled",
                canceled_at=at,
                cancellation_reason="void_invoice",
                next_action=None,
            )
            ctx.emit("payment_intent.canceled", pi, previous=changed(pi_before, pi), created=at)
    event = "invoice.voided" if status == "void" else "invoice.marked_uncollectible"
    ctx.emit(event, inv, previous=changed(before, inv), created=at)
