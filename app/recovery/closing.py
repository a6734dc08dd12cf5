"""Closing campaigns: recovered (and by whom), lost, abandoned (DESIGN §6). The first
close wins; what the campaign still had planned is cancelled with the reason."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events import services as events
from ..schedule import kinds
from ..stripe import clocks
from ..stripe.billing import InvoiceFacts
from . import planning
from .models import (
    ABANDONED,
    IN_FLIGHT,
    LOST,
    RECOVERED,
    RETRY,
    WINDOW_END,
    Campaign,
    ChargeAttempt,
    Step,
)

log = logging.getLogger("backstop.recovery")


def close(
    session: Session,
    campaign: Campaign,
    state: str,
    *,
    reason: str,
    at: dt.datetime,
    attribution: str | None = None,
    paid_minor: int | None = None,
) -> bool:
    """Close an open campaign and cancel what it still had planned; False if it was
    already closed (the first close wins). A recovered campaign counts what was paid
    (``paid_minor``, when Stripe says), which a credit note may have made less than the
    amount that failed."""
    if not campaign.is_open:
        return False
    campaign.state = state
    campaign.close_reason = reason[:255]
    campaign.closed_at = at
    if state == RECOVERED:
        campaign.attribution = attribution
        campaign.recovered_minor = recovered_amount(campaign.amount_minor, paid_minor)
    # Every kind: the retries, the window's end and whatever features above planned.
    planning.cancel_pending(session, campaign, f"campaign {state}: {reason}", kinds=None)
    events.emit(
        session,
        campaign.workspace_id,
        f"recovery.campaign.{state}",
        subject=f"campaign:{campaign.id}",
        data={
            **campaign_facts(campaign),
            "reason": campaign.close_reason,
            "attribution": campaign.attribution,
            "recovered_minor": campaign.recovered_minor,
        },
        occurred_at=at,
    )
    log.info(
        "recovery.campaign.closed workspace=%s campaign=%s state=%s attribution=%s",
        campaign.workspace_id,
        campaign.id,
        state,
        attribution,
    )
    return True


def recovered_amount(failed_minor: int, paid_minor: int | None) -> int:
    """What a recovery brought in: what was paid, never more than what had failed (the
    rest of a larger payment settled something else), and the failed amount when Stripe
    does not say."""
    if paid_minor is None or paid_minor < 0:
        return failed_minor
    return min(paid_minor, failed_minor)


def campaign_facts(campaign: Campaign) -> dict[str, object]:
    """What every recovery event says of its campaign (plain values)."""
    return {
        "campaign_id": campaign.id,
        "invoice": campaign.invoice_stripe_id,
        "customer": campaign.customer_stripe_id,
        "subscription": campaign.subscription_stripe_id,
        "amount_minor": campaign.amount_minor,
        "currency": campaign.currency,
        "decline_class": campaign.decline_class,
        "decline_code": campaign.decline_code or campaign.failure_code,
        "is_holdout": bool(campaign.is_holdout),
        "holdout_percent": campaign.holdout_percent,
    }


def settle(
    session: Session, campaign: Campaign, invoice: InvoiceFacts, *, now: dt.datetime
) -> bool:
    """Close the campaign to match an invoice that is no longer open."""
    at = clocks.now_of(session, campaign, now)
    if invoice.status == "paid":
        return close(
            session,
            campaign,
            RECOVERED,
            reason="the invoice was paid",
            at=invoice.paid_at or at,
            attribution=attribution_for(session, campaign, invoice),
            paid_minor=invoice.amount_paid_minor,
        )
    if invoice.status == "void":
        return close(session, campaign, ABANDONED, reason="the merchant voided the invoice", at=at)
    if invoice.status == "uncollectible":
        return close(
            session, campaign, ABANDONED, reason="the invoice was marked uncollectible", at=at
        )
    return False


def attribution_for(session: Session, campaign: Campaign, invoice: InvoiceFacts) -> str:
    """Who got the money back: our step whose charge paid it, Stripe's own retries, or
    the customer (hosted invoice page, another channel)."""
    paid_by = session.execute(
        select(ChargeAttempt).where(
            ChargeAttempt.workspace_id == campaign.workspace_id,
            ChargeAttempt.invoice_stripe_id == campaign.invoice_stripe_id,
            ChargeAttempt.succeeded.is_(True),
        )
    ).scalar_one_or_none()
    if paid_by is None:
        return "customer_paid"  # paid outside Stripe's charges (out of band)
    step = session.get(Step, paid_by.step_id) if paid_by.step_id is not None else None
    if step is None:
        # Our runner may not have labelled its charge yet: the attempt number it set
        # before charging says whose charge this was.
        step = session.execute(
            select(Step).where(
                Step.campaign_id == campaign.id,
                Step.kind == RETRY,
                Step.attempt_number == invoice.attempt_count,
            )
        ).scalar_one_or_none()
    if step is None:
        step = _confirmed_step(session, campaign, paid_by)
    if step is not None:
        return "retry" if step.is_automatic else "card_update"
    if campaign.is_stripe_managed:
        return "stripe_retry"
    return "customer_paid"


def _confirmed_step(session: Session, campaign: Campaign, paid: ChargeAttempt) -> Step | None:
    """A payment the customer's bank confirmed (3-D Secure) completes the attempt that
    asked for it: when the charge just before the paying one was ours and declined for
    authentication, that step gets the credit."""
    previous = session.execute(
        select(ChargeAttempt)
        .where(
            ChargeAttempt.workspace_id == campaign.workspace_id,
            ChargeAttempt.invoice_stripe_id == campaign.invoice_stripe_id,
            ChargeAttempt.id != paid.id,
            ChargeAttempt.at <= paid.at,
        )
        .order_by(ChargeAttempt.at.desc(), ChargeAttempt.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if previous is None or previous.step_id is None or previous.succeeded:
        return None
    if "authentication_required" not in (previous.decline_code, previous.failure_code):
        return None
    return session.get(Step, previous.step_id)


def on_subscription_ended(
    session: Session,
    workspace_id: int,
    subscription_id: str,
    reason: str | None,
    *,
    now: dt.datetime,
) -> int:
    """Canceled for non-payment: lost; canceled by hand (merchant or customer): abandoned."""
    closed = 0
    for campaign in session.execute(
        select(Campaign).where(
            Campaign.workspace_id == workspace_id,
            Campaign.subscription_stripe_id == subscription_id,
            Campaign.state == IN_FLIGHT,
        )
    ).scalars():
        at = clocks.now_of(session, campaign, now)
        if reason == "payment_failed":
            closed += close(
                session,
                campaign,
                LOST,
                reason="Stripe canceled the subscription for non-payment",
                at=at,
            )
        else:
            closed += close(
                session, campaign, ABANDONED, reason="the subscription was canceled", at=at
            )
    return closed


def end_window(session: Session, campaign: Campaign, *, now: dt.datetime) -> bool:
    return close(
        session,
        campaign,
        LOST,
        reason="30 days passed without payment",
        at=clocks.now_of(session, campaign, now),
    )


def decide_window_end(
    session: Session, connection: object, step: Step, *, now: dt.datetime, at: dt.datetime
) -> kinds.Done:
    """The window-end step: a campaign still open then is lost (Stripe is not asked)."""
    end_window(session, step.campaign, now=now)
    return kinds.Done("closed", "the window ended: campaign lost")


WINDOW_END_KIND = kinds.StepKind(
    name=WINDOW_END,
    decide=decide_window_end,
    label=lambda step: "the end of the 30-day window",
    needs_stripe=False,
)


def abandon_all(session: Session, workspace_id: int, reason: str, *, now: dt.datetime) -> int:
    """Close every open campaign of the workspace (Stripe disconnected)."""
    return sum(
        close(session, c, ABANDONED, reason=reason, at=clocks.now_of(session, c, now))
        for c in session.execute(
            select(Campaign).where(
                Campaign.workspace_id == workspace_id, Campaign.state == IN_FLIGHT
            )
        ).scalars()
    )
