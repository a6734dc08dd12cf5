"""The retry step kind: check every cap at the moment of the attempt, charge with the
idempotency key ``step:<id>``, record the outcome and plan what follows (DESIGN §6).

The runner (:mod:`.runner`) has re-checked the campaign and the invoice before
:func:`decide`; the charge itself is :func:`charge`, after the decision's commit.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..schedule import kinds
from ..stripe import billing, clocks
from ..stripe.models import StripeConnection
from ..times import aware
from . import campaigns, classifying, closing, config, planning
from .caps import Attempt, Decline, check_attempt
from .models import RETRY, Campaign, ChargeAttempt, Step

log = logging.getLogger("backstop.recovery")


def decide(
    session: Session,
    connection: StripeConnection,
    step: Step,
    *,
    now: dt.datetime,
    at: dt.datetime,
    invoice: billing.InvoiceFacts,
) -> kinds.Verdict:
    """Whether the caps allow the attempt now; if so the attempt number it will become
    is recorded before anything is charged."""
    campaign = step.campaign
    if invoice.is_stripe_retrying:
        campaign.is_stripe_managed = True
        planning.cancel_pending(session, campaign, "Stripe's own retries are on for this invoice")
        return kinds.Done("refused", "Stripe's own retries are on", status="cancelled")
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
        return kinds.Done("refused", verdict.reason)
    step.attempt_number = invoice.attempt_count + 1
    return kinds.Proceed()


def charge(
    session: Session, connection: StripeConnection, step: Step, *, now: dt.datetime
) -> kinds.Done:
    """Make the attempt :func:`decide` allowed, and record its outcome."""
    result = billing.pay_invoice(
        connection, step.campaign.invoice_stripe_id, idempotency_key=f"step:{step.id}"
    )
    if result.error and result.invoice.attempt_count < (step.attempt_number or 0):
        if result.invoice.status != "open":
            closing.settle(session, step.campaign, result.invoice, now=now)
        return kinds.Done("refused", f"Stripe did not try: {result.error}")
    return record(session, connection, step, result.invoice, now=now)


def record(
    session: Session,
    connection: StripeConnection,
    step: Step,
    invoice: billing.InvoiceFacts,
    *,
    now: dt.datetime,
) -> kinds.Done:
    """What came of the step's charge, read from Stripe: the campaign closes on a paid
    invoice; a decline may change its class and replans the retries."""
    campaign = step.campaign
    at = clocks.now_of(session, campaign, now)
    charges = billing.list_charges(connection, invoice)
    ours = {invoice.latest_charge_id: step} if invoice.latest_charge_id else {}
    campaigns.sync_attempts(session, campaign, charges, ours=ours)
    if step.is_automatic:
        campaign.auto_retries += 1
    if invoice.status == "paid":
        closing.settle(session, campaign, invoice, now=now)
        return kinds.Done("paid", "the charge succeeded and paid the invoice")
    if invoice.status != "open":
        closing.settle(session, campaign, invoice, now=now)
        return kinds.Done("closed", f"the invoice is {invoice.status}")
    failure = invoice.failure
    code = (failure.decline_code or failure.failure_code) if failure else None
    if failure is not None and classifying.apply_failure(
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
        paused=config.pause_reason(session, campaign.workspace_id, campaign),
    )
    return kinds.Done("declined", f"declined: {code or 'unknown'}")


def rank(step: Step) -> tuple[dt.datetime, int]:
    return (aware(step.due_at), step.id)


def label(step: Step) -> str:
    return "a later retry" if step.is_automatic else "a retry after the card changed"


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
    attempts = [Attempt(aware(r.at), _decline(r)) for r in rows]
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
    return [Attempt(aware(r.at), _decline(r)) for r in rows]


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


def title(step: Step) -> str:
    return "Retry" if step.is_automatic else "Retry after the card changed"


KIND = kinds.StepKind(name=RETRY, decide=decide, effect=charge, label=label, title=title, rank=rank)
