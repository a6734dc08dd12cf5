"""Stripe tasks: process a stored event; import one page of the mirror."""

from __future__ import annotations

import logging
import time

from celery import shared_task

from app.extensions import db
from app.queue import enqueue
from app.stripe import connection as connection_service
from app.stripe import processing
from app.stripe.models import StripeConnection, StripeEvent

log = logging.getLogger("backstop.workers")


@shared_task(name="stripe.process_event", bind=True, max_retries=8, acks_late=True)
def process_event(self, event_id: int) -> str | None:
    """Act on one stored event (idempotent: a processed event is left alone)."""
    event = db.session.get(StripeEvent, event_id)
    if event is None:
        return None
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
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(600, 2 ** self.request.retries * 5))


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
        raise self.retry(exc=exc, countdown=min(600, 2 ** self.request.retries * 5))
