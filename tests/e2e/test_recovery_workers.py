"""The schedule under real processes: two workers and two beats never run a step twice,
and a worker killed (SIGKILL) while Stripe is charging leaves no double charge and no
lost step."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select

from ..conftest import TEST_DATABASE_URL
from .stack import make_client, running_stack, stripe_call, stripe_post, wait_until

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
RENEWAL_CHARGED = START + dt.timedelta(days=30, hours=1)


class Merchant:
    """A connected workspace whose customers renew on one test clock."""

    def __init__(self, db: Any, sandbox_url: str, platform_key: str) -> None:
        from app.crypto import encrypt
        from app.stripe.models import StripeConnection

        from ..app import factories as f

        self.db, self.url, self.key = db, sandbox_url, platform_key
        account = stripe_post(sandbox_url, platform_key, "/v1/accounts", {"type": "standard"})
        ws = f.workspace(f.user(f"owner-{secrets.token_hex(3)}@example.com"), "Workers Co")
        db.session.add(
            StripeConnection(
                workspace_id=ws.id,
                mode="oauth",
                stripe_account_id=account["id"],
                secret_enc=encrypt("sk_test_unused"),
                status="connected",
                import_status="done",
                import_progress={},
            )
        )
        db.session.commit()
        self.workspace_id = ws.id
        self.stripe = make_client(sandbox_url, platform_key, stripe_account=account["id"])
        self.clock = self.stripe.v1.test_helpers.test_clocks.create(
            params={"frozen_time": int(START.timestamp())}
        )
        self.now = START
        self.price = self.stripe.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 1500,
                "recurring": {"interval": "month"},
                "product_data": {"name": "Plan"},
            }
        ).id

    def subscribe(self, card: str) -> str:
        customer = self.stripe.v1.customers.create(
            params={
                "email": f"{secrets.token_hex(4)}@example.com",
                "test_clock": self.clock.id,
                "payment_method": card,
            }
        )
        pm = self.stripe.v1.payment_methods.list(params={"customer": customer.id}).data[0]
        return self.stripe.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": self.price}],
                "default_payment_method": pm.id,
            }
        ).id

    def advance(self, to: dt.datetime) -> None:
        self.stripe.v1.test_helpers.test_clocks.advance(
            self.clock.id, params={"frozen_time": int(to.timestamp())}
        )
        self.now = to

    def quiet(self, stack: Any) -> bool:
        from app.recovery.models import Step
        from app.stripe.models import StripeEvent

        stack.check_alive()
        stripe_call(self.url, self.key, "/v1/test_helpers/sandbox/webhooks/flush", b"timeout=20")
        self.db.session.remove()
        waiting = self.db.session.execute(
            select(func.count())
            .select_from(StripeEvent)
            .where(StripeEvent.status.in_(("received", "running", "failed")))
        ).scalar_one()
        busy = self.db.session.execute(
            select(func.count())
            .select_from(Step)
            .where(
                Step.status.in_(("queued", "running"))
                | ((Step.status == "pending") & (Step.due_at <= self.now))
            )
        ).scalar_one()
        return waiting == 0 and busy == 0

    def settle(self, stack: Any) -> None:
        for _ in range(2):  # our retries emit events of their own
            wait_until(
                f"Backstop to settle at {self.now:%m-%d %H:%M}",
                lambda: self.quiet(stack),
                timeout=90,
                diagnose=stack.diagnose,
            )

    def next_due(self) -> dt.datetime | None:
        from app.recovery.models import Step

        self.db.session.remove()
        return self.db.session.execute(
            select(func.min(Step.due_at)).where(Step.status == "pending", Step.due_at > self.now)
        ).scalar_one()

    def charges(self, invoice_id: str) -> list[Any]:
        invoice = self.stripe.v1.invoices.retrieve(invoice_id)
        found = self.stripe.v1.charges.list(params={"customer": invoice.customer, "limit": 100})
        return [c for c in found.data if c.created >= int(RENEWAL_CHARGED.timestamp())]


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
