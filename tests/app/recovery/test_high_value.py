"""High-value payments on the sandbox: a failed renewal at or above the threshold gets
its first email at the failure, its owners and admins an email at once, a domain event
and a "call this customer" task; marking the call done records who, when and why."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.accounts.models import Membership, User
from app.audit.models import AuditEntry
from app.errors import Conflict
from app.events.models import DomainEvent
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.recovery import calls, high_value

from .. import factories as f
from .shop import START, Shop

#: Renewals fail in the afternoon (UTC), when the usual first email waits for tomorrow.
AFTERNOON = START.replace(hour=14)


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url, start=AFTERNOON)


def _renew(shop: Shop) -> None:
    shop.advance(to=AFTERNOON + dt.timedelta(days=30, hours=2))


def _messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def _owner(shop: Shop) -> str:
    return db.session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == shop.workspace.id, Membership.role == "owner")
    ).scalar_one()


def _customer(shop: Shop, **details: str):
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", email="jane@example.com")
    shop.client.v1.customers.update(sub.customer, params=details)
    return sub


def test_a_high_value_failure_is_emailed_at_once_pinged_and_listed_to_call(shop) -> None:
    admin = f.member(shop.workspace, "admin", "admin@shop.example")
    f.member(shop.workspace, "viewer", "viewer@shop.example")
    high_value.save_threshold(db.session, shop.workspace.id, (2000, "usd"))  # 20.00 USD
    db.session.commit()
    sub = _customer(shop, name="Jane Doe", phone="+1 555 0100")
    _renew(shop)

    campaign = shop.campaign(sub.id)
    assert campaign.is_high_value and campaign.called_at is None
    d0 = shop.steps(campaign, "email")[0]
    assert campaign.opened_at.hour >= 14  # after 10:00: the usual first email is tomorrow's
    assert d0.due_at == campaign.opened_at  # at the failure instead
    assert d0.reason.endswith("at the failure, because the payment is high-value")
    assert (d0.status, d0.outcome) == ("done", "sent")

    sent = _messages()
    pings = [m for m in sent if m.template == high_value.TEMPLATE]
    owners = {m.to_email for m in pings}
    assert owners == {_owner(shop), admin.email}  # not the viewer
    assert pings[0].subject == "A 29.00 USD renewal from Jane Doe failed: call them"
    assert "+1 555 0100" in pings[0].body_text and "jane@example.com" in pings[0].body_text
    assert f"/recovery/campaigns/{campaign.id}" in pings[0].body_text
    [reminder] = [m for m in sent if m.template == "dunning"]
    assert reminder.to_email == "jane@example.com"

    [event] = db.session.execute(
        select(DomainEvent).where(DomainEvent.name == "recovery.campaign.high_value")
    ).scalars()
    assert event.data["campaign_id"] == campaign.id and event.data["customer_phone"]

    [task] = calls.to_call(db.session, shop.workspace.id, now=dt.datetime.now(dt.UTC))
    assert task.campaign.id == campaign.id
    assert (task.contact.name, task.contact.phone) == ("Jane Doe", "+1 555 0100")

    now = dt.datetime.now(dt.UTC)
    calls.mark_called(
        db.session,
        task.campaign,
        actor_id=admin.id,
        actor_label=admin.email,
        note="  Card replaced, paying   today ",
        now=now,
    )
    db.session.commit()
    assert calls.to_call(db.session, shop.workspace.id, now=dt.datetime.now(dt.UTC)) == []
    campaign = shop.campaign(sub.id)
    assert (campaign.called_by, campaign.call_note) == (admin.email, "Card replaced, paying today")
    [entry] = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "recovery.customer_called")
    ).scalars()
    assert entry.target_id == str(campaign.id) and entry.actor_label == admin.email
    with pytest.raises(Conflict):
        calls.mark_called(db.session, campaign, actor_id=None, actor_label="x", note="", now=now)

    shop.advance(days=1)  # more events, more sweeps: still one ping per owner
    assert len([m for m in _messages() if m.template == high_value.TEMPLATE]) == 2


def test_below_the_threshold_or_in_another_currency_nothing_changes(shop) -> None:
    high_value.save_threshold(db.session, shop.workspace.id, (2900, "eur"))
    db.session.commit()
    sub = _customer(shop, name="Sam Roe")
    _renew(shop)
    campaign = shop.campaign(sub.id)
    assert not campaign.is_high_value
    d0 = shop.steps(campaign, "email")[0]
    assert d0.due_at == dt.datetime(2026, 7, 2, 10, 0, tzinfo=dt.UTC)  # the usual 10:00
    assert not [m for m in _messages() if m.template == high_value.TEMPLATE]
    assert calls.to_call(db.session, shop.workspace.id, now=dt.datetime.now(dt.UTC)) == []


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1,240.00", "usd", (124000, "usd")),
        ("500", "EUR", (50000, "eur")),
        ("12000", "jpy", (12000, "jpy")),
        ("", "usd", None),
    ],
)
def test_the_threshold_as_typed(amount, currency, expected) -> None:
    assert high_value.parse_threshold(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("abc", "usd"), ("-5", "usd"), ("10.001", "usd"), ("1.5", "jpy"), ("10", "dollars")],
)
def test_a_threshold_that_makes_no_sense_is_refused(amount, currency) -> None:
    with pytest.raises(high_value.ThresholdRefused):
        high_value.parse_threshold(amount, currency)


def test_only_the_threshold_currency_compares() -> None:
    threshold = (100000, "usd")
    assert high_value.is_high_value(100000, "USD", threshold)
    assert not high_value.is_high_value(99999, "usd", threshold)
    assert not high_value.is_high_value(10**9, "eur", threshold)
    assert not high_value.is_high_value(10**9, "usd", None)
