"""Refunds of recovered payments: money Backstop got back and the merchant then returned.

A refund of the charge that paid a recovered campaign's invoice is recorded on the
charge's attempt and the campaign, and emitted as ``recovery.campaign.refunded`` (with
the amount newly refunded), which the insights subtract from what was recovered, on the
day it was recovered. Stripe's ``amount_refunded`` only grows, so a late or replayed
``charge.refunded`` (a smaller total) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events import services as events
from .closing import campaign_facts
from .models import RECOVERED, Campaign, ChargeAttempt

log = logging.getLogger("backstop.recovery")

EVENT = "recovery.campaign.refunded"


def refunded_now(already_minor: int, charge_refunded_minor: int, recovered_minor: int) -> int:
    """How much more of a recovery a refund takes back: the charge's new refunded total
    (never more than was recovered) less what was recorded. Zero for a stale total."""
    total = max(0, min(charge_refunded_minor, recovered_minor))
    return max(0, total - already_minor)


def find_attempt(session: Session, workspace_id: int, charge_id: str) -> ChargeAttempt | None:
    return session.execute(
        select(ChargeAttempt).where(
            ChargeAttempt.workspace_id == workspace_id,
            ChargeAttempt.charge_stripe_id == charge_id,
        )
    ).scalar_one_or_none()


def recovered_for_customer(
    session: Session, workspace_id: int, customer_id: str, *, limit: int = 24
) -> list[Campaign]:
    """A customer's recovered campaigns, newest first: where a refunded charge we have
    not recorded yet may belong."""
    return list(
        session.execute(
            select(Campaign)
            .where(
                Campaign.workspace_id == workspace_id,
                Campaign.customer_stripe_id == customer_id,
                Campaign.state == RECOVERED,
            )
            .order_by(Campaign.closed_at.desc())
            .limit(limit)
        ).scalars()
    )


def record(
    session: Session, attempt: ChargeAttempt, charge: dict[str, Any], *, now: dt.datetime
) -> int:
    """Record ``charge``'s refunds against the recovered campaign its ``attempt`` paid;
    returns the amount newly taken back (0 when nothing changed)."""
    campaign = session.get(Campaign, attempt.campaign_id) if attempt.campaign_id else None
    if campaign is None or campaign.state != RECOVERED or not attempt.succeeded:
        return 0
    refunded = int(charge.get("amount_refunded") or 0)
    room = campaign.recovered_minor - campaign.refunded_minor + attempt.refunded_minor
    delta = refunded_now(attempt.refunded_minor, refunded, room)
    if delta == 0:
        return 0
    attempt.refunded_minor += delta
    campaign.refunded_minor += delta
    events.emit(
        session,
        campaign.workspace_id,
        EVENT,
        subject=f"campaign:{campaign.id}",
        data={
            **campaign_facts(campaign),
            "attribution": campaign.attribution,
            "charge": attempt.charge_stripe_id,
            "refunded_minor": delta,
            "refunded_total_minor": campaign.refunded_minor,
            "recovered_minor": campaign.recovered_minor,
            # Counted on the day the payment was recovered: what that day brought in.
            "counted_at": (campaign.closed_at or now).isoformat(),
        },
        occurred_at=now,
    )
    session.flush()
    log.info(
        "recovery.campaign.refunded workspace=%s campaign=%s charge=%s amount=%s",
        campaign.workspace_id,
        campaign.id,
        attempt.charge_stripe_id,
        delta,
    )
    return delta
