"""Cancels that happen in Stripe, not through a flow (the merchant's Stripe dashboard,
Stripe's own portal, the merchant's code): an open session for that subscription ends
as cancelled, credited to them, never to us."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import utcnow
from ..stripe.models import StripeConnection
from .models import CancelSession
from .outcomes import end_outside


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def on_subscription_changed(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    """``customer.subscription.updated|deleted``: a subscription set to end, or ended."""
    sub = (payload.get("data") or {}).get("object") or {}
    ended = sub.get("status") == "canceled"
    ending = bool(sub.get("cancel_at_period_end")) or bool(sub.get("cancel_at"))
    if not (ended or ending) or not isinstance(sub.get("id"), str):
        return
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
        end_outside(session, cancel_session, ends_at=ends_at, now=utcnow())
