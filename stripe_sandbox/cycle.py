"""The subscription cycle: what happens as time passes (renewals, trials ending,
Stripe's own retries, ``cancel_at_period_end``, pauses resuming, incomplete expiry).

Future work is a job on the account's heap for the object's clock (a test clock, or
the wall clock); :func:`run_jobs` runs them in time order, moving the clock's
``frozen_time`` to each job's moment so that events carry their historical time.
"""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from typing import Any

from . import billing, discounting, invoicing, prorations, store
from .api import Ctx
from .events import changed
from .resources import disputes
from .store import SANDBOX_RETRY_SCHEDULE_DAYS, snapshot

DAY = 86400
TRIAL_WILL_END_BEFORE = 3 * DAY
INCOMPLETE_EXPIRES_AFTER = 23 * 3600
DRAFT_FINALIZES_AFTER = 3600


def add_interval(ts: int, interval: str, count: int, anchor_day: int | None = None) -> int:
    """``ts`` plus ``count`` intervals, clamping the day of month as Stripe does."""
    if interval == "day":
        return ts + count * DAY
    if interval == "week":
        return ts + count * 7 * DAY
    moment = datetime.fromtimestamp(ts, UTC)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def schedule(ctx: Ctx, sub_or_inv: dict[str, Any], due: int, kind: str) -> None:
    clock_id = sub_or_inv.get("test_clock")
    ctx.acct.schedule(clock_id, due, kind, sub_or_inv["id"], ctx.state.seq)


def update_sub(ctx: Ctx, sub: dict[str, Any], before: dict[str, Any], at: int) -> None:
    previous = changed(before, sub)
    if previous:
        ctx.emit("customer.subscription.updated", sub, previous=previous, created=at)


# -- starting ----------------------------------------------------------------------------------


def start(ctx: Ctx, sub: dict[str, Any], at: int, payment_behavior: str) -> dict[str, Any]:
    """Bill the first period (or start the trial) of a new subscription."""
    ctx.emit("customer.subscription.created", sub, created=at)
    if sub["status"] == "trialing":
        inv = invoicing.build_invoice(
            ctx,
            sub,
            billing_reason="subscription_create",
            at=at,
            period_start=at,
            period_end=at,
            charge_items=False,
        )
        billing.finalize(ctx, inv, at)
        billing.attempt_invoice(ctx, inv, at)
        if sub["trial_end"] - TRIAL_WILL_END_BEFORE > at:
            schedule(ctx, sub, sub["trial_end"] - TRIAL_WILL_END_BEFORE, "trial_will_end")
        schedule(ctx, sub, sub["trial_end"], "period_end")
        return inv
    inv = invoicing.build_invoice(
        ctx, sub, billing_reason="subscription_create", at=at, period_start=at, period_end=at
    )
    billing.finalize(ctx, inv, at)
    schedule(ctx, sub, period_end(sub), "period_end")
    if payment_behavior == "default_incomplete" and inv["amount_due"] > 0:
        schedule(ctx, sub, at + INCOMPLETE_EXPIRES_AFTER, "incomplete_expire")
        return inv
    billing.attempt_invoice(ctx, inv, at)
    if sub["status"] == "incomplete":
        schedule(ctx, sub, at + INCOMPLETE_EXPIRES_AFTER, "incomplete_expire")
    return inv


def period_end(sub: dict[str, Any]) -> int:
    return min(item["current_period_end"] for item in sub["items"]["data"])


def period_start(sub: dict[str, Any]) -> int:
    return min(item["current_period_start"] for item in sub["items"]["data"])


# -- after payments ----------------------------------------------------------------------------


def after_invoice_paid(ctx: Ctx, inv: dict[str, Any], at: int) -> None:
    sub = ctx.acct.get(inv.get("subscription"), "subscription")
    if sub is None or sub["status"] not in ("past_due", "unpaid", "incomplete"):
        return
    still_open = [
        i
        for i in ctx.acct.all("invoice")
        if i.get("subscription") == sub["id"] and i["status"] == "open"
    ]
    if still_open:
        return
    before = snapshot(sub)
    sub["status"] = "active"
    update_sub(ctx, sub, before, at)


