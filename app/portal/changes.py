"""Plan changes waiting for the renewal (a downgrade chosen in the portal), run by the
sweeper when due: re-read the subscription, and switch it only if it is still what
the customer had when they chose (not cancelled, not switched since)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..events import services as events
from ..schedule import claims
from ..stripe import portal as stripe_portal
from ..stripe import subscriptions as stripe_subs
from ..stripe.client import InvalidRequestError
from ..stripe.models import StripeConnection
from . import cache, sync
from .models import PortalChange


def finish(change: PortalChange, outcome: str, detail: str, *, at: dt.datetime) -> str:
    return claims.finish(change, outcome, detail, at=at)


def run(
    session: Session, connection: StripeConnection | None, change: PortalChange, *, now: dt.datetime
) -> str:
    """Apply one due change; returns its outcome. Safe to run twice (idempotency key)."""
    if connection is None:
        return finish(change, "skipped", "Stripe is not connected", at=now)
    try:
        sub = stripe_subs.read_subscription(connection, change.subscription_stripe_id)
    except InvalidRequestError as exc:
        if getattr(exc, "http_status", None) == 404:
            return finish(change, "skipped", "the subscription is gone", at=now)
        raise
    if sub.is_cancelled or sub.cancel_at_period_end:
        return finish(change, "skipped", "the subscription is ending", at=now)
    if sub.price_id == change.to_price_id:
        return finish(change, "applied", "already on the new plan", at=now)
    if sub.price_id != change.from_price_id:
        return finish(change, "skipped", "the plan was changed another way since", at=now)
    obj = stripe_portal.switch_for_renewal(
        connection, sub, change.to_price_id, key=f"portal-change:{change.id}"
    )
    sync.keep(session, change.workspace_id, obj, now=now)
    cache.forget(session, change.workspace_id, f"upcoming:{sub.id}")
    events.emit(
        session,
        change.workspace_id,
        "portal.subscription.switched",
        subject=sub.id,
        data={"customer": change.customer_stripe_id, "price": change.to_price_id, "upgrade": False},
    )
    return finish(
        change, "applied", f"switched to {change.to_plan_name or change.to_price_id}", at=now
    )
