"""Dunning tasks: the daily card-expiry scan, and sending one due expiry notice."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from app.dunning import expiry
from app.dunning.models import ExpiryNotice
from app.extensions import db
from app.queue import enqueue
from app.schedule import take
from app.stripe.client import StripeError
from app.stripe.models import StripeConnection
from workers.stripe_tasks import current_task_is_eager
from workers.sweeper import due_on_clocks, sweepable

log = logging.getLogger("backstop.workers")

SCAN_ALL = "dunning.scan_expiring_cards"
SCAN_ONE = "dunning.scan_workspace_cards"
SEND_NOTICE = "dunning.send_expiry_notice"
MAX_CLAIMS = 6

sweepable(ExpiryNotice, SEND_NOTICE, due_on_clocks(ExpiryNotice))


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
    now = dt.datetime.now(dt.UTC)
    lease = dt.timedelta(seconds=current_app.config["BACKSTOP"].step_lease_seconds)
    if not take(db.session, ExpiryNotice, notice_id, now=now, lease=lease):
        db.session.rollback()
        return None
    db.session.commit()
    notice = db.session.get(ExpiryNotice, notice_id)
    connection = db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == notice.workspace_id)
    ).scalar_one_or_none()
    try:
        outcome = expiry.send(db.session, connection, notice, now=now)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        notice = db.session.get(ExpiryNotice, notice_id)
        detail = f"{type(exc).__name__}: {exc}"
        if notice.attempts >= MAX_CLAIMS:
            expiry.finish(
                notice, "error", f"gave up after {notice.attempts} tries: {detail}", at=now
            )
        else:
            notice.outcome_detail = f"try {notice.attempts} failed, will try again: {detail}"[:500]
        db.session.commit()
        log.exception("dunning.notice.failed notice=%s", notice_id)
        if not isinstance(exc, StripeError) and current_task_is_eager():
            raise
        return "error"
    return outcome