def after_invoice_failed(ctx: Ctx, inv: dict[str, Any], at: int, *, automatic: bool) -> None:
    sub = ctx.acct.get(inv.get("subscription"), "subscription")
    retries_on = ctx.acct.settings.get("automatic_retries") == "default"
    if automatic:
        if retries_on and inv["attempt_count"] <= len(SANDBOX_RETRY_SCHEDULE_DAYS):
            delay = SANDBOX_RETRY_SCHEDULE_DAYS[inv["attempt_count"] - 1] * DAY
            inv["next_payment_attempt"] = at + delay
            schedule(ctx, inv, at + delay, "retry")
        else:
            inv["next_payment_attempt"] = None
    if sub is None:
        return
    before = snapshot(sub)
    if sub["status"] in ("active", "trialing"):
        sub["status"] = "past_due"
    exhausted = automatic and retries_on and inv["next_payment_attempt"] is None
    if exhausted and sub["status"] == "past_due":
        action = ctx.acct.settings.get("subscription_after_retries", "past_due")
        if action == "unpaid":
            sub["status"] = "unpaid"
        elif action == "cancel":
            update_sub(ctx, sub, before, at)
            end_subscription(ctx.state, ctx.acct, sub, reason="payment_failed", at=at)
            return
    update_sub(ctx, sub, before, at)


# -- ending ------------------------------------------------------------------------------------


def end_subscription(
    state: store.State,
    acct: store.Account,
    sub: dict[str, Any],
    *,
    reason: str,
    at: int,
) -> None:
    """The subscription is over; the customer's own comment and feedback, given when the
    cancellation was asked for, stay in ``cancellation_details``."""
    ctx = billing.job_ctx(state, acct)
    sub.update(status="canceled", ended_at=at, canceled_at=sub["canceled_at"] or at)
    sub["cancellation_details"] = {**sub["cancellation_details"], "reason": reason}
    for inv in acct.all("invoice"):
        if inv.get("subscription") == sub["id"] and inv["status"] == "open":
            inv["next_payment_attempt"] = None
    ctx.emit("customer.subscription.deleted", sub, created=at)


# -- the clock ---------------------------------------------------------------------------------


def run_jobs(state: store.State, acct: store.Account, clock_id: str | None, until: int) -> int:
    """Run every job due on this clock up to ``until``, in order; returns how many ran."""
    ctx = billing.job_ctx(state, acct)
    clock = acct.get(clock_id) if clock_id else None
    ran = 0
    while True:
        job = acct.pop_due(clock_id, until)
        if job is None:
            return ran
        due, kind, target = job
        if clock is not None and due > clock["frozen_time"]:
            clock["frozen_time"] = due
        obj = acct.get(target)
        if obj is not None:
            _JOBS[kind](ctx, obj, due)
            ran += 1


def run_wall_clock(state: store.State) -> None:
    now = int(time.time())
    with state.lock:
        for acct in list(state.accounts.values()):
            if acct.jobs.get(""):
                run_jobs(state, acct, None, now)


def _period_end(ctx: Ctx, sub: dict[str, Any], due: int) -> None:
    if sub["status"] in ("canceled", "incomplete_expired", "incomplete", "paused"):
        return
    if period_end(sub) != due:
        return  # a stale job: the period changed since it was planned
    if sub["cancel_at_period_end"] or (sub["cancel_at"] and sub["cancel_at"] <= due):
        _end_at_period_end(ctx, sub, due)
        return
    before = snapshot(sub)
    if sub["status"] == "trialing":
        if (
            not billing.charge_method_for_sub(ctx, sub)
            and _trial_end_behavior(sub) != "create_invoice"
        ):
            if _trial_end_behavior(sub) == "cancel":
                end_subscription(ctx.state, ctx.acct, sub, reason="cancellation_requested", at=due)
                return
            sub["status"] = "paused"
            update_sub(ctx, sub, before, due)
            ctx.emit("customer.subscription.paused", sub, created=due)
            return
        sub["status"] = "active"
    # A renewal invoice looks back on the period that just ended (its lines look ahead).
    started = period_start(sub)
    new_period(sub, due)
    pause = sub.get("pause_collection")
    inv = invoicing.build_invoice(
        ctx, sub, billing_reason="subscription_cycle", at=due, period_start=started, period_end=due
    )
    update_sub(ctx, sub, before, due)
    schedule(ctx, sub, period_end(sub), "period_end")
    if pause:
        if pause["behavior"] == "keep_as_draft":
            inv["auto_advance"] = False
            return
        billing.finalize(ctx, inv, due, use_balance=False)
        billing.close(ctx, inv, "void" if pause["behavior"] == "void" else "uncollectible", due)
        return
    schedule(ctx, inv, due + DRAFT_FINALIZES_AFTER, "finalize")


def restart_period(
    ctx: Ctx, sub: dict[str, Any], before: dict[str, Any], at: int, *, then: str | None = None
) -> None:
    """Start a fresh billing period now (a trial ended early, a paused subscription
    resumed) and bill it at once; ``then`` is an event to emit after the update."""
    started = period_start(sub)
    new_period(sub, at)
    schedule(ctx, sub, period_end(sub), "period_end")
    inv = invoicing.build_invoice(
        ctx, sub, billing_reason="subscription_cycle", at=at, period_start=started, period_end=at
    )
    update_sub(ctx, sub, before, at)
    if then:
        ctx.emit(then, sub, created=at)
    billing.finalize(ctx, inv, at)
    billing.attempt_invoice(ctx, inv, at)


