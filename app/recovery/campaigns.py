"""Campaigns: opened by a failed renewal, fed by every attempt, closed by payment, by the
merchant, by the window or by disconnection (DESIGN §6). Services flush, never commit.

Every function takes ``now`` (real time); a campaign on a Stripe test clock lives in the
clock's time (:func:`campaign_now`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..events import services as events
from ..schedule import kinds
from ..stripe import clocks
from ..stripe.billing import Charge, InvoiceFacts
from ..times import aware
from . import closing, config, high_value, holdout, planning
from .cadence import pick_timezone, retry_after_card_change
from .classifying import apply_failure
from .declines import DeclineClass
from .models import (
    EMAIL,
    IN_FLIGHT,
    RETRY,
    Campaign,
    ChargeAttempt,
    Step,
)
from .policy import CAMPAIGN_WINDOW

log = logging.getLogger("backstop.recovery")


def lock(session: Session, campaign: Campaign) -> None:
    """Hold the campaign's row until the commit, so that two of its steps deciding at
    the same moment take turns: ``FOR UPDATE`` on PostgreSQL; on SQLite a write, which
    takes the database's one write lock."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(campaign, with_for_update=True)
        return
    session.execute(update(Campaign).where(Campaign.id == campaign.id).values(id=Campaign.id))
    session.refresh(campaign)


def find(session: Session, workspace_id: int, invoice_id: str) -> Campaign | None:
    return session.execute(
        select(Campaign).where(
            Campaign.workspace_id == workspace_id, Campaign.invoice_stripe_id == invoice_id
        )
    ).scalar_one_or_none()


def open_campaigns(session: Session, workspace_id: int, customer_id: str | None = None):
    query = select(Campaign).where(
        Campaign.workspace_id == workspace_id, Campaign.state == IN_FLIGHT
    )
    if customer_id is not None:
        query = query.where(Campaign.customer_stripe_id == customer_id)
    return list(session.execute(query.order_by(Campaign.id)).scalars())


# -- a payment failed ---------------------------------------------------------------------------


def on_payment_failed(
    session: Session,
    workspace: Workspace,
    invoice: InvoiceFacts,
    charges: Iterable[Charge],
    *,
    now: dt.datetime,
    customer_tz: str | None = None,
) -> Campaign | None:
    """Open (or update) the campaign of a failed subscription invoice, re-read from
    Stripe: record the attempts, classify the latest decline, plan what follows."""
    if invoice.subscription_id is None:
        return None  # one-off invoices are not renewals
    campaign = find(session, workspace.id, invoice.id)
    charges = list(charges)
    if invoice.status != "open":  # paid or closed since: count what happened, then settle
        if campaign is not None:
            sync_attempts(session, campaign, charges)
            closing.settle(session, campaign, invoice, now=now)
        return campaign
    clock_now = clocks.now_for(session, workspace.id, invoice.test_clock, now)
    failure = invoice.failure
    failed_at = (failure.at if failure and failure.at else None) or clock_now
    opened = False
    if campaign is None:
        campaign = _open(session, workspace, invoice, failed_at, customer_tz)
        opened = campaign is not None
        if campaign is None:  # another worker opened it a moment ago
            campaign = find(session, workspace.id, invoice.id)
            assert campaign is not None
    if not campaign.is_open:
        return campaign
    changed = False
    if failure is not None and failed_at >= aware(campaign.last_failure_at):
        changed = apply_failure(session, campaign, failure, failed_at)
    if opened:  # once the decline is classified: the event says which it was
        events.emit(
            session,
            workspace.id,
            "recovery.campaign.started",
            subject=f"campaign:{campaign.id}",
            data=closing.campaign_facts(campaign),
            occurred_at=campaign.opened_at,
        )
        high_value.flag(session, workspace, campaign)  # before its touches are planned
    sync_attempts(session, campaign, charges)
    policy = config.policy_for(session, workspace.id)
    if invoice.is_stripe_retrying and not campaign.is_stripe_managed:
        campaign.is_stripe_managed = True
        planning.cancel_pending(
            session,
            campaign,
            "Stripe's own retries are on for this invoice: Backstop adds none of its own",
        )
    if changed:
        planning.cancel_pending(session, campaign, f"the decline is now {campaign.decline_class}")
    paused = config.pause_reason(session, workspace.id, campaign)
    if changed or not planning.pending(session, campaign):
        planning.replan(session, campaign, now=clock_now, policy=policy, paused=paused)
    if opened and not paused:
        late = "the failure was seen only now" if failed_at < clock_now - SEEN_LATE else None
        plan_kinds(session, campaign, now=clock_now, late=late)
    session.flush()
    return campaign


