"""Win-back campaigns: opened when a subscription ends (one per subscription), their
touches written into the schedule, closed when the customer comes back by any path
(credited to us only through our link or within the window after a touch), stopped at
once on an unsubscribe, a bounce, a complaint or the merchant's pause. Services flush,
never commit."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..events import services as events
from ..models import one_per
from ..outbox.services import normalise
from ..retain.policy import Plan
from ..stripe import clocks
from ..stripe.subscriptions import SubscriptionFacts
from . import policy
from .models import (
    ACTIVE,
    CLOSE,
    EMAIL,
    ENDED,
    RETURNED,
    STOPPED,
    WON,
    WinbackCampaign,
    WinbackStep,
)
from .settings import delays_of, settings_for

log = logging.getLogger("backstop.winback")
PENDING_STATES = ("pending", "queued", "running")


@dataclass(frozen=True)
class Ending:
    """What we know of a subscription that ended, gathered by the caller."""

    subscription: SubscriptionFacts
    ended_at: dt.datetime
    kind: str
    reason: str
    reason_detail: str
    email: str | None
    customer_name: str | None
    customer_tz: str


def find(session: Session, workspace_id: int, subscription_id: str) -> WinbackCampaign | None:
    return session.execute(
        select(WinbackCampaign).where(
            WinbackCampaign.workspace_id == workspace_id,
            WinbackCampaign.subscription_stripe_id == subscription_id,
        )
    ).scalar_one_or_none()


def why_not_start(session: Session, workspace_id: int, ending: Ending) -> str | None:
    """Why this ending gets no campaign (the workspace's settings), or None."""
    settings = settings_for(session, workspace_id)
    if not settings.is_enabled:
        return "win-back is off"
    if settings.is_paused:
        return "win-back is paused"
    if ending.kind == policy.INVOLUNTARY and not settings.includes_involuntary:
        return "win-back skips customers lost to failed payments"
    return None


def start(
    session: Session, workspace_id: int, ending: Ending, *, now: dt.datetime
) -> WinbackCampaign | None:
    """Open the campaign of an ended subscription and plan its touches (once: a second
    event for the same end finds it). None when the workspace wants none."""
    existing = find(session, workspace_id, ending.subscription.id)
    if existing is not None:
        return existing
    if why_not_start(session, workspace_id, ending) is not None:
        return None
    sub = ending.subscription
    plan = Plan(
        sub.plan_name or "", sub.amount_minor, sub.currency, sub.interval, sub.interval_count
    )
    campaign = one_per(
        session,
        WinbackCampaign,
        workspace_id=workspace_id,
        subscription_stripe_id=sub.id,
        defaults={
            "customer_stripe_id": sub.customer_id,
            "email": ending.email,
            "customer_name": ending.customer_name,
            "kind": ending.kind,
            "reason": ending.reason,
            "reason_detail": ending.reason_detail[:255],
            "price_stripe_id": sub.price_id,
            "plan_name": sub.plan_name,
            "quantity": sub.quantity,
            "amount_minor": sub.amount_minor,
            "currency": sub.currency,
            "interval": sub.interval,
            "interval_count": sub.interval_count,
            "mrr_minor": plan.monthly_minor,
            "customer_tz": ending.customer_tz,
            "test_clock": sub.test_clock,
            "ended_at": ending.ended_at,
            "state": ACTIVE,
        },
    )
    if campaign.steps:
        return campaign
    plan_steps(session, campaign, now=now)
    events.emit(
        session,
        workspace_id,
        "winback.campaign.started",
        subject=f"winback_campaign:{campaign.id}",
        data=facts(campaign),
        occurred_at=ending.ended_at,
    )
    log.info(
        "winback.started workspace=%s campaign=%s kind=%s reason=%s",
        workspace_id,
        campaign.id,
        campaign.kind,
        campaign.reason,
    )
    return campaign


def plan_steps(session: Session, campaign: WinbackCampaign, *, now: dt.datetime) -> None:
    """Write the touches of the workspace's sequence and the close after the last one's
    attribution window. An ending heard of late (an import, a delayed event) has its
    overdue touches written due now: the runner sends only the newest."""
    settings = settings_for(session, campaign.workspace_id)
    touches = policy.plan_touches(campaign.ended_at, campaign.customer_tz, delays_of(settings))
    at = clocks.now_of(session, campaign, now)
    for touch in touches:
        late = (
            "; already due when Backstop heard of the end, so sent at once" if touch.at < at else ""
        )
        session.add(
            WinbackStep(
                workspace_id=campaign.workspace_id,
                campaign=campaign,
                kind=EMAIL,
                number=touch.number,
                due_at=touch.at,
                test_clock=campaign.test_clock,
                reason=touch.reason + late,
            )
        )
    last = touches[-1].at
    session.add(
        WinbackStep(
            workspace_id=campaign.workspace_id,
            campaign=campaign,
            kind=CLOSE,
            number=0,
            due_at=policy.close_at(last, settings.attribution_days),
            test_clock=campaign.test_clock,
            reason=f"the end of the {settings.attribution_days}-day window after the last email",
        )
    )
    session.flush()


def facts(campaign: WinbackCampaign) -> dict[str, object]:
    """What every win-back event says of its campaign (plain values)."""
    return {
        "campaign_id": campaign.id,
        "customer": campaign.customer_stripe_id,
        "subscription": campaign.subscription_stripe_id,
        "kind": campaign.kind,
        "reason": campaign.reason,
        "mrr_minor": campaign.mrr_minor,
        "currency": campaign.currency,
    }


# -- closing ------------------------------------------------------------------------------------


def close(
    session: Session,
    campaign: WinbackCampaign,
    state: str,
    *,
    reason: str,
    at: dt.datetime,
) -> bool:
    """Close an active campaign and cancel what it still had planned; False when it was
    closed already (the first close wins)."""
    if not campaign.is_open:
        return False
    campaign.state = state
    campaign.close_reason = reason[:255]
    campaign.closed_at = at
    session.execute(
        update(WinbackStep)
        .where(WinbackStep.campaign_id == campaign.id, WinbackStep.status.in_(PENDING_STATES))
        .values(
            status="cancelled",
            outcome="cancelled",
            outcome_detail=f"campaign {state}: {reason}"[:500],
            lease_until=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    name = {WON: "reactivated", RETURNED: "returned", STOPPED: "stopped", ENDED: "ended"}[state]
    events.emit(
        session,
        campaign.workspace_id,
        f"winback.{name}",
        subject=f"winback_campaign:{campaign.id}",
        data={
            **facts(campaign),
            "reason_closed": campaign.close_reason,
            "won_via": campaign.won_via,
            "regained_mrr_minor": campaign.regained_mrr_minor,
            "regained_currency": campaign.regained_currency,
            "new_subscription": campaign.new_subscription_stripe_id,
        },
        occurred_at=at,
    )
    log.info(
        "winback.closed workspace=%s campaign=%s state=%s",
        campaign.workspace_id,
        campaign.id,
        state,
    )
    return True


def on_returned(
    session: Session,
    campaign: WinbackCampaign,
    subscription: SubscriptionFacts,
    *,
    via_link: bool,
    at: dt.datetime,
    link_step_id: int | None = None,
) -> bool:
    """The customer pays again (a new subscription, or the old one back): won when we
    can claim it, returned otherwise, with the MRR they pay now."""
    if not campaign.is_open:
        return False
    settings = settings_for(session, campaign.workspace_id)
    credit = policy.credit(
        via_link=via_link,
        returned_at=at,
        last_touch_at=campaign.last_touch_at,
        attribution_days=settings.attribution_days,
    )
    plan = Plan(
        subscription.plan_name or "",
        subscription.amount_minor,
        subscription.currency,
        subscription.interval,
        subscription.interval_count,
    )
    campaign.won_via = credit or "other"
    campaign.new_subscription_stripe_id = subscription.id
    campaign.regained_mrr_minor = plan.monthly_minor
    campaign.regained_currency = subscription.currency
    if credit == "link":
        campaign.won_step_id = link_step_id
    elif credit == "email":
        campaign.won_step_id = _last_sent_step(session, campaign)
    if credit is None:
        how = "before any email" if campaign.last_touch_at is None else "outside the window"
        return close(session, campaign, RETURNED, reason=f"came back on their own, {how}", at=at)
    why = "through the win-back link" if credit == "link" else "within the window after an email"
    return close(session, campaign, WON, reason=f"came back {why}", at=at)


def _last_sent_step(session: Session, campaign: WinbackCampaign) -> int | None:
    return session.execute(
        select(WinbackStep.id)
        .where(
            WinbackStep.campaign_id == campaign.id,
            WinbackStep.kind == EMAIL,
            WinbackStep.outcome == "sent",
        )
        .order_by(WinbackStep.executed_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def open_for_customer(
    session: Session, workspace_id: int, customer_id: str
) -> list[WinbackCampaign]:
    return list(
        session.execute(
            select(WinbackCampaign)
            .where(
                WinbackCampaign.workspace_id == workspace_id,
                WinbackCampaign.customer_stripe_id == customer_id,
                WinbackCampaign.state == ACTIVE,
            )
            .with_for_update()
        ).scalars()
    )


def stop_all(session: Session, workspace_id: int, reason: str, *, now: dt.datetime) -> int:
    """Stop every active campaign of the workspace (a pause, Stripe disconnected)."""
    return sum(
        close(session, c, STOPPED, reason=reason, at=now)
        for c in session.execute(
            select(WinbackCampaign).where(
                WinbackCampaign.workspace_id == workspace_id, WinbackCampaign.state == ACTIVE
            )
        ).scalars()
    )


def stop_for_email(
    session: Session, workspace_id: int, email: str, reason: str, *, now: dt.datetime
) -> int:
    """The address unsubscribed, bounced or complained: its campaigns stop now."""
    return sum(
        close(session, c, STOPPED, reason=reason, at=now)
        for c in session.execute(
            select(WinbackCampaign).where(
                WinbackCampaign.workspace_id == workspace_id,
                WinbackCampaign.email == normalise(email),
                WinbackCampaign.state == ACTIVE,
            )
        ).scalars()
    )
