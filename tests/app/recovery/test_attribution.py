"""Who gets the credit for a paid invoice, from the attempts recorded on it."""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.recovery import planning
from app.recovery.closing import attribution_for
from app.recovery.models import ChargeAttempt
from app.stripe.billing import InvoiceFacts

from .. import factories as f
from .test_operations import open_campaign

AT = dt.datetime(2026, 7, 3, 10, 0, tzinfo=dt.UTC)


def paid_invoice(campaign, attempts: int) -> InvoiceFacts:
    return InvoiceFacts(
        id=campaign.invoice_stripe_id,
        status="paid",
        customer_id="cus_x",
        subscription_id="sub_x",
        amount_due_minor=campaign.amount_minor,
        currency="usd",
        attempt_count=attempts,
        next_payment_attempt=None,
        test_clock=None,
        created=AT,
        paid_at=AT,
        default_payment_method_id=None,
        failure=None,
    )


def charge(campaign, n: int, *, step=None, ok=False, code=None, at=AT) -> ChargeAttempt:
    row = ChargeAttempt(
        workspace_id=campaign.workspace_id,
        campaign_id=campaign.id,
        invoice_stripe_id=campaign.invoice_stripe_id,
        charge_stripe_id=f"ch_{n}",
        at=at,
        source="backstop" if step else "stripe",
        step_id=step.id if step else None,
        succeeded=ok,
        decline_code=code,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.mark.parametrize(("automatic", "credit"), [(False, "card_update"), (True, "retry")])
def test_a_payment_the_bank_confirmed_completes_our_attempt(ctx, automatic, credit) -> None:
    campaign = open_campaign(f.workspace())
    step = planning.add_step(db.session, campaign, "retry", AT, "why", automatic=automatic)
    db.session.flush()
    charge(campaign, 1, code="insufficient_funds", at=AT - dt.timedelta(days=3))
    charge(campaign, 2, step=step, code="authentication_required")
    charge(campaign, 3, ok=True, at=AT + dt.timedelta(minutes=2))  # after 3-D Secure
    assert attribution_for(db.session, campaign, paid_invoice(campaign, 5)) == credit


def test_a_payment_after_someone_elses_decline_is_the_customers(ctx) -> None:
    campaign = open_campaign(f.workspace())
    step = planning.add_step(db.session, campaign, "retry", AT, "why", automatic=False)
    db.session.flush()
    charge(campaign, 1, step=step, code="authentication_required", at=AT - dt.timedelta(days=1))
    charge(campaign, 2, code="insufficient_funds")  # Stripe's own, in between
    charge(campaign, 3, ok=True, at=AT + dt.timedelta(minutes=2))
    assert attribution_for(db.session, campaign, paid_invoice(campaign, 7)) == "customer_paid"
