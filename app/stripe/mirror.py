"""The local mirror of a workspace's customers, subscriptions and invoices.

Upserts keep the newest state: a row only changes when the source (an event's
``created``, or an import's read time) is at least as new as what it holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import utcnow
from ..times import aware
from .models import MirrorCustomer, MirrorInvoice, MirrorSubscription


def _fields(model: Any, obj: dict[str, Any]) -> dict[str, Any]:
    if model is MirrorCustomer:
        return {
            "email": obj.get("email"),
            "name": obj.get("name"),
            "stripe_created": int(obj.get("created") or 0),
        }
    if model is MirrorSubscription:
        return {
            "customer_stripe_id": _id(obj.get("customer")) or "",
            "status": obj.get("status") or "unknown",
        }
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    return {
        "customer_stripe_id": _id(obj.get("customer")) or "",
        "subscription_stripe_id": _id(parent.get("subscription") or obj.get("subscription")),
        "status": obj.get("status") or "draft",
        "amount_due_minor": int(obj.get("amount_due") or 0),
        "currency": (obj.get("currency") or "usd").lower(),
        "stripe_created": int(obj.get("created") or 0),
    }


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
    latest: bool = False,
) -> bool:
    """Mirror one Stripe object; returns False when an older source was ignored.
    ``latest``: Stripe just answered with this object (a change of ours), so it is
    the newest state whatever the stamp; an event about a later change still wins."""
    kind = obj.get("object")
    model = {
        "customer": MirrorCustomer,
        "subscription": MirrorSubscription,
        "invoice": MirrorInvoice,
    }.get(kind or "")
    if model is None or not obj.get("id"):
        return False
    values = {
        "data": obj,
        "source_created": source_created,
        "is_deleted": deleted or bool(obj.get("deleted")),
        **_fields(model, obj),
    }
    query = select(model).where(model.workspace_id == workspace_id, model.stripe_id == obj["id"])
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        try:
            with session.begin_nested():  # another worker may mirror the same object now
                session.add(model(workspace_id=workspace_id, stripe_id=obj["id"], **values))
            return True
        except IntegrityError:
            row = session.execute(query).scalar_one()
    if latest:
        values["source_created"] = max(source_created, row.source_created)
    elif source_created < row.source_created:
        return False
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    return True


def invoice_status_since(
    session: Session, workspace_id: int, invoice_id: str, since: dt.datetime
) -> str | None:
    """The invoice's status as the mirror has it, if the mirror heard of the invoice at
    or after ``since``; None when it is older (then ask Stripe)."""
    row = session.execute(
        select(MirrorInvoice.status, MirrorInvoice.updated_at).where(
            MirrorInvoice.workspace_id == workspace_id, MirrorInvoice.stripe_id == invoice_id
        )
    ).first()
    if row is None or aware(row.updated_at) < aware(since):
        return None
    return row.status


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
