"""Checkout-recovery campaigns: opened when a subscription checkout expires with an
email, consent and a recovery URL (one per session), their touches written into the
schedule, closed when the customer completes a checkout for the same prices (credited
to us through the recovery link, or within the window after a touch), stopped at once
on an unsubscribe, a bounce, a complaint or the merchant's pause. Services flush, never
commit."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..events import services as events
from ..models import one_per
from ..outbox.services import normalise
from ..stripe import clocks
from ..stripe.checkout import CheckoutFacts
from . import policy
from .models import (
    ACTIVE,
    CLOSE,
    EMAIL,
    ENDED,
    RECOVERED,
    RETURNED,
    STOPPED,
    CheckoutRecoveryCampaign,
    CheckoutRecoveryStep,
)
from .settings import delays_of, settings_for

log = logging.getLogger("backstop.checkout_recovery")
PENDING_STATES = ("pending", "queued", "running")
Campaign = CheckoutRecoveryCampaign


def find(session: Session, workspace_id: int, session_id: str) -> Campaign | None:
    return session.execute(
        select(Campaign).where(
            Campaign.workspace_id == workspace_id, Campaign.session_stripe_id == session_id
        )
    ).scalar_one_or_none()


def start(
    session: Session,
    workspace_id: int,
    checkout: CheckoutFacts,
    *,
    email: str,
    name: str | None,
    consent: str,
    test_clock: str | None,
    expired_at: dt.datetime,
    now: dt.datetime,
) -> Campaign:
    """Open the campaign of an expired checkout and plan its touches (once: a second
    event for the same session finds it)."""
    campaign = one_per(
        session,
        Campaign,
        workspace_id=workspace_id,
        session_stripe_id=checkout.id,
        defaults={
            "customer_stripe_id": checkout.customer_id,
            "email": normalise(email),
            "customer_name": name,
            "consent": consent,
            "price_ids": checkout.price_ids,
            "plan_name": checkout.plan_name,
            "amount_minor": checkout.amount_minor,
            "currency": checkout.currency,
            "interval": checkout.interval,
            "interval_count": checkout.interval_count,
            "recovery_url": checkout.recovery_url or "",
            "recovery_expires_at": checkout.recovery_expires_at,
            "locale": checkout.locale,
            "test_clock": test_clock,
            "expired_at": expired_at,
            "state": ACTIVE,
        },
    )
    if campaign.steps:
        return campaign
    plan_steps(session, campaign, now=now)
    events.emit(
        session,
        workspace_id,
        "checkout.recovery.started",
        subject=f"checkout_recovery_campaign:{campaign.id}",
        data=facts(campaign),
        occurred_at=expired_at,
    )
    log.info("checkout_recovery.started workspace=%s campaign=%s", workspace_id, campaign.id)
    return campaign


def plan_steps(session: Session, campaign: Campaign, *, now: dt.datetime) -> None:
    """The touches of the workspace's sequence and the close after the last one's window.
    A touch already due when we heard of the expiry is written due now; the runner sends
    only the newest of those due together."""
    settings = settings_for(session, campaign.workspace_id)
    touches = policy.plan_touches(campaign.expired_at, delays_of(settings))
    at = clocks.now_of(session, campaign, now)
    for touch in touches:
        late = "; already due when Backstop heard of the expiry" if touch.at < at else ""
        session.add(
            CheckoutRecoveryStep(
                workspace_id=campaign.workspace_id,
                campaign=campaign,
                kind=EMAIL,
                number=touch.number,
                due_at=touch.at,
                test_clock=campaign.test_clock,
                reason=touch.reason + late,
            )
        )
    session.add(
        CheckoutRecoveryStep(
            workspace_id=campaign.workspace_id,
            campaign=campaign,
            kind=CLOSE,
            number=0,
            due_at=policy.close_at(touches[-1].at, settings.attribution_days),
            test_clock=campaign.test_clock,
            reason=f"the end of the {settings.attribution_days}-day window after the last reminder",
        )
    )
    session.flush()


def facts(campaign: Campaign) -> dict[str, object]:
    """What every checkout-recovery event says of its campaign (plain values)."""
    return {
        "campaign_id": campaign.id,
        "session": campaign.session_stripe_id,
        "customer": campaign.customer_stripe_id,
        "plan": campaign.plan_name,
        "amount_minor": campaign.amount_minor,
        "currency": campaign.currency,
    }


def close(
    session: Session, campaign: Campaign, state: str, *, reason: str, at: dt.datetime
) -> bool:
    """Close an active campaign and cancel what it still had planned; False when it was
    closed already (the first close wins)."""
    if not campaign.is_open:
        return False
    campaign.state = state
    campaign.close_reason = reason[:255]
    campaign.closed_at = at
    session.execute(
        update(CheckoutRecoveryStep)
        .where(
            CheckoutRecoveryStep.campaign_id == campaign.id,
            CheckoutRecoveryStep.status.in_(PENDING_STATES),
        )
        .values(
            status="cancelled",
            outcome="cancelled",
            outcome_detail=f"campaign {state}: {reason}"[:500],
            lease_until=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    events.emit(
        session,
        campaign.workspace_id,
        f"checkout.recovery.{state}",
        subject=f"checkout_recovery_campaign:{campaign.id}",
        data={
            **facts(campaign),
            "reason_closed": campaign.close_reason,
            "won_via": campaign.won_via,
            "completed_session": campaign.completed_session_stripe_id,
            "subscription": campaign.subscription_stripe_id,
        },
        occurred_at=at,
    )
    log.info(
        "checkout_recovery.closed workspace=%s campaign=%s state=%s",
        campaign.workspace_id,
        campaign.id,
        state,
    )
    return True


def on_completed(
    session: Session, campaign: Campaign, checkout: CheckoutFacts, *, at: dt.datetime
) -> bool:
    """The customer completed a checkout for the same prices: recovered when we can
    claim it, returned otherwise."""
    if not campaign.is_open:
        return False
    settings = settings_for(session, campaign.workspace_id)
    credit = policy.credit(
        via_link=checkout.recovered_from == campaign.session_stripe_id,
        completed_at=at,
        last_touch_at=campaign.last_touch_at,
        attribution_days=settings.attribution_days,
    )
    campaign.won_via = credit or "other"
    campaign.completed_session_stripe_id = checkout.id
    campaign.subscription_stripe_id = checkout.subscription_id
    if credit is not None:
        campaign.won_step_id = _last_sent_step(session, campaign)
        why = (
            "through the recovery link"
            if credit == "link"
            else "within the window after a reminder"
        )
        return close(session, campaign, RECOVERED, reason=f"subscribed {why}", at=at)
    how = "before any reminder" if campaign.last_touch_at is None else "outside the window"
    return close(session, campaign, RETURNED, reason=f"subscribed on their own, {how}", at=at)


def _last_sent_step(session: Session, campaign: Campaign) -> int | None:
    return session.execute(
        select(CheckoutRecoveryStep.id)
        .where(
            CheckoutRecoveryStep.campaign_id == campaign.id,
            CheckoutRecoveryStep.kind == EMAIL,
            CheckoutRecoveryStep.outcome == "sent",
        )
        .order_by(CheckoutRecoveryStep.executed_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def open_matching(
    session: Session, workspace_id: int, checkout: CheckoutFacts, email: str | None
) -> list[Campaign]:
    """The open campaigns a completed checkout ends: same prices, same person."""
    found = session.execute(
        select(Campaign)
        .where(Campaign.workspace_id == workspace_id, Campaign.state == ACTIVE)
        .where(
            (Campaign.email == normalise(email or ""))
            | (Campaign.customer_stripe_id == (checkout.customer_id or ""))
        )
        .with_for_update()
    ).scalars()
    return [
        c
        for c in found
        if c.session_stripe_id != checkout.id
        and policy.same_purchase(
            c.price_ids,
            c.email,
            c.customer_stripe_id,
            prices=checkout.price_ids,
            email=normalise(email) if email else None,
            customer=checkout.customer_id,
        )
    ]


def stop_all(session: Session, workspace_id: int, reason: str, *, now: dt.datetime) -> int:
    """Stop every active campaign of the workspace (a pause, Stripe disconnected)."""
    return sum(
        close(session, c, STOPPED, reason=reason, at=now)
        for c in session.execute(
            select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.state == ACTIVE)
        ).scalars()
    )


def stop_where(
    session: Session, workspace_id: int, reason: str, *, now: dt.datetime, **match: str
) -> int:
    """Stop the active campaigns of one address or customer (unsubscribed, bounced,
    deleted)."""
    query = select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.state == ACTIVE)
    if "email" in match:
        query = query.where(Campaign.email == normalise(match["email"]))
    if "customer" in match:
        query = query.where(Campaign.customer_stripe_id == match["customer"])
    return sum(
        close(session, c, STOPPED, reason=reason, at=now) for c in session.execute(query).scalars()
    )


__all__ = ["ENDED", "RECOVERED", "RETURNED", "STOPPED", "Campaign"]
