"""Integration tasks: deliver one outbound webhook or Slack/Discord post, the daily
digest (beat asks every hour; each workspace's goes once its morning has come), and the
nightly forgetting of deliveries the log no longer keeps."""

from __future__ import annotations

import datetime as dt
import logging
import random

from celery import shared_task
from celery.schedules import crontab
from flask import current_app
from sqlalchemy import select

from app.accounts.models import Workspace
from app.extensions import db
from app.integrations import deliveries, digest, outbound, transport
from app.integrations.deliveries import DELIVER_TASK
from app.integrations.models import Delivery
from app.queue import enqueue
from app.schedule.claims import take
from workers.sweeper import sweepable

log = logging.getLogger("backstop.workers")

DAILY_DIGESTS = "integrations.daily_digests"
SEND_DIGEST = "integrations.send_digest"
FORGET_OLD_DELIVERIES = "integrations.forget_old_deliveries"
BEAT = {
    "daily-digests": {"task": DAILY_DIGESTS, "schedule": crontab(minute=5)},
    "forget-old-deliveries": {
        "task": FORGET_OLD_DELIVERIES,
        "schedule": crontab(minute=35, hour=4),
    },
}

# Due retries are swept like every schedule; new deliveries are handed over at once by
# the commit that made them, and only come back here if that task was lost.
sweepable(Delivery, DELIVER_TASK)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["BACKSTOP"].step_lease_seconds)


@shared_task(name=DELIVER_TASK, acks_late=True)
def deliver(delivery_id: int) -> str | None:
    """One try of one delivery. The post happens with no transaction open; a worker
    that dies mid-way leaves the row to the sweeper when its lease runs out."""
    settings = current_app.config["BACKSTOP"]
    now = _now()
    if not take(db.session, Delivery, delivery_id, now=now, lease=_lease()):
        db.session.rollback()
        return None
    row = db.session.get(Delivery, delivery_id)
    if row is None:  # its endpoint or channel was deleted a moment ago
        db.session.rollback()
        return None
    request = outbound.prepare(db.session, row, now=now)
    db.session.commit()
    if request is None:
        return row.status  # cancelled, or failed when given up
    answer = transport.post(
        request.url,
        request.body,
        request.headers,
        timeout=settings.outbound_timeout_seconds,
        allow_loopback=settings.outbound_allow_loopback,
        require_https=not settings.outbound_allow_loopback,
    )
    row = db.session.get(Delivery, delivery_id)
    if row is None:  # deleted while the post was under way
        db.session.rollback()
        return None
    outcome = outbound.record(
        db.session,
        row,
        request,
        answer,
        now=_now(),
        draw=random.random(),
        mail_from=settings.mail_from,
        base_url=settings.base_url,
    )
    db.session.commit()
    log.info("integrations.delivered delivery=%s outcome=%s status=%s", delivery_id, outcome,
             answer.status)  # fmt: skip
    return outcome


@shared_task(name=DAILY_DIGESTS, acks_late=True)
def daily_digests() -> int:
    """One digest task per workspace with a channel that posts the digest."""
    ids = digest.workspaces_with_digest(db.session)
    for workspace_id in ids:
        enqueue(db.session, SEND_DIGEST, workspace_id)
    db.session.commit()
    return len(ids)


@shared_task(name=SEND_DIGEST, acks_late=True)
def send_digest(workspace_id: int) -> int | None:
    """Post yesterday's digest where it has not gone yet (nothing before 08:00 there)."""
    workspace = db.session.execute(
        select(Workspace).where(Workspace.id == workspace_id)
    ).scalar_one_or_none()
    if workspace is None:
        return None
    made = digest.send(
        db.session,
        workspace,
        now=_now(),
        base_url=current_app.config["BACKSTOP"].base_url,
        lease=_lease(),
    )
    db.session.commit()
    return len(made)


@shared_task(name=FORGET_OLD_DELIVERIES, acks_late=True)
def forget_old_deliveries() -> int:
    """Delete finished deliveries older than the log keeps, a committed batch at a time
    (no long lock on a big table); how many."""
    now, forgotten = _now(), 0
    while True:
        batch = deliveries.FORGET_BATCH
        done = deliveries.forget_old(db.session, now, batch=batch)
        db.session.commit()
        forgotten += done
        if done < batch:
            break
    log.info("integrations.deliveries_forgotten", extra={"deliveries": forgotten})
    return forgotten
