"""The delivery log keeps 30 days: the nightly task deletes finished deliveries made
before that, with their tries, a batch at a time, and never an open one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.extensions import db
from app.integrations import deliveries as schedule
from app.integrations.models import Delivery, DeliveryAttempt
from workers import integration_tasks

from .. import factories as f
from .helpers import endpoint, use_clock

NOW = dt.datetime.now(dt.UTC)


def add(hook, status: str, age: dt.timedelta) -> Delivery:
    made = NOW - age
    row = Delivery(workspace_id=hook.workspace_id, endpoint_id=hook.id, event_type="t",
                   payload={}, status=status, due_at=made, created_at=made)  # fmt: skip
    db.session.add(row)
    db.session.flush()
    db.session.add(DeliveryAttempt(workspace_id=hook.workspace_id, delivery_id=row.id, at=made,
                                   url="https://example.com/hook"))  # fmt: skip
    return row


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_finished_deliveries_past_the_window_go_with_their_tries_and_nothing_else(
    ctx, monkeypatch
) -> None:
    use_clock(monkeypatch).now = NOW  # the task's clock: the ages below are from NOW
    ws = f.workspace(f.user("owner@example.com"), "Acme")
    hook = endpoint(ws, "http://127.0.0.1:9/hook")
    old, young = schedule.KEEP + dt.timedelta(minutes=1), schedule.KEEP - dt.timedelta(minutes=1)
    gone = [add(hook, status, old) for status in ("delivered", "failed", "cancelled")]
    kept = [add(hook, status, old) for status in ("pending", "queued", "running")]
    kept += [add(hook, "delivered", young), add(hook, "failed", dt.timedelta(days=1))]
    db.session.commit()
    kept_ids = sorted(row.id for row in kept)

    assert integration_tasks.forget_old_deliveries() == len(gone)
    db.session.expire_all()
    assert sorted(db.session.execute(select(Delivery.id)).scalars()) == kept_ids
    left = set(db.session.execute(select(DeliveryAttempt.delivery_id)).scalars())
    assert left == set(kept_ids)
    assert integration_tasks.forget_old_deliveries() == 0  # twice is harmless


def test_a_big_log_is_forgotten_in_batches(ctx, monkeypatch) -> None:
    ws = f.workspace(f.user("owner@example.com"), "Acme")
    hook = endpoint(ws, "http://127.0.0.1:9/hook")
    for _ in range(7):
        add(hook, "delivered", schedule.KEEP * 2)
    db.session.commit()
    assert schedule.forget_old(db.session, NOW, batch=3) == 3
    db.session.rollback()
    monkeypatch.setattr(schedule, "FORGET_BATCH", 3)  # the task: 3 + 3 + 1, a commit each
    assert integration_tasks.forget_old_deliveries() == 7
    assert count(Delivery) == 0 and count(DeliveryAttempt) == 0


def test_it_runs_nightly() -> None:
    entry = integration_tasks.BEAT["forget-old-deliveries"]
    assert entry["task"] == integration_tasks.FORGET_OLD_DELIVERIES
