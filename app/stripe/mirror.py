"""The local mirror of a workspace's customers, subscriptions and invoices.

Upserts keep the newest state: a row only changes when the source (an event's
``created``, or an import's read time) is at least as new as what it holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import MirrorCustomer, MirrorInvoice, MirrorSubscription


def _row(session: Session, model: Any, workspace_id: int, stripe_id: str) -> Any:
    row = session.execute(
        select(model).where(model.workspace_id == workspace_id, model.stripe_id == stripe_id)
    ).scalar_one_or_none()
    if row is None:
        row = model(workspace_id=workspace_id, stripe_id=stripe_id, source_created=-1)
        session.add(row)
    return row


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value


def upsert(
    session: Session,
    workspace_id: int,
    obj: dict[str, Any],
    source_created: int,
    *,
    deleted: bool = False,
) -> bool:
    """Mirror one Stripe object; returns False when an older source was ignored."""
    kind = obj.get("object")
    model = {
        "customer": MirrorCustomer,
        "subscription": MirrorSubscription,
        "invoice": MirrorInvoice,
    }.get(kind or "")
    if model is None or not obj.get("id"):
        return False
    row = _row(session, model, workspace_id, obj["id"])
    if source_created < row.source_created:
        return False
    row.data = obj
    row.source_created = source_created
    row.is_deleted = deleted or bool(obj.get("deleted"))
    if model is MirrorCustomer:
        row.email = obj.get("email")
        row.name = obj.get("name")
        row.stripe_created = int(obj.get("created") or 0)
    elif model is MirrorSubscription:
        row.customer_stripe_id = _id(obj.get("customer")) or ""
        row.status = obj.get("status") or "unknown"
    else:
        parent = (obj.get("parent") or {}).get("subscription_details") or {}
        row.customer_stripe_id = _id(obj.get("customer")) or ""
        row.subscription_stripe_id = _id(parent.get("subscription") or obj.get("subscription"))
        row.status = obj.get("status") or "draft"
        row.amount_due_minor = int(obj.get("amount_due") or 0)
        row.currency = (obj.get("currency") or "usd").lower()
        row.stripe_created = int(obj.get("created") or 0)
    session.flush()
    return True


def paid_at_history(session: Session, workspace_id: int, customer_id: str) -> list[dt.datetime]:
    """When the customer's invoices were paid (their payday shows in these)."""
    rows = session.execute(
        select(MirrorInvoice.data).where(
            MirrorInvoice.workspace_id == workspace_id,
            MirrorInvoice.customer_stripe_id == customer_id,
            MirrorInvoice.status == "paid",
        )
    ).scalars()
    paid = []
    for data in rows:
        at = ((data or {}).get("status_transitions") or {}).get("paid_at")
        if at and (data or {}).get("amount_paid"):
            paid.append(dt.datetime.fromtimestamp(int(at), dt.UTC))
    return paid
