"""Dunning tasks: the daily card-expiry scan, and sending one due expiry notice."""

from __future__ import annotations

import datetime as dt
import functools
import logging

from celery import shared_task
from celery.schedules import crontab
from sqlalchemy import select

from app.dunning import expiry
from app.dunning.models import ExpiryNotice
from app.extensions import db
from app.queue import enqueue
from app.stripe import clocks
from app.stripe import connection as stripe_connection
from app.stripe.client import StripeError
from app.stripe.models import StripeConnection
from workers.sweeper import run_claimed, sweepable

log = logging.getLogger("backstop.workers")

SCAN_ALL = "dunning.scan_expiring_cards"
SCAN_ONE = "dunning.scan_workspace_cards"
SEND_NOTICE = "dunning.send_expiry_notice"

BEAT = {
    "scan-expiring-cards": {"task": SCAN_ALL, "schedule": crontab(minute=15, hour=5)},  # 05:15 UTC
}

sweepable(ExpiryNotice, SEND_NOTICE, functools.partial(clocks.due_conditions, ExpiryNotice))


@shared_task(name=SCAN_ALL, acks_late=True)
def scan_expiring_cards() -> int:
    """Daily: one scan task per connected workspace."""
    ids = list(
        db.session.execute(
            select(StripeConnection.id).where(StripeConnection.status == "connected")
        ).scalars()
    )
    for connection_id in ids:
        enqueue(db.session, SCAN_ONE, connection_id)
    db.session.commit()
    return len(ids)


@shared_task(name=SCAN_ONE, bind=True, max_retries=5, acks_late=True)
def scan_workspace_cards(self, connection_id: int) -> int | None:
    """Plan the expiry notices of one workspace's active subscriptions."""
    connection = db.session.get(StripeConnection, connection_id)
    if connection is None or not connection.is_connected:
        return None
    try:
        added = expiry.scan(db.session, connection, now=dt.datetime.now(dt.UTC))
        db.session.commit()
    except StripeError as exc:
        db.session.rollback()
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2**self.request.retries))
    log.info("dunning.scanned workspace=%s added=%s", connection.workspace_id, added)
    return added


@shared_task(name=SEND_NOTICE, acks_late=True)
def send_expiry_notice(notice_id: int) -> str | None:
    """Send a due notice the sweeper claimed (a redelivery finds it taken)."""

    def run(notice: ExpiryNotice, now: dt.datetime) -> str:
        connection = stripe_connection.of_workspace(db.session, notice.workspace_id)
        outcome = expiry.send(db.session, connection, notice, now=now)
        db.session.commit()
        return outcome

    return run_claimed(
        ExpiryNotice,
        notice_id,
        run,
        give_up=lambda notice, detail, now: expiry.finish(notice, "error", detail, at=now),
        what="dunning.notice",
        routine=(StripeError,),
    )
