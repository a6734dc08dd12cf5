"""Running a due step of a campaign: re-check the campaign at that moment, let the
catch-up rules decide whether this step is still the one to run, then hand it to its
kind (:mod:`app.schedule.kinds`): a retry, the end of the window, or a kind a feature
above declared (dunning's email touches).

A kind whose effect must be committed apart (a charge) runs in two phases, each ended by
the task's commit, so that a worker killed in between leaves a trace: :func:`prepare`
decides and, for a charge, records the invoice attempt number the charge will become;
:func:`charge` makes it. A re-run of a step that may already have charged (its lease ran
out) learns the outcome from Stripe instead of guessing, and a repeated
``invoices.pay`` with the same key is answered from Stripe's cache.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..schedule import catchup, kinds
from ..stripe import billing, clocks
from ..stripe.models import StripeConnection
from ..times import aware
from . import campaigns, closing, config, holdout, retrying
from .models import CANCELLED, DONE, PENDING, RETRY, RUNNING, WINDOW_END, Campaign, Step

CHARGE, FINISHED = "charge", "finished"
#: Statuses of a step that will still act: waiting, claimed, or running now.
ACTIVE = ("pending", "queued", "running")


def finish(step: Step, outcome: str, detail: str, *, at: dt.datetime, status: str = DONE) -> str:
    step.finish(outcome, detail, at=at, status=status)
    return FINISHED


def _apply(step: Step, verdict: kinds.Verdict, *, at: dt.datetime) -> str:
    if isinstance(verdict, kinds.Proceed):
        return CHARGE
    if isinstance(verdict, kinds.Hold):
        # Back in the schedule at its new moment, as if planned so (a fresh count of claims).
        step.status = PENDING
        step.due_at = verdict.until
        step.lease_until = None
        step.attempts = 0
        step.outcome_detail = verdict.detail[:500]
        return FINISHED
    return finish(step, verdict.outcome, verdict.detail, at=at, status=verdict.status)


def prepare(
    session: Session, connection: StripeConnection | None, step: Step, *, now: dt.datetime
) -> str:
    """Decide what the step does now; returns :data:`CHARGE` or :data:`FINISHED`."""
    campaign = step.campaign
    connected = connection is not None and connection.is_connected
    if step.attempt_number is not None and connected:
        # An earlier run got as far as charging before its worker died: whatever
        # happened since (even the campaign closing on that very payment), record what
        # came of the charge, or make it now under the same idempotency key.
        invoice = billing.read_invoice(connection, campaign.invoice_stripe_id)
        if invoice.attempt_count >= step.attempt_number:
            at = clocks.now_of(session, campaign, now)
            done = retrying.record(session, connection, step, invoice, now=now)
            return _apply(step, done, at=at)
    kind = kinds.get(step.kind)
    if kind.is_customer_message or kind.rank is not None:
        campaigns.lock(
            session, campaign
        )  # siblings decide one at a time: each sees what the last did
        session.refresh(step)
        if step.status != RUNNING:
            # Another run of this very step (handed out again when this one outlived its
            # lease) finished it while we waited for the lock: deciding again would mail
            # twice, or put a sent touch back in the schedule.
            return FINISHED
    at = clocks.now_of(session, campaign, now)
    if not campaign.is_open:
        return finish(step, "closed", f"the campaign is {campaign.state}", at=at, status=CANCELLED)
    if campaign.is_holdout and not _holdout_may_run(step):
        why = holdout.reason(campaign.holdout_percent or 0)
        return finish(step, "cancelled", why, at=at, status=CANCELLED)
    if not kind.needs_stripe:
        return _apply(step, kind.decide(session, connection, step, now=now, at=at), at=at)
    if not connected:
        closing.abandon_all(session, campaign.workspace_id, "Stripe is disconnected", now=now)
        return finish(step, "closed", "Stripe is disconnected", at=at, status=CANCELLED)
    paused = config.pause_reason(session, campaign.workspace_id, campaign)
    if paused:
        return finish(step, "cancelled", paused, at=at, status=CANCELLED)
    if at >= aware(campaign.window_ends_at):
        return finish(step, "skipped", "skipped: the 30-day window had ended", at=at)
    caught_up = catch_up(session, kind, step, at=at)
    if caught_up is not None:
        return _apply(step, caught_up, at=at)
    invoice = billing.read_invoice(connection, campaign.invoice_stripe_id)
    if invoice.status != "open":
        closing.settle(session, campaign, invoice, now=now)
        return finish(step, "closed", f"the invoice is {invoice.status}", at=at, status=CANCELLED)
    verdict = kind.decide(session, connection, step, now=now, at=at, invoice=invoice)
    return _apply(step, verdict, at=at)


def _holdout_may_run(step: Step) -> bool:
    """A held-out campaign runs only the end of its window and a charge its customer
    asked for (a new card entered by them); a step planned before it was held out (none
    should be) is dropped when due."""
    return step.kind == WINDOW_END or (step.kind == RETRY and not step.is_automatic)


def charge(session: Session, connection: StripeConnection, step: Step, *, now: dt.datetime) -> str:
    """The effect :func:`prepare` allowed (a charge), after the decision's commit."""
    kind = kinds.get(step.kind)
    assert kind.effect is not None, f"the step kind {kind.name} has no effect to make"
    done = kind.effect(session, connection, step, now=now)
    return _apply(step, done, at=clocks.now_of(session, step.campaign, now))


# -- catching up ------------------------------------------------------------------------------


def catch_up(
    session: Session, kind: kinds.StepKind, step: Step, *, at: dt.datetime
) -> kinds.Verdict | None:
    """Skip a step a newer one of its kind supersedes (overdue as well, or already run:
    overdue steps may run in any order), or hold a customer message that would follow
    the campaign's last one too closely; None to go on."""
    if kind.rank is not None:
        siblings = session.execute(
            select(Step).where(
                Step.campaign_id == step.campaign_id,
                Step.kind == step.kind,
                Step.id != step.id,
                or_(
                    Step.status.in_(ACTIVE) & (Step.due_at <= at),
                    (Step.status == DONE) & Step.executed_at.is_not(None),
                ),
            )
        ).scalars()
        newer = catchup.superseded_by(
            _due(kind, step), [_due(kind, sibling) for sibling in siblings]
        )
        if newer is not None:
            return kinds.Done("skipped", f"skipped: {newer.label} was already due")
    if kind.is_customer_message:
        assert kind.message_gap is not None
        gap = kind.message_gap(session, step.workspace_id)
        until = catchup.held_until(last_message_at(session, step.campaign), at, gap)
        if until is not None:
            hours = round(gap.total_seconds() / 3600)
            return kinds.Hold(
                until, f"held: the campaign's last email went out less than {hours} h before"
            )
    return None


def _due(kind: kinds.StepKind, step: Step) -> catchup.Due:
    assert kind.rank is not None
    return catchup.Due(step.id, kind.rank(step), kind.label(step))


def last_message_at(session: Session, campaign: Campaign) -> dt.datetime | None:
    """When the campaign last wrote to its customer (its clock's time)."""
    message_kinds = [k.name for k in kinds.registered() if k.is_customer_message]
    return session.execute(
        select(Step.executed_at)
        .where(
            Step.campaign_id == campaign.id,
            Step.kind.in_(message_kinds),
            Step.outcome == "sent",
        )
        .order_by(Step.executed_at.desc())
        .limit(1)
    ).scalar_one_or_none()
