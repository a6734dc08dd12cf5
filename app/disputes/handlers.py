"""What the disputes package does with Stripe's events: thin translations to its
services. Handlers tolerate the same event twice and events out of order."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..stripe.models import StripeConnection
from . import monitor, services


def _object(payload: dict[str, Any]) -> dict[str, Any]:
    return (payload.get("data") or {}).get("object") or {}


def dispute_changed(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    dispute = services.on_event(
        session, connection, _object(payload), int(payload.get("created") or 0)
    )
    if dispute is not None and payload.get("type") == "charge.dispute.created":
        monitor.check(session, connection.workspace_id, month=monitor.month_of(dispute.opened_at))


def charge_succeeded(
    session: Session, connection: StripeConnection, payload: dict[str, Any]
) -> None:
    monitor.record_charge(session, connection.workspace_id, _object(payload))
