"""Bringing a customer's Stripe objects into the mirror for the portal: when a link is
handed out (the merchant's server or page asked; not the customer's page view) and
after each change the customer makes (Stripe's answer is mirrored at once, so the page
shows it before the webhook arrives)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ..stripe import clocks, mirror
from ..stripe import portal as stripe_portal
from ..stripe.models import StripeConnection


def _stamp(now: dt.datetime) -> int:
    return int(now.timestamp())


def refresh_customer(
    session: Session,
    connection: StripeConnection,
    workspace_id: int,
    customer_id: str,
    *,
    now: dt.datetime,
) -> bool:
    """Mirror the customer, their subscriptions and invoices; False when Stripe does not
    know the customer."""
    customer = stripe_portal.read_customer(connection, customer_id)
    if customer is None:
        return False
    clock = customer.get("test_clock")
    clocks.ensure(session, connection, clock if isinstance(clock, str) else None)
    keep(session, workspace_id, customer, now=now)
    for sub in stripe_portal.list_subscriptions(connection, customer_id):
        clock = sub.get("test_clock")
        clocks.ensure(session, connection, clock if isinstance(clock, str) else None)
        keep(session, workspace_id, sub, now=now)
    for invoice in stripe_portal.list_invoices(connection, customer_id):
        keep(session, workspace_id, invoice, now=now)
    return True


def keep(session: Session, workspace_id: int, obj: dict[str, Any], *, now: dt.datetime) -> None:
    """Mirror what Stripe answered to one of our changes (stamped in the object's own
    time: events about objects on a test clock carry the clock's)."""
    clock = obj.get("test_clock") if isinstance(obj.get("test_clock"), str) else None
    at = clocks.now_for(session, workspace_id, clock, now)
    mirror.upsert(session, workspace_id, obj, _stamp(at), latest=True)
