"""The beat sweeper: claim due schedule rows and enqueue one task per row.

Domain packages register what to sweep with :func:`sweepable`; the recovery loop's
steps are the first. The claim (a lease) is committed before any task is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.queue import enqueue
from app.schedule import claim_due, take
from app.stripe.client import StripeError
from app.stripe.models import StripeConnection, StripeTestClock
from workers.stripe_tasks import current_task_is_eager

log = logging.getLogger("backstop.workers")

#: What to sweep, registered by the domain task modules: the model, its task, and a
#: function of ``now`` giving the "due" conditions to claim by (one claim each).
SWEPT: list[tuple[Any, str, Callable[[dt.datetime], list[Any]] | None]] = []


def sweepable(
    model: Any, task_name: str, due: Callable[[dt.datetime], list[Any]] | None = None
) -> None:
    """Sweep ``model``'s due rows into ``task_name(row_id)``; the task :func:`app.schedule.take`s
    its row (claimed rows are ``queued``). ``due`` defaults to pending and ``due_at <= now``."""
    if all(entry[:2] != (model, task_name) for entry in SWEPT):
        SWEPT.append((model, task_name, due))


def due_on_clocks(model: Any) -> Callable[[dt.datetime], list[Any]]:
    """The two claims of a row that may live on a Stripe test clock: due by our clock,
    or due by its clock's time (the clock's ``frozen_time``)."""

    def due(now: dt.datetime) -> list[Any]:
        pending = model.status == "pending"
        on_clock = (
            select(StripeTestClock.id)
            .where(
                StripeTestClock.workspace_id == model.workspace_id,
                StripeTestClock.stripe_id == model.test_clock,
                StripeTestClock.frozen_time >= model.due_at,
            )
            .exists()
        )
        return [
            pending & model.test_clock.is_(None) & (model.due_at <= now),
            pending & model.test_clock.is_not(None) & on_clock,
        ]

    return due


def sweep_once(now: dt.datetime, limit: int = 500) -> int:
    lease = dt.timedelta(seconds=current_app.config["BACKSTOP"].step_lease_seconds)
    claimed = 0
    for model, task_name, due in SWEPT:
        for ready in due(now) if due is not None else [None]:
            ids = claim_due(
                db.session,
                model,
                now=now,
                limit=limit,
                lease=lease,
                ready=ready,
                claimed_status="queued",
            )
            for row_id in ids:
                enqueue(db.session, task_name, row_id)
            db.session.commit()
            claimed += len(ids)
    return claimed


#: A swept row whose run keeps failing (Stripe down, a bug) is given up after this many
#: claims, the failure recorded on the row where staff see it.
MAX_CLAIMS = 6


def run_claimed(
    model: Any,
    row_id: int,
    work: Callable[[Any, Any, dt.datetime], str | None],
    *,
    give_up: Callable[[Any, str, dt.datetime], Any],
    what: str,
) -> str | None:
    """Take the row the sweeper queued (a redelivered message finds it taken and stops)
    and run ``work(row, connection, now)``, which commits its own phases.

    A failure leaves the row running under its lease: when the lease runs out the
    sweeper hands it out again (the backoff); after :data:`MAX_CLAIMS` claims
    ``give_up(row, detail, now)`` ends it."""
    now = dt.datetime.now(dt.UTC)
    lease = dt.timedelta(seconds=current_app.config["BACKSTOP"].step_lease_seconds)
    if not take(db.session, model, row_id, now=now, lease=lease):
        db.session.rollback()
        return None
    db.session.commit()
    row = db.session.get(model, row_id)
    connection = db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == row.workspace_id)
    ).scalar_one_or_none()
    try:
        return work(row, connection, now)
    except Exception as exc:
        db.session.rollback()
        row = db.session.get(model, row_id)
        if row is not None:
            detail = f"{type(exc).__name__}: {exc}"
            if row.attempts >= MAX_CLAIMS:
                give_up(row, f"gave up after {row.attempts} tries: {detail}", now)
            else:
                row.outcome_detail = f"try {row.attempts} failed, will try again: {detail}"[:500]
            db.session.commit()
        log.exception("%s.failed id=%s", what, row_id)
        if not isinstance(exc, StripeError) and current_task_is_eager():
            raise
        return "error"


@shared_task(name="schedule.sweep", acks_late=True)
def sweep() -> int:
    """Claim every due row and enqueue its task (beat runs this every 30 s)."""
    count = sweep_once(dt.datetime.now(dt.UTC))
    if count:
        log.info("schedule.swept count=%s", count)
    return count
