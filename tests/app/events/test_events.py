"""Domain events: written in the transaction of the change (a rollback leaves none and
no task), handed to the consumers once committed, handed over again when a consumer
fails, and emitted by the recovery loop as a campaign runs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.events import services as events
from app.events.models import DomainEvent
from app.extensions import db
from workers import sweeper

from .. import factories as f
from ..dunning.test_touches import renew
from ..recovery.shop import Shop


@pytest.fixture
def seen():
    got: list[tuple[str, dict]] = []

    def consumer(session, event: DomainEvent) -> None:
        got.append((event.name, dict(event.data)))

    events.consume("test.*", "test-recorder", consumer)
    yield got
    events.consume("nothing.*", "test-recorder", lambda s, e: None)


def rows() -> list[DomainEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(DomainEvent).order_by(DomainEvent.id)).scalars())


def test_an_event_reaches_its_consumers_after_the_commit(ctx, seen) -> None:
    ws = f.workspace()
    db.session.commit()
    events.emit(db.session, ws.id, "test.thing.happened", subject="thing:1", data={"n": 1})
    assert seen == []  # not before the commit
    db.session.commit()
    assert seen == [("test.thing.happened", {"n": 1})]
    [row] = rows()
    assert (row.status, row.attempts, row.error) == ("done", 1, None)
    assert row.dispatched_at is not None


def test_a_rolled_back_change_leaves_no_event_and_no_task(ctx, seen) -> None:
    ws = f.workspace()
    db.session.commit()
    events.emit(db.session, ws.id, "test.thing.happened", subject="thing:1")
    db.session.rollback()
    db.session.commit()
    assert rows() == [] and seen == []


def test_only_matching_consumers_run(ctx, seen) -> None:
    ws = f.workspace()
    db.session.commit()
    events.emit(db.session, ws.id, "other.thing", subject="thing:2")
    db.session.commit()
    assert seen == []
    assert rows()[0].status == "done"


def test_a_failing_consumer_gets_the_event_again_until_it_gives_up(ctx, monkeypatch) -> None:
    calls: list[int] = []

    def flaky(session, event: DomainEvent) -> None:
        calls.append(event.id)
        raise RuntimeError("slack is down")

    events.consume("test.*", "test-flaky", flaky)
    try:
        ws = f.workspace()
        db.session.commit()
        events.emit(db.session, ws.id, "test.flaky", subject="thing:3")
        db.session.commit()
        [row] = rows()
        assert (row.status, row.attempts) == ("running", 1)
        assert row.error == "test-flaky: RuntimeError: slack is down"
        later = dt.datetime.now(dt.UTC)
        for _ in range(events.MAX_ATTEMPTS):  # each sweep after the lease ran out
            later += events.LEASE + dt.timedelta(seconds=1)
            monkeypatch.setattr(
                "app.events.services.utcnow", lambda later=later: later, raising=True
            )
            sweeper.sweep_once(later)
        [row] = rows()
        assert row.status == "failed" and row.attempts == events.MAX_ATTEMPTS
        assert len(calls) == events.MAX_ATTEMPTS
    finally:
        events.consume("nothing.*", "test-flaky", lambda s, e: None)


def test_the_recovery_loop_tells_what_happened(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    invoice = shop.open_invoice(sub.id)
    pm = shop.client.v1.payment_methods.attach(
        "pm_card_visa", params={"customer": invoice.customer}
    )
    shop.client.v1.invoices.pay(invoice.id, params={"payment_method": pm.id})
    shop.catch_up()
    campaign = shop.campaign(sub.id)
    names = [e.name for e in rows()]
    assert names[:2] == ["recovery.campaign.started", "recovery.attempt.failed"]
    assert "dunning.email.sent" in names
    assert names[-2:] == ["recovery.attempt.succeeded", "recovery.campaign.recovered"]
    recovered = rows()[-1]
    assert recovered.subject == f"campaign:{campaign.id}"
    assert recovered.data["recovered_minor"] == 2900 and recovered.data["currency"] == "usd"
    assert recovered.data["attribution"] == "customer_paid"
    assert {e.status for e in rows()} == {"done"}
    assert {e.workspace_id for e in rows()} == {shop.workspace.id}
