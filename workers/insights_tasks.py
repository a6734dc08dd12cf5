"""Insights tasks: build a CSV export a member asked for, the monthly summary email
(beat fans it out on the 1st, one task per workspace), and the LTV of recovered
customers (beat fans it out daily; a member may ask for it sooner)."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from celery.schedules import crontab
from flask import current_app
from sqlalchemy import select

from app.accounts.models import Workspace
from app.extensions import db
from app.insights import exports, lifetime, summary
from app.queue import enqueue
from app.recovery.models import RECOVERED, Campaign
from workers.celery_app import current_task_is_eager

log = logging.getLogger("backstop.workers")

BUILD_EXPORT = exports.BUILD_TASK
MONTHLY_SUMMARIES = "insights.monthly_summaries"
SEND_SUMMARY = "insights.send_monthly_summary"
DAILY_LTV = "insights.daily_ltv"
COMPUTE_LTV = lifetime.TASK
#: 12:00 UTC on the 1st: every timezone (UTC-12 to UTC+14) is on the 1st or the 2nd, so
#: "last month" is the same month for every workspace.
BEAT = {
    "monthly-summaries": {
        "task": MONTHLY_SUMMARIES,
        "schedule": crontab(minute=0, hour=12, day_of_month=1),
    },
    "daily-ltv": {"task": DAILY_LTV, "schedule": crontab(minute=30, hour=3)},
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@shared_task(name=BUILD_EXPORT, acks_late=True)
def build_export(export_id: int) -> str | None:
    """Write an export's CSV in batches, committing its progress after each; a failure
    is recorded on the export (the page offers to start it again)."""
    try:
        return exports.build(db.session, export_id, now=_now, checkpoint=db.session.commit)
    except Exception as exc:
        db.session.rollback()
        exports.fail(db.session, export_id, f"{type(exc).__name__}: {exc}", now=_now())
        db.session.commit()
        log.exception("insights.export.failed export=%s", export_id)
        if current_task_is_eager():
            raise
        return exports.FAILED


@shared_task(name=MONTHLY_SUMMARIES, acks_late=True)
def monthly_summaries() -> int:
    """Send one summary task per workspace (each sends at most once a month)."""
    ids = db.session.execute(select(Workspace.id).order_by(Workspace.id)).scalars().all()
    for workspace_id in ids:
        enqueue(db.session, SEND_SUMMARY, workspace_id)
    db.session.commit()
    return len(ids)


@shared_task(name=SEND_SUMMARY, acks_late=True)
def send_monthly_summary(workspace_id: int) -> str | None:
    """Email last month's figures to the workspace's owners, unless sent or turned off."""
    workspace = db.session.get(Workspace, workspace_id)
    if workspace is None:
        return None
    settings = current_app.config["BACKSTOP"]
    base = settings.base_url.rstrip("/")
    outcome = summary.send(
        db.session,
        workspace,
        now=_now(),
        mail_from=settings.mail_from,
        dashboard_url=f"{base}/dashboard",
        settings_url=f"{base}/exports",
    )
    db.session.commit()
    return outcome


@shared_task(name=DAILY_LTV, acks_late=True)
def daily_ltv() -> int:
    """One LTV computation per workspace that has recovered a payment."""
    ids = (
        db.session.execute(
            select(Campaign.workspace_id).where(Campaign.state == RECOVERED).distinct()
        )
        .scalars()
        .all()
    )
    for workspace_id in sorted(ids):
        enqueue(db.session, COMPUTE_LTV, workspace_id)
    db.session.commit()
    return len(ids)


@shared_task(name=COMPUTE_LTV, acks_late=True)
def compute_ltv(workspace_id: int) -> int | None:
    """Recompute a workspace's LTV of recovered customers; returns the customers followed."""
    if db.session.get(Workspace, workspace_id) is None:
        return None
    estimates = lifetime.compute(db.session, workspace_id, now=_now())
    db.session.commit()
    return sum(e.customers for e in estimates.values())
