"""Accounts housekeeping: forget ended sign-in sessions and quiet throttle counters."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from celery.schedules import crontab

from app.accounts import throttle, user_sessions
from app.extensions import db

log = logging.getLogger("backstop.workers")

FORGET_STALE_SIGN_INS = "accounts.forget_stale_sign_ins"

BEAT = {
    "forget-stale-sign-ins": {
        "task": FORGET_STALE_SIGN_INS,
        "schedule": crontab(minute=15, hour=4),
    },
}


@shared_task(name=FORGET_STALE_SIGN_INS, acks_late=True)
def forget_stale_sign_ins() -> dict[str, int]:
    """Delete sessions that ended over 30 days ago and throttle counters no law needs."""
    now = dt.datetime.now(dt.UTC)
    forgotten = {
        "sessions": user_sessions.forget_ended(db.session, now),
        "throttles": throttle.forget_quiet(db.session, now),
    }
    db.session.commit()
    log.info("accounts.sign_ins_forgotten", extra=forgotten)
    return forgotten
