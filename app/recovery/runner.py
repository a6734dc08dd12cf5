"""Running a due step: re-read the invoice, re-check every cap at that moment, charge
with the idempotency key ``step:<id>``, record the outcome and plan what follows.

Two phases, each ended by the task's commit, so that a worker killed in between leaves
a trace: :func:`prepare` decides and, for a charge, records the invoice attempt number
the charge will become; :func:`charge` makes it. A re-run of a step that may already
have charged (its lease ran out) learns the outcome from Stripe instead of guessing,
and a repeated ``invoices.pay`` with the same key is answered from Stripe's cache.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..dunning import touches
from ..stripe import billing
from ..stripe.models import StripeConnection
from . import campaigns, closing, config, planning
from .caps import Attempt, Decline, check_attempt
from .models import CANCELLED, DONE, EMAIL, WINDOW_END, Campaign, ChargeAttempt, Step

log = logging.getLogger("backstop.recovery")

CHARGE, FINISHED = "charge", "finished"
INVOICE_WINDOW = dt.timedelta(days=30)


def finish(step: Step, outcome: str, detail: str, *, at: dt.datetime, status: str = DONE) -> str:
    step.status = status
    step.outcome = outcome
    step.outcome_detail = detail[:500]
    step.executed_at = at
    step.lease_until = None
    return FINISHED


def prepare(
    session: Session, connection: StripeConnection | None, step: Step, *, now: dt.datetime
) -> str:
    """Decide whether the step charges; returns :data:`CHARGE` or :data:`FINISHED`."""
    campaign = step.campaign
    at = campaigns.campaign_now(session, campaign, now)
    connected = connection is not None and connection.is_connected
    if step.attempt_number is not None and connected:
        # An earlier run got as far as charging before its worker died: whatever
        # happened since (even the campaign closing on that very payment), record what
        # came of the charge, or make it now under the same idempotency key.
        invoice = billing.read_invoice(connection, campaign.invoice_stripe_id)
        if invoice.attempt_count >= step.attempt_number:
            return _record(session, connection, step, invoice, now=now)
    if not campaign.is_open:
        return finish(step, "closed", f"the campaign is {campaign.state}", at=at, status=CANCELLED)
    if step.kind == WINDOW_END:
        closing.end_window(session, campaign, now=now)
        return finish(step, "closed", "the window ended: campaign lost", at=at)
    if not connected:
        closing.abandon_all(session, campaign.workspace_id, "Stripe is disconnected", now=now)
        return finish(step, "closed", "Stripe is disconnected", at=at, status=CANCELLED)
    paused = config.pause_reason(session, campaign.workspace_id)
    if paused:
        return finish(step, "cancelled", paused, at=at, status=CANCELLED)
    invoice = billing.read_invoice(connection, campaign.invoice_stripe_id)
    if invoice.status != "open":
        closing.settle(session, campaign, invoice, now=now)
        return finish(step, "closed", f"the invoice is {invoice.status}", at=at, status=CANCELLED)
    if step.kind == EMAIL:
        outcome, detail = touches.send_touch(session, connection, step, now=now, at=at)
        return finish(step, outcome, detail, at=at)
    if invoice.is_stripe_retrying:
        campaign.is_stripe_managed = True
        planning.cancel_pending(session, campaign, "Stripe's own retries are on for this invoice")
        return finish(step, "refused", "Stripe's own retries are on", at=at, status=CANCELLED)
    subscription = (
        billing.read_subscription(connection, campaign.subscription_stripe_id)
        if campaign.subscription_stripe_id
        else None
    )
    card = billing.card_to_charge(connection, invoice, subscription)
    verdict = check_attempt(
        at,
        invoice_attempts=invoice_attempts(session, campaign, invoice.attempt_count, at),
        campaign_auto_retries=campaign.auto_retries,
        card_history=card_history(
            session, campaign.workspace_id, card.fingerprint if card else None
        ),
        brand=card.brand if card else campaign.card_brand,
        last_decline=last_decline(campaign),
        invoice_status=invoice.status,
        subscription_status=subscription.status if subscription else "active",
        fingerprint=card.fingerprint if card else None,
        automatic=step.is_automatic,
        policy=config.policy_for(session, campaign.workspace_id),
    )
    if not verdict:
        log.info(
            "recovery.step.refused workspace=%s step=%s code=%s",
            step.workspace_id,
            step.id,
            verdict.code,
        )
        return finish(step, "refused", verdict.reason, at=at)
    step.attempt_number = invoice.attempt_count + 1
    return CHARGE


def charge(session: Session, connection: StripeConnection, step: Step, *, now: dt.datetime) -> str:
    """Make the attempt :func:`prepare` allowed, and record its outcome."""
    result = billing.pay_invoice(
        connection, step.campaign.invoice_stripe_id, idempotency_key=f"step:{step.id}"
    )
    if result.error and result.invoice.attempt_count < (step.attempt_number or 0):
        at = campaigns.campaign_now(session, step.campaign, now)
        if result.invoice.status != "open":
            closing.settle(session, step.campaign, result.invoice, now=now)
        return finish(step, "refused", f"Stripe did not try: {result.error}", at=at)
    return _record(session, connection, step, result.invoice, now=now)


def _record(
    session: Session,
    connection: StripeConnection,
    step: Step,
    invoice: billing.InvoiceFacts,
    *,
    now: dt.datetime,
) -> str:
    campaign = step.campaign
    at = campaigns.campaign_now(session, campaign, now)
    charges = billing.list_charges(connection, invoice)
    ours = {invoice.latest_charge_id: step} if invoice.latest_charge_id else {}
    campaigns.sync_attempts(session, campaign, charges, ours=ours)
    if step.is_automatic:
        campaign.auto_retries += 1
    if invoice.status == "paid":
        closing.settle(session, campaign, invoice, now=now)
        return finish(step, "paid", "the charge succeeded and paid the invoice", at=at)
    if invoice.status != "open":
        closing.settle(session, campaign, invoice, now=now)
        return finish(step, "closed", f"the invoice is {invoice.status}", at=at)
    failure = invoice.failure
    code = (failure.decline_code or failure.failure_code) if failure else None
    if failure is not None and campaigns.apply_failure(
        session, campaign, failure, failure.at or at
    ):
        planning.cancel_pending(
            session, campaign, f"the decline is now {code}: {campaign.decline_class}"
        )
    # Planned retries chain from the previous attempt: plan again from this one (nothing
    # for a class that gets no blind retries).
    planning.replan(
        session,
        campaign,
        now=at,
        policy=config.policy_for(session, campaign.workspace_id),
        paused=config.pause_reason(session, campaign.workspace_id),
    )
    return finish(step, "declined", f"declined: {code or 'unknown'}", at=at)


# -- what the caps count ------------------------------------------------------------------------


def invoice_attempts(
    session: Session, campaign: Campaign, attempt_count: int, now: dt.datetime
) -> list[Attempt]:
    """Every attempt on the invoice we recorded, plus any Stripe counted that we did not
    see (no charge was made, or its event is still on the way), counted as just now."""
    rows = list(
        session.execute(
            select(ChargeAttempt).where(
                ChargeAttempt.workspace_id == campaign.workspace_id,
                ChargeAttempt.invoice_stripe_id == campaign.invoice_stripe_id,
            )
        ).scalars()
    )
    attempts = [Attempt(_aware(r.at), _decline(r)) for r in rows]
    attempts += [Attempt(now) for _ in range(max(0, attempt_count - len(rows)))]
    return attempts


def card_history(session: Session, workspace_id: int, fingerprint: str | None) -> list[Attempt]:
    """Every attempt on this card in the workspace (the network rules count per card)."""
    if not fingerprint:
        return []
    rows = session.execute(
        select(ChargeAttempt).where(
            ChargeAttempt.workspace_id == workspace_id,
            ChargeAttempt.card_fingerprint == fingerprint,
        )
    ).scalars()
    return [Attempt(_aware(r.at), _decline(r)) for r in rows]


def last_decline(campaign: Campaign) -> Decline:
    return Decline(
        decline_code=campaign.decline_code,
        failure_code=campaign.failure_code,
        advice_code=campaign.advice_code,
        network_advice_code=campaign.network_advice_code,
        fingerprint=campaign.card_fingerprint,
    )


def _decline(row: ChargeAttempt) -> Decline | None:
    if row.succeeded:
        return None
    return Decline(
        decline_code=row.decline_code,
        failure_code=row.failure_code,
        advice_code=row.advice_code,
        network_advice_code=row.network_advice_code,
        fingerprint=row.card_fingerprint,
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
