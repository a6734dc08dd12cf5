"""The delivery schedule's moves every service shares: hand new rows to the worker now
(after the commit), cancel what a target still had to deliver, and forget finished
deliveries once the log no longer keeps them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..queue import enqueue
from .models import CANCELLED, OPEN_STATES, QUEUED, Delivery, DeliveryAttempt

DELIVER_TASK = "integrations.deliver"

#: The delivery log keeps a delivery (with its tries) this long after it was made; a
#: delivery has finished by then (retries end 3 days after the first try).
KEEP = dt.timedelta(days=30)
FORGET_BATCH = 1000


def hand_over_new(
    session: Session, deliveries: Iterable[Delivery], *, now: dt.datetime, lease: dt.timedelta
) -> None:
    """Claim the rows (new or not yet added) for a task sent after the commit, as the
    sweeper would; a lost task leaves them to the sweeper once the lease runs out."""
    rows = list(deliveries)
    for row in rows:
        row.status = QUEUED
        row.lease_until = now + lease
        row.attempts = (row.attempts or 0) + 1
    session.add_all(rows)
    session.flush()
    for row in rows:
        enqueue(session, DELIVER_TASK, row.id)


def cancel_open(
    session: Session, *, why: str, endpoint_id: int | None = None, channel_id: int | None = None
) -> None:
    """Cancel every delivery of one endpoint or channel that has not finished."""
    target = (
        Delivery.endpoint_id == endpoint_id
        if endpoint_id is not None
        else Delivery.channel_id == channel_id
    )
    session.execute(
        update(Delivery)
        .where(target, Delivery.status.in_(OPEN_STATES))
        .values(status=CANCELLED, lease_until=None, last_error=why[:500])
        .execution_options(synchronize_session=False)
    )


def forget_old(session: Session, now: dt.datetime, *, batch: int = FORGET_BATCH) -> int:
    """Delete one batch of finished deliveries made over ``KEEP`` ago, tries first; how
    many (fewer than ``batch``: nothing older is left). Open ones are never touched."""
    ids = list(
        session.execute(
            select(Delivery.id)
            .where(Delivery.created_at < now - KEEP, Delivery.status.not_in(OPEN_STATES))
            .order_by(Delivery.id)
            .limit(batch)
        ).scalars()
    )
    if ids:
        session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids)))
        session.execute(delete(Delivery).where(Delivery.id.in_(ids)))
    return len(ids)
