"""Event tasks: hand one committed domain event to its consumers."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from sqlalchemy import false

from app.events import services as events
from app.events.models import DomainEvent
from app.extensions import db
from app.schedule.claims import take
from workers.sweeper import sweepable

log = logging.getLogger("backstop.workers")

BEAT: dict = {}

# Every event is handed over by the task its commit sent; the sweeper only takes back
# those whose task was lost or whose hand-over failed (their lease ran out).
sweepable(DomainEvent, events.DISPATCH_TASK, lambda now: [false()])


@shared_task(name=events.DISPATCH_TASK, acks_late=True)
def dispatch(event_id: int) -> str | None:
    """Run the consumers of one event (a redelivered message finds it taken)."""
    now = dt.datetime.now(dt.UTC)
    if not take(db.session, DomainEvent, event_id, now=now, lease=events.LEASE):
        db.session.rollback()
        return None
    db.session.commit()
    event = db.session.get(DomainEvent, event_id)
    try:
        status = events.dispatch(db.session, event, now=now)
    except Exception:
        db.session.commit()  # the attempt and its error, for staff; the lease brings it back
        log.exception("event.dispatch_failed event=%s name=%s", event_id, event.name)
        return "error"
    db.session.commit()
    return status
