"""Turning the pure plan into rows of the schedule: write, replace and cancel steps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..stripe import mirror
from . import holdout
from .cadence import PlannedRetry, plan_retries
from .declines import DeclineClass
from .models import CANCELLED, PENDING, RETRY, WINDOW_END, Campaign, Step
from .policy import Policy


def add_step(
    session: Session,
    campaign: Campaign,
    kind: str,
    due_at: dt.datetime,
    reason: str,
    *,
    automatic: bool = True,
) -> Step:
    step = Step(
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        kind=kind,
        due_at=due_at,
        test_clock=campaign.test_clock,
        status=PENDING,
        is_automatic=automatic,
        reason=reason[:500],
    )
    session.add(step)
    return step


def add_window_end(session: Session, campaign: Campaign) -> Step:
    return add_step(
        session,
        campaign,
        WINDOW_END,
        campaign.window_ends_at,
        "the 30-day recovery window ends: an invoice still unpaid then is lost",
    )


def pending(session: Session, campaign: Campaign, kind: str = RETRY) -> list[Step]:
    return list(
        session.execute(
            select(Step)
            .where(Step.campaign_id == campaign.id, Step.kind == kind, Step.status == PENDING)
            .order_by(Step.due_at)
        ).scalars()
    )


def pending_ids(session: Session, campaign: Campaign) -> list[int]:
    """The campaign's planned steps of every kind."""
    return list(
        session.execute(
            select(Step.id).where(Step.campaign_id == campaign.id, Step.status == PENDING)
        ).scalars()
    )


def cancel_pending(
    session: Session,
    campaign: Campaign,
    reason: str,
    *,
    kinds: tuple[str, ...] | None = (RETRY,),
) -> int:
    """Cancel the campaign's steps of ``kinds`` (None: of every kind) that have not
    started, saying why (a claimed step checks the campaign again when it runs)."""
    which = [Step.kind.in_(kinds)] if kinds is not None else []
    result = session.execute(
        update(Step)
        .where(Step.campaign_id == campaign.id, Step.status == PENDING, *which)
        .values(status=CANCELLED, outcome="cancelled", outcome_detail=reason[:500])
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return result.rowcount


def replan(
    session: Session,
    campaign: Campaign,
    *,
    now: dt.datetime,
    policy: Policy,
    paused: str | None,
) -> list[Step]:
    """Replace the campaign's planned automatic retries with a fresh plan from its last
    failure. Nothing is planned for a closed, paused, held-out or Stripe-managed
    campaign, nor for a class that gets no blind retries."""
    planned = [s for s in pending(session, campaign) if s.is_automatic]
    plan: list[PlannedRetry] = []
    acts = not (campaign.is_stripe_managed or campaign.is_holdout)
    if campaign.is_open and acts and not paused:
        plan = plan_retries(
            campaign.last_failure_at,
            DeclineClass(campaign.decline_class),
            campaign.decline_code or campaign.failure_code,
            tz=campaign.customer_tz,
            attempts_so_far=campaign.auto_retries,
            payday_history=mirror.paid_at_history(
                session, campaign.workspace_id, campaign.customer_stripe_id
            ),
            policy=policy,
            now=now,
            window_ends_at=campaign.window_ends_at,
        )
    # Keep the planned rows the new plan confirms (usually all: each retry ran when
    # planned), cancel the others saying why, and write what is new.
    kept = {(s.due_at, s.reason): s for s in planned}
    steps = []
    for retry in plan:
        step = kept.pop((retry.at, retry.reason[:500]), None)
        steps.append(step or _write(session, campaign, retry))
    why = (
        paused
        or (not campaign.is_open and f"the campaign is {campaign.state}")
        or (campaign.is_holdout and holdout.reason(campaign.holdout_percent or 0))
        or (campaign.is_stripe_managed and "Stripe's own retries are on for this invoice")
        or "replaced by a new plan after the last attempt"
    )
    for step in kept.values():
        step.status = CANCELLED
        step.outcome = "cancelled"
        step.outcome_detail = why
    session.flush()
    return [s for s in steps if s not in planned]


def _write(session: Session, campaign: Campaign, retry: PlannedRetry) -> Step:
    return add_step(session, campaign, RETRY, retry.at, retry.reason, automatic=retry.automatic)