#: A failure older than this when first seen (an import, a worker down) is "seen late".
SEEN_LATE = dt.timedelta(hours=1)


def plan_kinds(
    session: Session, campaign: Campaign, *, now: dt.datetime, late: str | None
) -> list[Step]:
    """Let every step kind a feature declared plan its steps for an open campaign (the
    email touches); nothing for a failure older than the window (an import: the campaign
    is shown, its customer is not written to), nor for a held-out campaign."""
    if aware(campaign.window_ends_at) <= now or campaign.is_holdout:
        return []
    return [
        step for plan in kinds.planners() for step in plan(session, campaign, now=now, late=late)
    ]


def _open(
    session: Session,
    workspace: Workspace,
    invoice: InvoiceFacts,
    failed_at: dt.datetime,
    customer_tz: str | None,
) -> Campaign | None:
    failure = invoice.failure
    # Drawn once, when the campaign opens, with the share in force then (kept on the row).
    percent, salt = config.holdout_of(session, workspace.id)
    held_out = holdout.is_held_out(salt, invoice.id, percent)
    campaign = Campaign(
        workspace_id=workspace.id,
        invoice_stripe_id=invoice.id,
        customer_stripe_id=invoice.customer_id,
        subscription_stripe_id=invoice.subscription_id,
        test_clock=invoice.test_clock,
        amount_minor=invoice.amount_due_minor,
        currency=invoice.currency,
        decline_class=str(DeclineClass.SCHEDULED),
        customer_tz=pick_timezone(customer_tz, workspace.timezone),
        is_stripe_managed=invoice.is_stripe_retrying,
        is_holdout=held_out,
        holdout_percent=percent or None,
        state=IN_FLIGHT,
        auto_retries=0,
        opened_at=failed_at,
        last_failure_at=failed_at,
        window_ends_at=failed_at + CAMPAIGN_WINDOW,
        card_brand=failure.card.brand if failure else None,
        card_fingerprint=failure.card.fingerprint if failure else None,
        payment_method_id=failure.card.payment_method_id if failure else None,
    )
    try:
        with session.begin_nested():
            session.add(campaign)
            session.flush()
    except IntegrityError:
        return None
    planning.add_window_end(session, campaign)
    log.info(
        "recovery.campaign.opened workspace=%s campaign=%s invoice=%s holdout=%s",
        workspace.id,
        campaign.id,
        invoice.id,
        held_out,
    )
    return campaign


def sync_attempts(
    session: Session,
    campaign: Campaign,
    charges: Iterable[Charge],
    *,
    ours: dict[str, Step] | None = None,
) -> None:
    """Record every charge on the invoice once (by charge id); ``ours`` maps the charge
    ids our steps made, which are recorded (or re-labelled) as Backstop's."""
    ours = ours or {}
    known = {
        a.charge_stripe_id: a
        for a in session.execute(
            select(ChargeAttempt).where(
                ChargeAttempt.workspace_id == campaign.workspace_id,
                ChargeAttempt.invoice_stripe_id == campaign.invoice_stripe_id,
            )
        ).scalars()
    }
    for charge in charges:
        step = ours.get(charge.id)
        row = known.get(charge.id)
        if row is None:
            row = ChargeAttempt(
                workspace_id=campaign.workspace_id,
                campaign_id=campaign.id,
                invoice_stripe_id=campaign.invoice_stripe_id,
                charge_stripe_id=charge.id,
                at=charge.at,
                source="stripe",
                succeeded=charge.succeeded,
                card_brand=charge.card.brand,
                card_fingerprint=charge.card.fingerprint,
                decline_code=charge.decline_code,
                failure_code=charge.failure_code,
                advice_code=charge.advice_code,
                network_advice_code=charge.network_advice_code,
            )
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:  # a concurrent worker recorded it
                row = session.execute(
                    select(ChargeAttempt).where(
                        ChargeAttempt.workspace_id == campaign.workspace_id,
                        ChargeAttempt.charge_stripe_id == charge.id,
                    )
                ).scalar_one()
            else:
                _attempt_event(session, campaign, charge)
            known[charge.id] = row
        if step is not None:
            row.source = "backstop"
            row.step_id = step.id
    session.flush()


