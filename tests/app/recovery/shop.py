"""A merchant's Stripe account in the sandbox, connected to a Backstop workspace, for
recovery tests: customers on one test clock, events pumped into Backstop the way the
webhook intake stores them, and the sweeper run at the clock's time."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import urllib.parse
import urllib.request
from typing import Any

import stripe
from sqlalchemy import select

from app.extensions import db
from app.recovery.models import Campaign, Step
from app.stripe import intake
from app.stripe.models import StripeConnection, StripeEvent
from workers import stripe_tasks
from workers.sweeper import sweep_once

from ...conftest import account_events, make_client
from .. import factories as f

PLATFORM_KEY = "sk_test_backstop_tests"
#: A Monday, 09:00 UTC: renewals a month later fall on a known weekday.
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
_n = itertools.count(1)


class Shop:
    def __init__(self, sandbox_url: str, *, start: dt.datetime = START, timezone: str = "UTC"):
        self.url = sandbox_url
        platform = make_client(sandbox_url, PLATFORM_KEY)
        self.account = platform.v1.accounts.create(params={"type": "standard"}).id
        self.client: stripe.StripeClient = make_client(
            sandbox_url, PLATFORM_KEY, stripe_account=self.account
        )
        self.clock = self.client.v1.test_helpers.test_clocks.create(
            params={"frozen_time": int(start.timestamp())}
        )
        self.now = start
        self.price = self.client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 2900,
                "recurring": {"interval": "month"},
                "product_data": {"name": "Studio"},
            }
        ).id
        self.workspace = f.workspace(name=f"Shop {next(_n)}")
        self.workspace.timezone = timezone
        self.connection = f.connection(self.workspace, account=self.account)
        db.session.commit()
        self.seen: set[str] = set()

    # -- Stripe side ---------------------------------------------------------------------

    def subscribe(
        self,
        card: str,
        *,
        tz: str | None = None,
        email: str | None = None,
        locales: list[str] | None = None,
    ) -> Any:
        """A customer on ``card`` (a ``pm_card_*`` id) with a monthly subscription;
        ``locales`` is their Stripe ``preferred_locales``."""
        customer = self.client.v1.customers.create(
            params={
                "email": email or f"customer{next(_n)}@example.com",
                "test_clock": self.clock.id,
                "payment_method": card,
                **({"metadata": {"timezone": tz}} if tz else {}),
                **({"preferred_locales": locales} if locales else {}),
            }
        )
        pm = self.client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
        return self.client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": self.price}],
                "default_payment_method": pm.id,
            }
        )

    def advance(self, to: dt.datetime | None = None, **delta: float) -> None:
        """Move the clock (and so every subscription on it), then let Backstop catch up."""
        target = to or self.now + dt.timedelta(**delta)
        self.client.v1.test_helpers.test_clocks.advance(
            self.clock.id, params={"frozen_time": int(target.timestamp())}
        )
        self.now = target
        self.catch_up()

    def sandbox_settings(self, **settings: str) -> None:
        """Per-account sandbox settings (e.g. ``automatic_retries="default"``)."""
        request = urllib.request.Request(
            f"{self.url}/v1/test_helpers/sandbox/settings",
            data=urllib.parse.urlencode(settings).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {PLATFORM_KEY}", "Stripe-Account": self.account},
        )
        urllib.request.urlopen(request, timeout=30).close()

    def change_card(self, subscription_id: str, card: str) -> str:
        """The customer puts a new card on the subscription (as the card-update page will)."""
        sub = self.client.v1.subscriptions.retrieve(subscription_id)
        pm = self.client.v1.payment_methods.attach(card, params={"customer": sub.customer})
        self.client.v1.subscriptions.update(
            subscription_id, params={"default_payment_method": pm.id}
        )
        return pm.id

    def open_invoice(self, subscription_id: str) -> Any:
        return self.client.v1.invoices.list(
            params={"subscription": subscription_id, "status": "open"}
        ).data[0]

    # -- Backstop side -------------------------------------------------------------------

    def pump(self) -> int:
        """Store every event not seen yet (as the intake would) and process them."""
        fresh = [e for e in reversed(self._events()) if e["id"] not in self.seen]
        with db.engine.begin() as conn:
            for body in fresh:
                body["account"] = self.account
                raw = json.dumps(body).encode()
                intake.store(conn, body, raw, workspace_id=self.workspace.id)
                self.seen.add(body["id"])
        stripe_tasks.process_pending.run()
        failed = db.session.execute(
            select(StripeEvent.type, StripeEvent.error).where(StripeEvent.status == "failed")
        ).all()
        assert not failed, failed
        return len(fresh)

    def _events(self) -> list[dict[str, Any]]:
        return account_events(self.url, PLATFORM_KEY, self.account)

    def catch_up(self) -> None:
        """Process events and run due steps until nothing more happens."""
        for _ in range(50):
            moved = self.pump()
            moved += sweep_once(dt.datetime.now(dt.UTC))
            if not moved:
                return
        raise AssertionError("Backstop never settled")

    def campaign(self, subscription_id: str) -> Campaign:
        db.session.expire_all()
        return db.session.execute(
            select(Campaign).where(Campaign.subscription_stripe_id == subscription_id)
        ).scalar_one()

    def steps(self, campaign: Campaign, kind: str = "retry") -> list[Step]:
        db.session.expire_all()
        return list(
            db.session.execute(
                select(Step)
                .where(Step.campaign_id == campaign.id, Step.kind == kind)
                .order_by(Step.due_at, Step.id)
            ).scalars()
        )

    @property
    def stripe_connection(self) -> StripeConnection:
        return db.session.get(StripeConnection, self.connection.id)
