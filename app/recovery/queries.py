"""Read-side queries for the merchant's recovery pages: campaigns by state, the money
recovered, one campaign's timeline, a customer's campaigns. Every query is scoped to a
workspace; plain values out, no Flask, ``now`` passed in.

A campaign on a Stripe test clock keeps its times in the clock's time; the 30-day
figures compare them with real time as they are (a clock runs ahead, never behind).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from ..schedule import kinds
from ..stripe import names
from ..stripe.models import MirrorCustomer, MirrorInvoice, MirrorSubscription, StripeTestClock
from ..times import aware
from . import config, holdout
from .models import (
    CAMPAIGN_STATES,
    IN_FLIGHT,
    PENDING,
    RECOVERED,
    RUNNING,
    Campaign,
    ChargeAttempt,
    RecoverySettings,
    Step,
)

RECENT = dt.timedelta(days=30)


@dataclass(frozen=True)
class Money:
    minor: int
    currency: str


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    customer_name: str | None
    """The mirrored customer's name or email; None when Stripe has not told us yet."""
    next_step: Step | None
    """The earliest planned step (a retry or the window's end) of an open campaign."""

    @property
    def next_title(self) -> str | None:
        return kinds.title_of(self.next_step) if self.next_step is not None else None


@dataclass(frozen=True)
class CampaignPage:
    rows: list[CampaignRow]
    page: int
    has_more: bool


@dataclass(frozen=True)
class Entry:
    """One line of a campaign's timeline: a step (done, planned or cancelled), a charge
    Stripe made itself, or the campaign's close."""

    at: dt.datetime
    kind: str
    """retry | email | window_end | pause_offer | stripe_attempt | offer_taken | holdout |
    closed"""
    status: str
    outcome: str | None = None
    outcome_detail: str | None = None
    reason: str | None = None
    is_automatic: bool = True
    touch: str | None = None
    title: str = ""
    """The entry as a heading in the merchant's words ("Second reminder email")."""

    @property
    def is_planned(self) -> bool:
        return self.status in (PENDING, RUNNING)


@dataclass(frozen=True)
class PauseState:
    reason: str | None
    """Why recovery may not act (the service's pause wins), or None."""
    workspace_paused: bool
    paused_by: str | None
    paused_at: dt.datetime | None


def counts(session: Session, workspace_id: int) -> dict[str, int]:
    """Campaigns per state, every state present (zero when none)."""
    found = dict(
        session.execute(
            select(Campaign.state, func.count())
            .where(Campaign.workspace_id == workspace_id)
            .group_by(Campaign.state)
        ).all()
    )
    return {state: int(found.get(state, 0)) for state in CAMPAIGN_STATES}


