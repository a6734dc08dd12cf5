"""Churn, counted once per subscription that ends: voluntary (the customer chose to
leave) or involuntary (the payments failed), with the MRR that left. Recorded as a
``subscription.ended`` domain event, which the rollups count like any other."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events import services as events
from ..events.models import DomainEvent
from ..models import utcnow
from ..retain.policy import Plan
from ..stripe import subscriptions as stripe_subs
from ..stripe.models import StripeConnection
from ..winback.handlers import classify

ENDED = "subscription.ended"


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def subscription_ended(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    """``customer.subscription.deleted``: record the churn once (a repeated event finds
    it recorded)."""
    sub = (payload.get("data") or {}).get("object") or {}
    if not isinstance(sub.get("id"), str):
        return
    subject = f"subscription:{sub['id']}"
    seen = session.execute(
        select(DomainEvent.id).where(
            DomainEvent.workspace_id == connection.workspace_id,
            DomainEvent.subject == subject,
            DomainEvent.name == ENDED,
        )
    ).first()
    if seen is not None:
        return
    facts = stripe_subs.subscription_facts(sub)
    details = sub.get("cancellation_details") or {}
    kind, reason, _detail = classify(
        session, connection.workspace_id, facts.id, details.get("reason"), details.get("feedback")
    )
    plan = Plan("", facts.amount_minor, facts.currency, facts.interval, facts.interval_count)
    events.emit(
        session,
        connection.workspace_id,
        ENDED,
        subject=subject,
        data={
            "subscription": facts.id,
            "customer": facts.customer_id,
            "kind": kind,
            "reason": reason,
            "mrr_minor": plan.monthly_minor,
            "currency": facts.currency,
        },
        occurred_at=_epoch(sub.get("ended_at")) or _epoch(payload.get("created")) or utcnow(),
    )
