"""Cancels that happen in Stripe, not through a flow (the merchant's Stripe dashboard,
Stripe's own portal, the merchant's code): an open session for that subscription ends
as cancelled, credited to them, never to us; and the cancel is recorded, so the
dashboard can show the customers who bypassed the flow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import one_per, utcnow
from ..stripe import subscriptions as stripe_subs
from ..stripe.models import StripeConnection
from .models import CancelSession, OutsideCancel
from .outcomes import end_outside
from .policy import Plan


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def on_subscription_changed(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    """``customer.subscription.updated|deleted``: a subscription set to end, or ended."""
    sub = (payload.get("data") or {}).get("object") or {}
    if not isinstance(sub.get("id"), str):
        return
    ended = sub.get("status") == "canceled"
    ending = bool(sub.get("cancel_at_period_end")) or bool(sub.get("cancel_at"))
    if not (ended or ending):
        return
    ours = str((sub.get("metadata") or {}).get(stripe_subs.CANCEL_MARKER) or "")
    open_sessions = session.execute(
        select(CancelSession)
        .where(
            CancelSession.workspace_id == connection.workspace_id,
            CancelSession.subscription_stripe_id == sub["id"],
            CancelSession.outcome.is_(None),
            ~CancelSession.is_simulation,
        )
        .with_for_update()
    ).scalars()
    items = (sub.get("items") or {}).get("data") or [{}]
    ends_at = (
        _epoch(sub.get("ended_at"))
        or _epoch(sub.get("cancel_at"))
        or _epoch(items[0].get("current_period_end"))
    )
    for cancel_session in open_sessions:
        if str(cancel_session.id) != ours:
            end_outside(session, cancel_session, ends_at=ends_at, now=utcnow())
    if not ours:
        _record(session, connection.workspace_id, sub, payload)


def _record(
    session: Session, workspace_id: int, sub: dict[str, Any], payload: dict[str, Any]
) -> None:
    facts = stripe_subs.subscription_facts(sub)
    plan = Plan(
        facts.plan_name or "",
        facts.amount_minor,
        facts.currency,
        facts.interval,
        facts.interval_count,
    )
    at = _epoch(sub.get("canceled_at")) or _epoch(payload.get("created")) or utcnow()
    row = one_per(
        session,
        OutsideCancel,
        workspace_id=workspace_id,
        subscription_stripe_id=sub["id"],
        defaults={"customer_stripe_id": facts.customer_id, "cancelled_at": at},
    )
    row.customer_stripe_id = facts.customer_id
    row.plan_name = facts.plan_name
    row.mrr_minor = plan.monthly_minor
    row.currency = facts.currency
    row.cancelled_at = at
    row.reason = (sub.get("cancellation_details") or {}).get("reason") or None
    session.flush()