def campaigns(
    session: Session, workspace_id: int, state: str, *, page: int = 1, per_page: int = 50
) -> CampaignPage:
    """One page of the workspace's campaigns in ``state``, newest first."""
    page = max(page, 1)
    found = session.execute(
        select(Campaign, MirrorCustomer.name, MirrorCustomer.email)
        .outerjoin(
            MirrorCustomer,
            (MirrorCustomer.workspace_id == Campaign.workspace_id)
            & (MirrorCustomer.stripe_id == Campaign.customer_stripe_id),
        )
        .where(Campaign.workspace_id == workspace_id, Campaign.state == state)
        .order_by(Campaign.opened_at.desc(), Campaign.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    ).all()
    rows = found[:per_page]
    upcoming = _next_steps(session, workspace_id, [c.id for c, _, _ in rows if c.is_open])
    return CampaignPage(
        rows=[
            CampaignRow(campaign=c, customer_name=name or email, next_step=upcoming.get(c.id))
            for c, name, email in rows
        ],
        page=page,
        has_more=len(found) > per_page,
    )


def _next_steps(session: Session, workspace_id: int, campaign_ids: list[int]) -> dict[int, Step]:
    if not campaign_ids:
        return {}
    first: dict[int, Step] = {}
    for step in session.execute(
        select(Step)
        .where(
            Step.workspace_id == workspace_id,
            Step.campaign_id.in_(campaign_ids),
            Step.status == PENDING,
        )
        .order_by(Step.due_at, Step.id)
    ).scalars():
        first.setdefault(step.campaign_id, step)
    return first


def recovered_since(
    session: Session, workspace_id: int, *, now: dt.datetime, period: dt.timedelta = RECENT
) -> list[Money]:
    """The money recovered by campaigns closed as recovered in the ``period`` before
    ``now``, less what was refunded since, one sum per currency (never added across
    currencies)."""
    rows = session.execute(
        select(Campaign.currency, func.sum(Campaign.recovered_minor - Campaign.refunded_minor))
        .where(
            Campaign.workspace_id == workspace_id,
            Campaign.state == RECOVERED,
            Campaign.closed_at >= now - period,
        )
        .group_by(Campaign.currency)
        .order_by(Campaign.currency)
    ).all()
    return [Money(int(total or 0), currency) for currency, total in rows]


def open_amounts(session: Session, workspace_id: int) -> list[Money]:
    """What the in-flight campaigns are still trying to recover, one sum per currency."""
    rows = session.execute(
        select(Campaign.currency, func.sum(Campaign.amount_minor))
        .where(Campaign.workspace_id == workspace_id, Campaign.state == IN_FLIGHT)
        .group_by(Campaign.currency)
        .order_by(Campaign.currency)
    ).all()
    return [Money(int(total or 0), currency) for currency, total in rows]


def timeline(session: Session, campaign: Campaign) -> list[Entry]:
    """What the campaign did and will do, in time order: its steps (past, planned and
    cancelled, each with its reason), the charges Stripe made itself, and its close."""
    entries = [
        Entry(
            at=step.executed_at or step.due_at,
            kind=step.kind,
            status=step.status,
            outcome=step.outcome,
            outcome_detail=step.outcome_detail,
            reason=step.reason,
            is_automatic=step.is_automatic,
            touch=step.touch,
            title=kinds.title_of(step),
        )
        for step in session.execute(
            select(Step).where(
                Step.workspace_id == campaign.workspace_id, Step.campaign_id == campaign.id
            )
        ).scalars()
    ]
    for attempt in session.execute(
        select(ChargeAttempt).where(
            ChargeAttempt.workspace_id == campaign.workspace_id,
            ChargeAttempt.campaign_id == campaign.id,
            ChargeAttempt.source == "stripe",
        )
    ).scalars():
        entries.append(
            Entry(
                at=attempt.at,
                kind="stripe_attempt",
                status="done",
                title="Stripe charged the card",
                outcome="paid" if attempt.succeeded else "declined",
                outcome_detail=None
                if attempt.succeeded
                else (attempt.decline_code or attempt.failure_code),
            )
        )
    if campaign.is_holdout:
        entries.append(
            Entry(
                at=campaign.opened_at,
                kind="holdout",
                status="done",
                title="No action from Backstop",
                outcome_detail=holdout.reason(campaign.holdout_percent or 0),
            )
        )
    if campaign.offer_taken and campaign.offer_taken_at is not None:
        entries.append(
            Entry(
                at=campaign.offer_taken_at,
                kind="offer_taken",
                status="done",
                title="The customer took the offer",
                outcome="taken",
                outcome_detail=campaign.offer_taken,
            )
        )
    if campaign.closed_at is not None:
        entries.append(
            Entry(
                at=campaign.closed_at,
                kind="closed",
                status=campaign.state,
                outcome=campaign.attribution,
                outcome_detail=campaign.close_reason,
            )
        )
    # Stable within one instant: what happened, then what was planned, then the close.
    order = {
        "holdout": 0,
        "stripe_attempt": 0,
        "retry": 1,
        "offer_taken": 2,
        "window_end": 2,
        "closed": 3,
    }
    return sorted(entries, key=lambda e: (e.at, order.get(e.kind, 1)))


def customer_campaigns(session: Session, workspace_id: int, customer_id: str) -> list[Campaign]:
    return list(
        session.execute(
            select(Campaign)
            .where(
                Campaign.workspace_id == workspace_id, Campaign.customer_stripe_id == customer_id
            )
            .order_by(Campaign.opened_at.desc(), Campaign.id.desc())
        ).scalars()
    )


def stripe_retries_on(session: Session, workspace_id: int, *, now: dt.datetime) -> bool:
    """Whether Stripe's own automatic retries run for this account: an open campaign, or
    one opened in the last 30 days, saw Stripe plan its next attempt."""
    return bool(
        session.execute(
            select(
                exists().where(
                    Campaign.workspace_id == workspace_id,
                    Campaign.is_stripe_managed.is_(True),
                    or_(Campaign.state == IN_FLIGHT, Campaign.opened_at >= now - RECENT),
                )
            )
        ).scalar()
    )


def has_campaign(session: Session, workspace_id: int) -> bool:
    return bool(
        session.execute(select(exists().where(Campaign.workspace_id == workspace_id))).scalar()
    )


def pause_state(session: Session, workspace_id: int) -> PauseState:
    row = session.execute(
        select(RecoverySettings).where(RecoverySettings.workspace_id == workspace_id)
    ).scalar_one_or_none()
    paused = row if row is not None and row.is_paused else None
    return PauseState(
        reason=config.pause_reason(session, workspace_id),
        workspace_paused=paused is not None,
        paused_by=paused.paused_by if paused else None,
        paused_at=paused.paused_at if paused else None,
    )


@dataclass(frozen=True)
class CampaignFacts:
    """What the campaign page says about the invoice beyond the campaign row."""

    plan_name: str | None
    """The subscription's plan as the merchant named it in Stripe, when we know it."""
    test_clock_time: dt.datetime | None
    """The frozen time of the campaign's Stripe test clock, when it is on one."""


def campaign_facts(session: Session, campaign: Campaign) -> CampaignFacts:
    clock_time = None
    if campaign.test_clock:
        clock_time = session.execute(
            select(StripeTestClock.frozen_time).where(
                StripeTestClock.workspace_id == campaign.workspace_id,
                StripeTestClock.stripe_id == campaign.test_clock,
            )
        ).scalar_one_or_none()
    subscription = (
        _mirrored_data(session, MirrorSubscription, campaign, campaign.subscription_stripe_id)
        if campaign.subscription_stripe_id
        else None
    )
    invoice = _mirrored_data(session, MirrorInvoice, campaign, campaign.invoice_stripe_id)
    return CampaignFacts(
        plan_name=names.plan_name(subscription, invoice),
        test_clock_time=aware(clock_time) if clock_time is not None else None,
    )


def _mirrored_data(session: Session, model: Any, campaign: Campaign, stripe_id: str) -> Any:
    return session.execute(
        select(model.data).where(
            model.workspace_id == campaign.workspace_id, model.stripe_id == stripe_id
        )
    ).scalar_one_or_none()
