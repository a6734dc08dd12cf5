"""``celery -A workers.celery_app worker`` / ``beat``.

The Celery object is the one ``create_app`` made (``app.extensions["celery"]``); here
it gets the Task class that runs every call inside the app context, the task modules
and the beat schedule. Tasks are named explicitly and take ids, JSON only.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
from typing import Any

from celery import Celery, Task, current_task, signals
from flask import Flask

TASK_MODULES = [
    "workers.stripe_tasks",
    "workers.sweeper",
    "workers.recovery_tasks",
    "workers.email_tasks",
    "workers.dunning_tasks",
    "workers.event_tasks",
    "workers.retain_tasks",
    "workers.portal_tasks",
    "workers.winback_tasks",
    "workers.checkout_recovery_tasks",
    "workers.insights_tasks",
    "workers.privacy_tasks",
    "workers.account_tasks",
    "workers.dispute_tasks",
    "workers.sms_tasks",
    "workers.integration_tasks",
]


def current_task_is_eager() -> bool:
    """Whether the running task runs in-process (tests), where failures are raised."""
    return bool(current_task and current_task.request.is_eager)


def beat_schedule(sweep_every: dt.timedelta) -> dict[str, dict[str, Any]]:
    """Beat runs only sweepers and daily scans, each declared by its task module as
    ``BEAT``; every other schedule lives in the database."""
    schedule: dict[str, dict[str, Any]] = {}
    for name in TASK_MODULES:
        schedule.update(getattr(importlib.import_module(name), "BEAT", {}))
    schedule["sweep-due-rows"] = {**schedule["sweep-due-rows"], "schedule": sweep_every}
    return schedule


def init_celery(flask_app: Flask) -> Celery:
    """Give the app's Celery object its Task class, tasks and beat schedule."""
    celery: Celery = flask_app.extensions["celery"]
    if flask_app.extensions.get("celery.ready"):
        return celery

    class AppContextTask(Task):
        abstract = True

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    celery.Task = AppContextTask  # type: ignore[misc]
    _connect_observability(flask_app)
    sweep_every = dt.timedelta(seconds=flask_app.config["BACKSTOP"].sweep_seconds)
    celery.conf.beat_schedule = beat_schedule(sweep_every)
    celery.finalize(auto=True)
    flask_app.extensions["celery.ready"] = True
    return celery


def _connect_observability(flask_app: Flask) -> None:
    """Tasks log under the request id that enqueued them and are counted; the worker
    logs in Backstop's format (``create_app`` configured it: Celery must not replace it)
    and serves its processes' metrics on ``BACKSTOP_WORKER_METRICS_PORT``."""
    from app.observability import tasks
    from app.observability.metrics import exposition

    tasks.connect_worker()
    signals.setup_logging.connect(_keep_logging, weak=False, dispatch_uid="backstop.logging")
    port = flask_app.config["BACKSTOP"].worker_metrics_port

    def serve_metrics(**_: Any) -> None:
        # The main process, before the pool forks: clear the last run's counters, then
        # serve every pool process's (prometheus_client's multiprocess mode).
        exposition.prepare_dir(wipe=True)
        if port:
            from prometheus_client import start_http_server

            try:
                start_http_server(port, registry=exposition.registry())
            except OSError:  # taken (a second worker on the machine): work on, unscraped
                logging.getLogger("backstop.workers").exception(
                    "metrics.port_unavailable port=%s", port
                )

    def process_exited(**_: Any) -> None:
        exposition.process_exited(os.getpid())

    signals.worker_init.connect(serve_metrics, weak=False, dispatch_uid="backstop.metrics")
    signals.worker_process_shutdown.connect(
        process_exited, weak=False, dispatch_uid="backstop.metrics_exit"
    )


def _keep_logging(**_: Any) -> None:
    """Connected to ``setup_logging`` so that Celery leaves the root logger as it is."""


_celery: Celery | None = None


def __getattr__(name: str) -> Any:
    """``celery -A workers.celery_app`` asks for ``app``/``celery``: build it on demand,
    so importing this module (in tests) creates no app and reads no environment."""
    global _celery
    if name in ("app", "celery"):
        if _celery is None:
            from app import create_app

            _celery = init_celery(create_app())
        return _celery
    raise AttributeError(name)