def bill_now(
    ctx: Ctx,
    sub: dict[str, Any],
    at: int,
    *,
    charge_items: bool = False,
    before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An immediate ``subscription_update`` invoice of the pending prorations
    (``always_invoice``, ``invoice_now``), with a new period when the interval changed.
    With ``before``, the update is announced once the invoice is its latest, before the
    payment's own events."""
    inv = invoicing.build_invoice(
        ctx,
        sub,
        billing_reason="subscription_update",
        at=at,
        period_start=at,
        period_end=at,
        charge_items=charge_items,
    )
    if before is not None:
        update_sub(ctx, sub, before, at)
    billing.finalize(ctx, inv, at)
    billing.attempt_invoice(ctx, inv, at, automatic=False)
    return inv


def _end_at_period_end(ctx: Ctx, sub: dict[str, Any], due: int) -> None:
    """No renewal; prorations still pending are collected by a last invoice, as Stripe
    leaves them in place for the end of the period."""
    inv = None
    if prorations.pending(ctx, sub["id"]):
        inv = invoicing.build_invoice(
            ctx,
            sub,
            billing_reason="subscription_cycle",
            at=due,
            period_start=period_start(sub),
            period_end=due,
            charge_items=False,
        )
    end_subscription(ctx.state, ctx.acct, sub, reason="cancellation_requested", at=due)
    if inv is not None:
        schedule(ctx, inv, due + DRAFT_FINALIZES_AFTER, "finalize")


def _trial_end_behavior(sub: dict[str, Any]) -> str:
    settings = sub.get("trial_settings") or {}
    return (settings.get("end_behavior") or {}).get("missing_payment_method") or "create_invoice"


def new_period(sub: dict[str, Any], start_at: int) -> None:
    items = []
    for item in sub["items"]["data"]:
        recurring = item["price"]["recurring"]
        end = add_interval(
            start_at,
            recurring["interval"],
            recurring["interval_count"],
            sub.get("billing_cycle_anchor_day"),
        )
        items.append({**item, "current_period_start": start_at, "current_period_end": end})
    sub["items"] = {**sub["items"], "data": items}


def _finalize(ctx: Ctx, inv: dict[str, Any], due: int) -> None:
    if inv["status"] != "draft" or not inv["auto_advance"]:
        return
    billing.finalize(ctx, inv, due)
    billing.attempt_invoice(ctx, inv, due)


def _retry(ctx: Ctx, inv: dict[str, Any], due: int) -> None:
    if inv["status"] == "open" and inv["next_payment_attempt"] == due:
        billing.attempt_invoice(ctx, inv, due)


def _incomplete_expire(ctx: Ctx, sub: dict[str, Any], due: int) -> None:
    if sub["status"] != "incomplete":
        return
    before = snapshot(sub)
    sub.update(status="incomplete_expired", ended_at=due)
    inv = ctx.acct.get(sub["latest_invoice"], "invoice")
    if inv and inv["status"] == "open":
        billing.close(ctx, inv, "void", due)
    update_sub(ctx, sub, before, due)
    ctx.emit("customer.subscription.deleted", sub, created=due)


def _trial_will_end(ctx: Ctx, sub: dict[str, Any], due: int) -> None:
    if sub["status"] == "trialing" and sub["trial_end"] - TRIAL_WILL_END_BEFORE == due:
        ctx.emit("customer.subscription.trial_will_end", sub, created=due)


def _resume_collection(ctx: Ctx, sub: dict[str, Any], due: int) -> None:
    pause = sub.get("pause_collection")
    if pause and pause.get("resumes_at") == due and sub["status"] != "canceled":
        before = snapshot(sub)
        sub["pause_collection"] = None
        update_sub(ctx, sub, before, due)


def _cancel_at(ctx: Ctx, sub: dict[str, Any], due: int) -> None:
    if sub["cancel_at"] == due and sub["status"] not in ("canceled", "incomplete_expired"):
        _end_at_period_end(ctx, sub, due)


_JOBS = {
    "period_end": _period_end,
    "finalize": _finalize,
    "retry": _retry,
    "incomplete_expire": _incomplete_expire,
    "trial_will_end": _trial_will_end,
    "resume_collection": _resume_collection,
    "cancel_at": _cancel_at,
    "discount_end": discounting.end,
    "dispute_decide": disputes.decide,
    "dispute_due": disputes.past_due,
}


def register_job(kind: str, run: Any) -> None:
    """A job kind of another module (a Checkout Session's expiry), run like the above."""
    _JOBS[kind] = run
