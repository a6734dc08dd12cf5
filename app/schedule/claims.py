"""The database holds every schedule: rows with ``due_at`` and a status, claimed by the
beat sweeper as leases.

A model that wants sweeping has ``status`` ("pending" | "running" | ...), ``due_at``,
``lease_until`` and ``attempts`` columns. :func:`claim_due` takes up to ``limit`` rows
that are due (or whose lease ran out: their worker died) and marks them running under a
new lease, in one statement per row set: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
conditional ``UPDATE`` on SQLite (one writer at a time there). Several beats at once
never claim the same row; the idempotency key of each effect makes a re-run harmless.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

DEFAULT_LEASE = dt.timedelta(minutes=5)


def claim_due(
    session: Session,
    model: Any,
    *,
    now: dt.datetime,
    limit: int = 500,
    lease: dt.timedelta = DEFAULT_LEASE,
    ready: Any = None,
    order_by: Any = None,
    ids: list[int] | None = None,
    claimed_status: str = "running",
) -> list[int]:
    """Claim due rows of ``model``; returns their ids (the caller commits, then enqueues).

    ``ready`` says which rows wait to be claimed (default: ``pending`` and due); a row
    claimed or running past its lease is always claimable again. ``ids`` narrows the
    claim. Claimed rows get ``claimed_status``: "running" when the claimer runs them
    itself, "queued" when a task will :func:`take` them."""
    if ready is None:
        ready = (model.status == "pending") & (model.due_at <= now)
    held = model.status.in_({"running", claimed_status})
    claimable = or_(ready, held & (model.lease_until <= now))
    if ids is not None:
        claimable = claimable & model.id.in_(ids)
    order = order_by if order_by is not None else model.due_at
    claim = {"status": claimed_status, "lease_until": now + lease, "attempts": model.attempts + 1}
    if session.get_bind().dialect.name == "postgresql":
        # Two selects, not one with OR: under an OR PostgreSQL cannot turn a correlated
        # EXISTS in ``ready`` (the test-clock steps) into a semi-join, and the claim
        # would cost what is stored rather than what is due (bench/bench_sweeper.py).
        expired = held & (model.lease_until <= now)
        found: list[int] = []
        for condition in (ready, expired):
            if len(found) >= limit:
                break
            if ids is not None:
                condition = condition & model.id.in_(ids)
            found += (
                session.execute(
                    select(model.id)
                    .where(condition)
                    .order_by(order)
                    .limit(limit - len(found))
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
        if found:
            session.execute(update(model).where(model.id.in_(found)).values(**claim))
        return list(found)
    candidates = (
        session.execute(select(model.id).where(claimable).order_by(order).limit(limit))
        .scalars()
        .all()
    )
    claimed = []
    for row_id in candidates:
        # Claim-by-update: only one updater sees the row still claimable.
        result = session.execute(update(model).where(model.id == row_id, claimable).values(**claim))
        if result.rowcount == 1:
            claimed.append(row_id)
    return claimed


def take(
    session: Session,
    model: Any,
    row_id: int,
    *,
    now: dt.datetime,
    lease: dt.timedelta = DEFAULT_LEASE,
) -> bool:
    """A task takes the queued row it was sent for: ``queued`` -> ``running`` under a fresh
    lease. False when another copy of the message (a redelivery) already took it."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, model.status == "queued")
        .values(status="running", lease_until=now + lease)
    )
    return result.rowcount == 1


def hand_over(
    session: Session,
    model: Any,
    task_name: str,
    ids: list[int],
    *,
    now: dt.datetime,
    conditions: list[Any],
    lease: dt.timedelta = DEFAULT_LEASE,
) -> list[int]:
    """What the sweeper's next pass would do for the rows ``ids``, done now: claim those
    that are due under one of ``conditions`` (as ``queued``) and send ``task_name(id)``
    for each after the caller's commit. A row stays in the schedule either way: if the
    task is lost, the lease runs out and the sweeper hands it out again."""
    if not ids:
        return []
    from ..queue import enqueue

    claimed: list[int] = []
    for ready in conditions:
        for row_id in claim_due(
            session,
            model,
            now=now,
            limit=len(ids),
            lease=lease,
            ready=ready,
            ids=ids,
            claimed_status="queued",
        ):
            if row_id not in claimed:
                claimed.append(row_id)
                enqueue(session, task_name, row_id)
    return claimed


def finish(row: Any, outcome: str, detail: str, *, at: dt.datetime) -> str:
    """Mark a claimed row of a schedule done with what came of it (in words, at most
    500 characters) and release its lease; returns ``outcome``."""
    row.status = "done"
    row.outcome = outcome
    row.outcome_detail = detail[:500]
    row.executed_at = at
    row.lease_until = None
    return outcome
