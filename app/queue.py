"""The one way ``app/`` starts background work: enqueue a task **by name**, sent only
after the database commit (a rolled-back transaction leaves no task behind).

``app/`` never imports ``workers/``; the Celery object created here is the producer,
and ``workers/celery_app.py`` registers the tasks on it and runs them.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("backstop.queue")
_PENDING = "backstop.pending_tasks"


def init_queue(app: Flask) -> Celery:
    settings = app.config["BACKSTOP"]
    celery = Celery("backstop", set_as_current=False)
    celery.conf.update(
        broker_url=settings.broker_url,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_always_eager=settings.task_always_eager,
        task_eager_propagates=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
    )
    app.extensions["celery"] = celery
    return celery


def enqueue(session: Session, task_name: str, *args: Any) -> None:
    """Send ``task_name(*args)`` once ``session`` commits; dropped on rollback."""
    session.info.setdefault(_PENDING, []).append((task_name, args))


def send_now(task_name: str, *args: Any) -> None:
    """Send at once: only for callers that just committed their own transaction
    (the webhook intake, which writes through a bare connection, not the session)."""
    celery: Celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        # Runs in a fresh app context (and so a fresh session) via the Task class.
        celery.tasks[task_name].apply(args=args, throw=True)
    else:
        celery.send_task(task_name, args=list(args))
    log.debug("task.enqueued name=%s args=%s", task_name, args)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    for name, args in session.info.pop(_PENDING, []):
        send_now(name, *args)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
