"""The beat sweeper: claim due schedule rows and enqueue one task per row.

Task modules declare what to sweep with :func:`sweepable` (the model, its task, its due
conditions); the sweeper knows nothing of what the rows are. The claim (a lease) is
committed before any task is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.observability.context import bind_workspace
from app.queue import enqueue
from app.schedule.claims import claim_due, take
from workers.celery_app import current_task_is_eager

log = logging.getLogger("backstop.workers")

SWEEP = "schedule.sweep"
BEAT = {"sweep-due-rows": {"task": SWEEP, "schedule": dt.timedelta(seconds=30)}}

#: ``due(now)``: the conditions to claim rows by, one claim each.
Due = Callable[[dt.datetime], list[Any]]
#: What to sweep: the model, its task, and its due conditions (None: pending and due).
SWEPT: list[tuple[Any, str, Due | None]] = []


def sweepable(model: Any, task_name: str, due: Due | None = None) -> None:
    """Sweep ``model``'s due rows into ``task_name(row_id)``; the task takes its row
    (:func:`app.schedule.claims.take`: claimed rows are ``queued``)."""
    if all(entry[:2] != (model, task_name) for entry in SWEPT):
        SWEPT.append((model, task_name, due))


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
    work: Callable[[Any, dt.datetime], str | None],
    *,
    give_up: Callable[[Any, str, dt.datetime], Any],
    what: str,
    routine: tuple[type[Exception], ...] = (),
) -> str | None:
    """Take the row the sweeper queued (a redelivered message finds it taken and stops)
    and run ``work(row, now)``, which commits its own phases.

    A failure leaves the row running under its lease: when the lease runs out the
    sweeper hands it out again (the backoff); after :data:`MAX_CLAIMS` claims
    ``give_up(row, detail, now)`` ends it. A transaction PostgreSQL chose as a deadlock's
    victim (or a serialization failure) was rolled back whole: its lease is released at
    once, so the next sweep runs it again (each effect's idempotency key makes that
    harmless). ``routine`` failures (a provider down) are only recorded, even when tasks
    run eagerly (tests, where others are raised)."""
    now = dt.datetime.now(dt.UTC)
    lease = dt.timedelta(seconds=current_app.config["BACKSTOP"].step_lease_seconds)
    if not take(db.session, model, row_id, now=now, lease=lease):
        db.session.rollback()
        return None
    db.session.commit()
    row = db.session.get(model, row_id)
    bind_workspace(getattr(row, "workspace_id", None))
    try:
        return work(row, now)
    except Exception as exc:
        db.session.rollback()
        row = db.session.get(model, row_id)
        if row is not None:
            detail = f"{type(exc).__name__}: {exc}"
            conflict = is_transient_conflict(exc)
            if row.attempts >= MAX_CLAIMS:
                give_up(row, f"gave up after {row.attempts} tries: {detail}", now)
            else:
                if conflict:
                    row.lease_until = now  # claimable again by the next sweep
                then = "met a conflict, runs again" if conflict else "failed, will try again"
                row.outcome_detail = f"try {row.attempts} {then}: {detail}"[:500]
            db.session.commit()
        log.exception("%s.failed id=%s", what, row_id)
        if not isinstance(exc, routine) and current_task_is_eager():
            raise
        return "error"


#: PostgreSQL's SQLSTATEs for a transaction rolled back to end a conflict: a deadlock's
#: victim, a serialization failure.
TRANSIENT_CONFLICTS = frozenset({"40P01", "40001"})


def is_transient_conflict(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in TRANSIENT_CONFLICTS


@shared_task(name=SWEEP, acks_late=True)
def sweep() -> int:
    """Claim every due row and enqueue its task (beat runs this every 30 s)."""
    count = sweep_once(dt.datetime.now(dt.UTC))
    if count:
        log.info("schedule.swept count=%s", count)
    return count
