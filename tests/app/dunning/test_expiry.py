"""Card-expiry warnings against the sandbox: the daily scan plans 30/15/7-day notices
for subscriptions' default cards; each goes at 10:00 local with a card-update link,
unless the card was replaced or updated meanwhile."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.dunning import expiry
from app.dunning.models import CardUpdateLink, ExpiryNotice
from app.extensions import db
from app.outbox.models import OutboxMessage
from workers import dunning_tasks

from ..recovery.shop import START, Shop


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url)


def expiring_subscription(shop: Shop, *, month: int = 6, year: int = 2026) -> tuple[str, str]:
    """A customer whose card expires at the end of ``month``/``year`` (clock: June 1)."""
    customer = shop.client.v1.customers.create(
        params={"email": "card@example.com", "name": "Sam Card", "test_clock": shop.clock.id}
    )
    pm = shop.client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {
                "number": "4242424242424242",
                "exp_month": month,
                "exp_year": year,
                "cvc": "123",
            },
        }
    )
    shop.client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    sub = shop.client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": shop.price}],
            "default_payment_method": pm.id,
        }
    )
    return sub.id, pm.id


def notices() -> list[ExpiryNotice]:
    db.session.expire_all()
    return list(db.session.execute(select(ExpiryNotice).order_by(ExpiryNotice.due_at)).scalars())


def scan(shop: Shop) -> int:
    added = expiry.scan(db.session, shop.stripe_connection, now=dt.datetime.now(dt.UTC))
    db.session.commit()
    return added


def test_the_scan_plans_each_notice_once_and_they_are_sent(shop) -> None:
    expiring_subscription(shop)
    expiring_subscription(shop, year=2029)  # far from expiry: nothing yet
    assert scan(shop) == 1  # the 30-day notice; the next ones are a week or more away
    assert scan(shop) == 0  # the daily scan never plans a notice twice
    shop.advance(to=dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.UTC))
    assert scan(shop) == 1
    planned = notices()
    assert [(n.days_before, n.due_at) for n in planned] == [
        (30, dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)),
        (15, dt.datetime(2026, 6, 16, 10, 0, tzinfo=dt.UTC)),
    ]
    first = notices()[0]
    assert (first.status, first.outcome) == ("done", "sent"), first.outcome_detail
    message = db.session.get(OutboxMessage, first.message_id)
    assert message.template == "card_expiring" and message.to_email == "card@example.com"
    assert "Visa ending in 4242" in message.body_text and "June 2026" in message.body_text
    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    assert link.purpose == "expiry" and link.invoice_stripe_id is None
    assert [n.status for n in notices()[1:]] == ["pending"]


def test_a_card_updated_or_replaced_meanwhile_gets_no_notice(shop) -> None:
    updated_sub, updated_pm = expiring_subscription(shop)
    replaced_sub, _ = expiring_subscription(shop)
    scan(shop)
    shop.client.v1.payment_methods.update(updated_pm, params={"card": {"exp_year": 2030}})
    new = shop.client.v1.payment_methods.attach(
        "pm_card_mastercard",
        params={"customer": shop.client.v1.subscriptions.retrieve(replaced_sub).customer},
    )
    shop.client.v1.subscriptions.update(replaced_sub, params={"default_payment_method": new.id})
    shop.advance(to=dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC))
    outcomes = {
        (n.subscription_stripe_id, n.outcome_detail) for n in notices() if n.days_before == 30
    }
    assert outcomes == {
        (updated_sub, "the card's expiry was updated meanwhile"),
        (replaced_sub, "the card was replaced meanwhile"),
    }
    assert db.session.execute(select(OutboxMessage)).first() is None
    assert scan(shop) == 0  # the new card expires years from now


def test_the_daily_task_scans_every_connected_workspace(shop) -> None:
    expiring_subscription(shop)
    assert dunning_tasks.scan_expiring_cards.run() == 1
    [notice] = notices()
    assert notice.days_before == 30 and notice.due_at > START
