"""The schedule under real processes: two workers and two beats never run a step twice,
and a worker killed (SIGKILL) while Stripe is charging leaves no double charge and no
lost step."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ..conftest import TEST_DATABASE_URL
from .merchant import RENEWAL_CHARGED, Merchant
from .stack import running_stack, stripe_call, stripe_post, wait_until


@pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="two beats and two workers against PostgreSQL and RabbitMQ (the services lane)",
)
def test_two_workers_and_two_beats_run_every_step_once(
    tmp_path, sandbox_url, database_url, broker_url, db_view
) -> None:
    from app.recovery.models import Campaign, Step

    with running_stack(
        tmp_path,
        sandbox_url,
        database_url,
        broker_url,
        workers=2,
        beats=2,
        BACKSTOP_SWEEP_SECONDS="1",
    ) as stack:
        merchant = Merchant(db_view, sandbox_url, stack.platform_key)
        cards = [
            "pm_card_sandbox_insufficient_funds",
            "pm_card_sandbox_insufficient_funds_recover1",
            "pm_card_sandbox_processing_error",
            "pm_card_sandbox_do_not_honor_recover2",
        ]
        for i in range(24):
            merchant.subscribe(cards[i % len(cards)])
        merchant.settle(stack)
        merchant.advance(RENEWAL_CHARGED)
        merchant.settle(stack)
        end = RENEWAL_CHARGED + dt.timedelta(days=8)
        while merchant.now < end:
            due = merchant.next_due()
            merchant.advance(min(due, end) if due else end)
            merchant.settle(stack)

        db = db_view
        db.session.remove()
        ran = (
            db.session.execute(
                select(Step).where(Step.kind == "retry", Step.outcome.in_(("paid", "declined")))
            )
            .scalars()
            .all()
        )
        assert len(ran) >= 40
        assert {s.attempts for s in ran} == {1}, "a step was claimed more than once"
        for campaign in db.session.execute(select(Campaign)).scalars():
            charged = merchant.charges(campaign.invoice_stripe_id)
            ours = [s for s in ran if s.campaign_id == campaign.id]
            assert len(charged) == 1 + len(ours), campaign.invoice_stripe_id
            stamps = sorted(c.created for c in charged)
            assert len(set(stamps)) == len(stamps), "two charges at the same moment"


def test_a_worker_killed_while_stripe_charges_leaves_one_charge_and_no_lost_step(
    tmp_path, sandbox_url, database_url, broker_url, db_view
) -> None:
    from app.recovery.models import Campaign, Step

    with running_stack(
        tmp_path,
        sandbox_url,
        database_url,
        broker_url,
        workers=0,
        beats=1,
        BACKSTOP_SWEEP_SECONDS="1",
        BACKSTOP_STEP_LEASE_SECONDS="3",
    ) as stack:
        doomed = stack.worker(concurrency=2)
        merchant = Merchant(db_view, sandbox_url, stack.platform_key)
        merchant.subscribe("pm_card_sandbox_insufficient_funds_recover1")
        merchant.settle(stack)
        merchant.advance(RENEWAL_CHARGED)
        merchant.settle(stack)
        db = db_view
        step = db.session.execute(
            select(Step).where(Step.kind == "retry").order_by(Step.due_at).limit(1)
        ).scalar_one()

        hold = stripe_post(
            sandbox_url,
            stack.platform_key,
            "/v1/test_helpers/sandbox/holds",
            {"method": "POST", "path": r"/v1/invoices/[^/]+/pay"},
        )
        merchant.advance(step.due_at)
        wait_until(
            "the worker to be charging",
            lambda: stripe_call(
                sandbox_url, stack.platform_key, f"/v1/test_helpers/sandbox/holds/{hold['id']}"
            )["waiting"],
            diagnose=stack.diagnose,
        )
        doomed.proc.kill()  # SIGKILL: no cleanup, the message is not acknowledged
        doomed.proc.wait(timeout=10)
        doomed.log.close()
        stack.procs.remove(doomed)
        # Stripe goes on and charges: the worker died after asking, before hearing back.
        stripe_call(
            sandbox_url,
            stack.platform_key,
            f"/v1/test_helpers/sandbox/holds/{hold['id']}/release",
            b"",
        )
        stack.worker()
        merchant.settle(stack)

        db.session.remove()
        step = db.session.get(Step, step.id)
        campaign = db.session.get(Campaign, step.campaign_id)
        assert (step.status, step.outcome) == ("done", "paid"), step.outcome_detail
        assert step.attempts >= 2, "claimed again once its lease ran out"
        assert campaign.state == "recovered" and campaign.attribution == "retry"
        charged = merchant.charges(campaign.invoice_stripe_id)
        assert len(charged) == 2, "the renewal and exactly one retry"
        assert [c.status for c in sorted(charged, key=lambda c: c.created)] == [
            "failed",
            "succeeded",
        ]
