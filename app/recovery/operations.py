"""What staff and on-call do to campaigns by hand: retry one now, stop one, and reconcile
a workspace's open campaigns with Stripe. Services flush, never commit.

Nothing here charges or bypasses a cap: a staff retry is an ordinary automatic step,
swept like the others, and the runner checks every cap when it runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..stripe import billing, clocks
from ..stripe.client import StripeError
from ..stripe.models import StripeConnection
from . import campaigns, closing, config, planning, runner
from .models import ABANDONED, LOST, PENDING, RECOVERED, RETRY, RUNNING, Campaign, Step

log = logging.getLogger("backstop.recovery")

#: Statuses of a retry that is on its way: claimed by the sweeper, or running.
ON_ITS_WAY = ("queued", "running")
#: Invoice statuses that end a campaign (see :func:`closing.settle`).
SETTLED_INVOICE_STATUSES = frozenset({"paid", "void", "uncollectible"})


class OperationRefused(Exception):
    """A staff operation that does not apply to this campaign now; the message says why
    (shown to staff as is). Nothing was changed."""


# -- retry now and stop -------------------------------------------------------------------------


def retry_now(session: Session, campaign: Campaign, *, actor: str, now: dt.datetime) -> Step:
    """Add a retry due now (in the campaign's clock time), counted as automatic: it uses
    one of the campaign's automatic retries and the runner re-checks every cap."""
    campaigns.lock(session, campaign)
    if not campaign.is_open:
        raise OperationRefused(
            f"Campaign #{campaign.id} is {campaign.state}: there is nothing to retry."
        )
    at = clocks.now_of(session, campaign, now)
    busy = session.execute(
        select(Step)
        .where(
            Step.workspace_id == campaign.workspace_id,
            Step.campaign_id == campaign.id,
            Step.kind == RETRY,
            Step.status.in_(ON_ITS_WAY) | ((Step.status == PENDING) & (Step.due_at <= at)),
        )
        .order_by(Step.id)
        .limit(1)
    ).scalar_one_or_none()
    if busy is not None:
        raise OperationRefused(
            f"Campaign #{campaign.id} already has a retry {_on_its_way(busy)} "
            f"(step #{busy.id}); wait for its outcome."
        )
    if campaign.is_stripe_managed:
        raise OperationRefused(
            f"Stripe's own retries are on for campaign #{campaign.id}: Backstop adds none."
        )
    if campaign.is_holdout:
        raise OperationRefused(
            f"Campaign #{campaign.id} is held out to measure the lift: Backstop adds no retry."
        )
    paused = config.pause_reason(session, campaign.workspace_id, campaign)
    if paused:
        raise OperationRefused(f"Campaign #{campaign.id} cannot retry: {paused}.")
    cap = config.policy_for(session, campaign.workspace_id).max_auto_retries
    if campaign.auto_retries >= cap:
        raise OperationRefused(
            f"Campaign #{campaign.id} made {campaign.auto_retries} automatic retries, the "
            f"most it may make is {cap}; only a card update can trigger another."
        )
    step = planning.add_step(session, campaign, RETRY, at, f"staff retry by {actor}")
    session.flush()
    log.info(
        "recovery.staff_retry workspace=%s campaign=%s step=%s actor=%s",
        campaign.workspace_id,
        campaign.id,
        step.id,
        actor,
    )
    return step


def charge_now(
    session: Session,
    connection: StripeConnection,
    campaign: Campaign,
    *,
    reason: str,
    now: dt.datetime,
) -> Step:
    """Charge the invoice at once because the customer acted (a new card on the hosted
    page): a retry step that is not automatic, run here and now through the runner, so
    every cap is checked at this moment. Returns the step with its outcome."""
    at = clocks.now_of(session, campaign, now)
    step = planning.add_step(session, campaign, RETRY, at, reason, automatic=False)
    step.status = RUNNING
    session.flush()
    if runner.prepare(session, connection, step, now=now) == runner.CHARGE:
        runner.charge(session, connection, step, now=now)
    return step


def _on_its_way(step: Step) -> str:
    return "due now" if step.status == PENDING else step.status


def stop(
    session: Session, campaign: Campaign, *, actor: str, now: dt.datetime, reason: str
) -> None:
    """Close the campaign as abandoned and cancel what it still had planned."""
    campaigns.lock(session, campaign)
    if not campaign.is_open:
        raise OperationRefused(f"Campaign #{campaign.id} is already {campaign.state}.")
    why = " ".join(reason.split()) or "no reason given"
    closing.close(
        session,
        campaign,
        ABANDONED,
        reason=f"stopped by staff: {why} ({actor})",
        at=clocks.now_of(session, campaign, now),
    )
    session.flush()
    log.info(
        "recovery.staff_stop workspace=%s campaign=%s actor=%s",
        campaign.workspace_id,
        campaign.id,
        actor,
    )


# -- reconcile with Stripe ----------------------------------------------------------------------


@dataclass
class ReconcileSummary:
    """How many open campaigns reconcile looked at, and what became of them."""

    checked: int = 0
    recovered: int = 0
    abandoned: int = 0
    lost: int = 0
    unchanged: int = 0
    errors: int = 0

    def add(self, outcome: str, count: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + count)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def closed(self) -> int:
        return self.recovered + self.abandoned + self.lost

    def __str__(self) -> str:
        return ", ".join(f"{value} {name}" for name, value in self.as_dict().items())


#: Wraps the list of open campaigns as it is walked (the CLI's progress bar).
Progress = Callable[[list[Campaign]], contextlib.AbstractContextManager[Iterable[Campaign]]]


def reconcile(
    session: Session,
    connection: StripeConnection,
    *,
    now: dt.datetime,
    progress: Progress | None = None,
) -> ReconcileSummary:
    """Re-read the invoice (and subscription) of every open campaign of the connection's
    workspace from Stripe and close those Stripe has already ended: for the events we
    missed. Idempotent: a second run finds nothing left to close."""
    if not connection.is_connected:
        raise OperationRefused("The workspace is not connected to Stripe: nothing to reconcile.")
    summary = ReconcileSummary()
    found = campaigns.open_campaigns(session, connection.workspace_id)
    wrap = progress or contextlib.nullcontext
    with wrap(found) as items:
        for campaign in items:
            summary.checked += 1
            if not campaign.is_open:  # closed with an earlier one of its subscription
                continue
            try:
                outcome, count = _reconcile_one(session, connection, campaign, now=now)
            except StripeError as exc:
                log.warning(
                    "recovery.reconcile.failed workspace=%s campaign=%s error=%s",
                    campaign.workspace_id,
                    campaign.id,
                    exc,
                )
                outcome, count = "errors", 1
            summary.add(outcome, count)
    session.flush()
    log.info(
        "recovery.reconciled workspace=%s %s",
        connection.workspace_id,
        " ".join(f"{k}={v}" for k, v in summary.as_dict().items()),
    )
    return summary


def _reconcile_one(
    session: Session, connection: StripeConnection, campaign: Campaign, *, now: dt.datetime
) -> tuple[str, int]:
    invoice = billing.read_invoice(connection, campaign.invoice_stripe_id)
    if invoice.status in SETTLED_INVOICE_STATUSES:
        if invoice.status == "paid":  # record the charge that paid it, as invoice.paid does
            campaigns.sync_attempts(session, campaign, billing.list_charges(connection, invoice))
        if closing.settle(session, campaign, invoice, now=now):
            return _outcome(campaign), 1
        return "unchanged", 1
    if campaign.subscription_stripe_id:
        subscription = billing.read_subscription(connection, campaign.subscription_stripe_id)
        if subscription.status == "canceled":
            closed = closing.on_subscription_ended(
                session,
                campaign.workspace_id,
                subscription.id,
                subscription.cancellation_reason,
                now=now,
            )
            if closed:
                return _outcome(campaign), closed
    return "unchanged", 1


def _outcome(campaign: Campaign) -> str:
    return {RECOVERED: "recovered", ABANDONED: "abandoned", LOST: "lost"}[campaign.state]
