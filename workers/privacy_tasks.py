"""Data-rights tasks: build a workspace export a member or the API asked for."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

from app.extensions import db
from app.privacy import requests
from workers.celery_app import current_task_is_eager

log = logging.getLogger("backstop.workers")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@shared_task(name=requests.BUILD_TASK, acks_late=True)
def build_workspace_export(export_id: int) -> str | None:
    """Write the export's zip; a failure is recorded on the export (asking again works)."""
    try:
        return requests.build(db.session, export_id, now=_now, checkpoint=db.session.commit)
    except Exception as exc:
        db.session.rollback()
        requests.fail(db.session, export_id, f"{type(exc).__name__}: {exc}", now=_now())
        db.session.commit()
        log.exception("privacy.export.failed export=%s", export_id)
        if current_task_is_eager():
            raise
        return requests.FAILED
