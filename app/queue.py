"""The one way ``app/`` starts background work: enqueue a task **by name**, sent only
after the database commit (a rolled-back transaction leaves no task behind).

``app/`` never imports ``workers/``; the Celery object created here is the producer,
and ``workers/celery_app.py`` registers the tasks on it and runs them.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Celery
from flask import Flask, current_app
from kombu import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger("backstop.queue")
_PENDING = "backstop.pending_tasks"

#: Mail has a queue of its own: a slow provider never holds up charges and events, and
#: mail can be given workers of its own (``celery worker -Q mail``). A worker started
#: without ``-Q`` consumes both.
DEFAULT_QUEUE, MAIL_QUEUE = "celery", "mail"
#: How often a worker on the database broker looks for new tasks (RabbitMQ pushes them).
POLL_SECONDS = 0.1


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
        # After a broker restart with tasks still running, Celery lowers the prefetch
        # count and restores it as acks come in; that bookkeeping can leave a worker
        # consuming nothing at all (seen by tests/e2e/test_chaos.py; celery#8796,
        # #9512). Our tasks are short and idempotent: fetching a couple more is harmless.
        worker_enable_prefetch_count_reduction=False,
        task_default_queue=DEFAULT_QUEUE,
        task_queues=(Queue(DEFAULT_QUEUE), Queue(MAIL_QUEUE)),
        task_routes={"email.*": {"queue": MAIL_QUEUE}},
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
    )
    if settings.broker_url.startswith("sqla+"):
        _poll_the_database_broker_often()
    app.extensions["celery"] = celery
    return celery


def _poll_the_database_broker_often() -> None:
    """kombu's database transport (the embedded default) looks for new messages once a
    second: a task waited that long at every hand-off, and a worker took one or two a
    second. The documented ``polling_interval`` transport option cannot be used with it:
    that transport hands all its options to ``create_engine``, which refuses the key.
    So its class default is lowered (an attribute kombu reads for exactly this)."""
    from kombu.transport import sqlalchemy as database_transport

    database_transport.Transport.polling_interval = POLL_SECONDS


def enqueue(session: Session, task_name: str, *args: Any) -> None:
    """Send ``task_name(*args)`` once ``session`` commits; dropped on rollback."""
    target = session() if isinstance(session, scoped_session) else session
    if not target.in_transaction():
        target.begin()  # so that a rollback, even of nothing else, drops the task too
    target.info.setdefault(_PENDING, []).append((task_name, args))


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


class Coalesced:
    """Sends one argument-less task at most once per ``every`` seconds per process, and
    always once more after the last request (a trailing send from a daemon thread), so a
    burst of requests costs a few messages and none is left without a wake-up."""

    def __init__(self, task_name: str, every: float):
        self.task_name = task_name
        self.every = every
        self.lock = threading.Lock()
        self.last = 0.0
        self.pending = False
        self.thread: threading.Thread | None = None
        self.celery: Celery | None = None

    def request(self) -> None:
        celery: Celery = current_app.extensions["celery"]
        if celery.conf.task_always_eager:
            send_now(self.task_name)
            return
        with self.lock:
            self.celery = celery
            now = time.monotonic()
            if now - self.last >= self.every:
                self.last = now
            else:
                self.pending = True
                if self.thread is None or not self.thread.is_alive():
                    self.thread = threading.Thread(
                        target=self._trail, daemon=True, name=f"coalesce-{self.task_name}"
                    )
                    self.thread.start()
                return
        celery.send_task(self.task_name)

    def _trail(self) -> None:
        while True:
            time.sleep(self.every)
            with self.lock:
                if not self.pending:
                    continue
                self.pending = False
                self.last = time.monotonic()
                celery = self.celery
            if celery is not None:
                celery.send_task(self.task_name)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the work is not committed until the outer commit
    for name, args in session.info.pop(_PENDING, []):
        send_now(name, *args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    # The soft rollback fires on every rollback(), even when nothing reached the
    # database yet (a "real" rollback does not), and enqueue() touches no database.
    # A savepoint rolled back (a lost insert race) keeps the outer transaction's tasks.
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
