"""Stripe tasks: process a stored event; import one page of the mirror."""

from __future__ import annotations

import datetime as dt
import logging
import time

from celery import shared_task

from app.extensions import db
from app.observability.context import bind_workspace
from app.queue import enqueue
from app.stripe import connection as connection_service
from app.stripe import processing
from app.stripe.models import StripeConnection, StripeEvent
from workers.celery_app import current_task_is_eager

log = logging.getLogger("backstop.workers")

PROCESS_PENDING = "stripe.process_pending"
#: Events are woken on arrival; this catches any whose wake-up was lost.
BEAT = {"sweep-stripe-events": {"task": PROCESS_PENDING, "schedule": dt.timedelta(seconds=5)}}


def _process_claimed(event_id: int) -> str | None:
    """Process one event this worker claimed, in its own transaction."""
    event = db.session.get(StripeEvent, event_id)
    if event is None:
        return None
    bind_workspace(event.workspace_id)  # its log lines say whose event it is
    try:
        status = processing.process(db.session, event)
        db.session.commit()
        return status
    except Exception as exc:
        db.session.rollback()
        event = db.session.get(StripeEvent, event_id)
        if event is not None:
            processing.record_failure(event, f"{type(exc).__name__}: {exc}")
            db.session.commit()
        log.exception("stripe.event.failed event=%s", event_id)
        raise


@shared_task(name="stripe.process_event", bind=True, max_retries=8, acks_late=True)
def process_event(self, event_id: int) -> str | None:
    """Claim and act on one stored event (a replay); a processed event is left alone."""
    claimed = processing.claim(db.session, now=dt.datetime.now(dt.UTC), event_id=event_id)
    db.session.commit()
    if not claimed:
        return None
    try:
        return _process_claimed(event_id)
    except Exception as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(600, 2**self.request.retries * 5))


@shared_task(name=PROCESS_PENDING, acks_late=True)
def process_pending(batch: int = 100) -> int:
    """Claim every stored event waiting for a worker, oldest first, and act on each.

    Woken by the intake (at most a few times a second) and by the beat as a safety net;
    several workers share the work through the claims."""
    done = 0
    while True:
        ids = processing.claim(db.session, now=dt.datetime.now(dt.UTC), limit=batch)
        db.session.commit()
        if not ids:
            return done
        for event_id in ids:
            try:
                _process_claimed(event_id)
            except Exception:  # recorded on the event; staff replay it
                if current_task_is_eager():
                    raise
            done += 1


@shared_task(name="stripe.import_page", bind=True, max_retries=8, acks_late=True)
def import_page(self, connection_id: int) -> bool | None:
    """Import one page, then enqueue the next: resumable, and never one long task."""
    connection = db.session.get(StripeConnection, connection_id)
    if connection is None:
        return None
    try:
        done = connection_service.import_page(db.session, connection, now=int(time.time()))
        if not done:
            enqueue(db.session, "stripe.import_page", connection_id)
        db.session.commit()
        return done
    except Exception as exc:
        db.session.rollback()
        connection = db.session.get(StripeConnection, connection_id)
        if connection is not None:
            connection.import_error = f"The import stopped: {exc}"[:500]
            connection.import_status = "failed"
            db.session.commit()
        log.exception("stripe.import.failed connection=%s", connection_id)
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(600, 2**self.request.retries * 5))
