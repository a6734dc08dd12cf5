"""Celery's side: a task carries the request id of whatever enqueued it (a message
header set as it is published), runs under it, and is counted when it finishes, fails
or asks for a retry.

:func:`connect_publisher` runs in every process that sends tasks (``create_app``);
:func:`connect_worker` in the Celery worker (``workers/celery_app.py``). Signals are
process-wide, so each hook is connected once (``dispatch_uid``)."""

from __future__ import annotations

from typing import Any

from celery import signals

from . import context
from .metrics import instruments

HEADER = "backstop_request_id"
_TOKENS = "backstop_context_tokens"


def connect_publisher() -> None:
    signals.before_task_publish.connect(
        stamp_request_id, weak=False, dispatch_uid="backstop.stamp_request_id"
    )


def connect_worker() -> None:
    signals.task_prerun.connect(enter_task, weak=False, dispatch_uid="backstop.enter_task")
    signals.task_postrun.connect(leave_task, weak=False, dispatch_uid="backstop.leave_task")
    signals.task_failure.connect(count_failure, weak=False, dispatch_uid="backstop.task_failure")
    signals.task_retry.connect(count_retry, weak=False, dispatch_uid="backstop.task_retry")


def stamp_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """``before_task_publish``: the enqueuing request's (or task's) id goes along."""
    rid = context.request_id.get()
    if rid and headers is not None and HEADER not in headers:
        headers[HEADER] = rid


def enter_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """``task_prerun``: log as the request that enqueued the task. A task run in-process
    (tests) keeps its caller's id; one from the beat gets an id of its own."""
    if task is None:
        return
    request = task.request
    rid = getattr(request, HEADER, None) or (request.get("headers") or {}).get(HEADER)
    rid = rid or context.request_id.get() or context.new_request_id()
    # In-process, the caller's workspace still holds; a worker's thread starts afresh
    # (the task names its workspace once it has loaded its row).
    workspace = context.workspace_id.get() if request.is_eager else None
    tokens = (
        context.request_id.set(rid),
        context.workspace_id.set(workspace),
        context.task.set((task.name, task_id or "")),
    )
    setattr(request, _TOKENS, tokens)


def leave_task(task: Any = None, state: str | None = None, **_: Any) -> None:
    if task is None:
        return
    instruments.TASKS.labels(task.name, state or "UNKNOWN").inc()
    tokens = getattr(task.request, _TOKENS, None)
    if tokens is None:
        return
    setattr(task.request, _TOKENS, None)
    rid_token, ws_token, task_token = tokens
    try:
        context.task.reset(task_token)
        context.workspace_id.reset(ws_token)
        context.request_id.reset(rid_token)
    except ValueError:  # finished in another context than it started in
        context.task.set(None)
        context.workspace_id.set(None)
        context.request_id.set(None)


def count_failure(sender: Any = None, **_: Any) -> None:
    instruments.TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


def count_retry(sender: Any = None, **_: Any) -> None:
    instruments.TASK_RETRIES.labels(getattr(sender, "name", "unknown")).inc()
