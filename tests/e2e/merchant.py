"""A merchant for the multi-process recovery tests: a connected workspace whose
customers renew on one Stripe test clock, and the waits that tell when Backstop (in
other processes) has caught up with the clock."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import func, select

from .stack import make_client, stripe_call, stripe_post, wait_until

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # a Monday
RENEWAL_CHARGED = START + dt.timedelta(days=30, hours=1)  # finalized an hour after renewal


class Merchant:
    """A connected workspace whose customers renew on one test clock."""

    def __init__(
        self,
        db: Any,
        sandbox_url: str,
        platform_key: str,
        *,
        timezone: str = "UTC",
        currency: str = "usd",
    ) -> None:
        from app.crypto import encrypt
        from app.stripe.models import StripeConnection

        from ..app import factories as f

        self.db, self.url, self.key = db, sandbox_url, platform_key
        account = stripe_post(sandbox_url, platform_key, "/v1/accounts", {"type": "standard"})
        ws = f.workspace(f.user(f"owner-{secrets.token_hex(3)}@example.com"), "Merchant Co")
        ws.timezone = timezone
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
        self.workspace_id, self.account = ws.id, account["id"]
        self.stripe = make_client(sandbox_url, platform_key, stripe_account=account["id"])
        self.clock = self.stripe.v1.test_helpers.test_clocks.create(
            params={"frozen_time": int(START.timestamp())}
        )
        self.now = START
        self.price = self.stripe.v1.prices.create(
            params={
                "currency": currency,
                "unit_amount": 1500,
                "recurring": {"interval": "month"},
                "product_data": {"name": "Plan"},
            }
        ).id

    def subscribe(self, card: str, *, tz: str | None = None) -> str:
        """A customer on ``card`` (a ``pm_card_*`` id), in ``tz`` if given, subscribed."""
        customer = self.stripe.v1.customers.create(
            params={
                "email": f"{secrets.token_hex(4)}@example.com",
                "test_clock": self.clock.id,
                "payment_method": card,
                **({"metadata": {"timezone": tz}} if tz else {}),
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
        from app.outbox.models import OutboxMessage
        from app.recovery.models import Step
        from app.stripe.models import StripeEvent
        from app.winback.models import WinbackStep

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
        busy += self.db.session.execute(
            select(func.count())
            .select_from(WinbackStep)
            .where(
                WinbackStep.status.in_(("queued", "running"))
                | ((WinbackStep.status == "pending") & (WinbackStep.due_at <= self.now))
            )
        ).scalar_one()
        mailing = self.db.session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "queued")
        ).scalar_one()
        return waiting == 0 and busy == 0 and mailing == 0

    def settle(self, stack: Any) -> None:
        for _ in range(2):  # our retries emit events of their own
            wait_until(
                f"Backstop to settle at {self.now:%m-%d %H:%M}",
                lambda: self.quiet(stack),
                timeout=90,
                diagnose=lambda: f"{stack.diagnose()}\n--- unsettled\n{self.unsettled()}",
            )

    def unsettled(self) -> str:
        """What :meth:`quiet` still waits for, one row a line."""
        from app.outbox.models import OutboxMessage
        from app.recovery.models import Step
        from app.stripe.models import StripeEvent

        self.db.session.remove()
        rows = self.db.session.execute(
            select(StripeEvent.id, StripeEvent.type, StripeEvent.status, StripeEvent.error).where(
                StripeEvent.status.in_(("received", "running", "failed"))
            )
        ).all()
        rows += self.db.session.execute(
            select(
                Step.id, Step.kind, Step.status, Step.due_at, Step.lease_until, Step.attempts
            ).where(
                Step.status.in_(("queued", "running"))
                | ((Step.status == "pending") & (Step.due_at <= self.now))
            )
        ).all()
        rows += self.db.session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.created_at).where(
                OutboxMessage.status == "queued"
            )
        ).all()
        return "\n".join(str(tuple(row)) for row in rows)

    def next_due(self) -> dt.datetime | None:
        from app.recovery.models import Step

        self.db.session.remove()
        return self.db.session.execute(
            select(func.min(Step.due_at)).where(
                Step.workspace_id == self.workspace_id,
                Step.status == "pending",
                Step.due_at > self.now,
            )
        ).scalar_one()

    def charges(self, invoice_id: str) -> list[Any]:
        invoice = self.stripe.v1.invoices.retrieve(invoice_id)
        found = self.stripe.v1.charges.list(params={"customer": invoice.customer, "limit": 100})
        return [c for c in found.data if c.created >= int(RENEWAL_CHARGED.timestamp())]