def _attempt_event(session: Session, campaign: Campaign, charge: Charge) -> None:
    events.emit(
        session,
        campaign.workspace_id,
        "recovery.attempt.succeeded" if charge.succeeded else "recovery.attempt.failed",
        subject=f"campaign:{campaign.id}",
        data={
            "campaign_id": campaign.id,
            "invoice": campaign.invoice_stripe_id,
            "charge": charge.id,
            "decline_code": charge.decline_code or charge.failure_code,
        },
        occurred_at=charge.at,
    )


# -- the card changed -------------------------------------------------------------------------


def on_card_changed(
    session: Session,
    workspace_id: int,
    customer_id: str,
    changed_at: dt.datetime,
    *,
    now: dt.datetime,
) -> list[Step]:
    """The customer's payment method changed (a new default, Stripe's card updater):
    plan one polite retry 24 h later on each open campaign that has none planned."""
    if config.pause_reason(session, workspace_id):
        return []
    planned = []
    for campaign in open_campaigns(session, workspace_id, customer_id):
        if campaign.is_paused or campaign.is_stripe_managed or campaign.is_holdout:
            continue
        if planning.pending(session, campaign):
            continue
        retry = retry_after_card_change(
            changed_at,
            last_failure_at=campaign.last_failure_at,
            tz=campaign.customer_tz,
            now=clocks.now_of(session, campaign, now),
        )
        if retry is None or retry.at >= aware(campaign.window_ends_at):
            continue
        planned.append(
            planning.add_step(session, campaign, RETRY, retry.at, retry.reason, automatic=False)
        )
    session.flush()
    return planned


# -- pause and resume -------------------------------------------------------------------------


def pause(session: Session, workspace_id: int | None, *, actor: str, now: dt.datetime) -> int:
    """Stop recovery for a workspace (or the whole service): planned retries are cancelled
    now; campaigns stay open and payments still close them."""
    config.set_paused(session, workspace_id, True, actor=actor, now=now)
    query = select(Campaign).where(Campaign.state == IN_FLIGHT)
    if workspace_id is not None:
        query = query.where(Campaign.workspace_id == workspace_id)
    # The retries and every message to the customer (the touches, the pause offer).
    stopped = (RETRY, EMAIL, *(k.name for k in kinds.registered() if k.is_customer_message))
    return sum(
        planning.cancel_pending(session, c, f"recovery paused by {actor}", kinds=stopped)
        for c in session.execute(query).scalars()
    )


def resume(session: Session, workspace_id: int | None, *, actor: str, now: dt.datetime) -> int:
    """Resume, and plan anew (from now) for every open campaign that may act again."""
    config.set_paused(session, workspace_id, False, actor=actor, now=now)
    query = select(Campaign).where(Campaign.state == IN_FLIGHT)
    if workspace_id is not None:
        query = query.where(Campaign.workspace_id == workspace_id)
    planned = 0
    for campaign in session.execute(query).scalars():
        paused = config.pause_reason(session, campaign.workspace_id, campaign)
        at = clocks.now_of(session, campaign, now)
        planned += len(
            planning.replan(
                session,
                campaign,
                now=at,
                policy=config.policy_for(session, campaign.workspace_id),
                paused=paused,
            )
        )
        if not paused:
            planned += len(plan_kinds(session, campaign, now=at, late="recovery resumed"))
    return planned
