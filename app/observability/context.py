"""The request id (and the workspace, once known) of the work under way, for every log
line it writes and every task it enqueues.

Context variables, not ``g``: a log line may be written outside an app context (a
Celery task's own logger, a library) and gthread workers reuse threads, so each
request sets and then resets them (:mod:`.requests`), as each task does
(:mod:`.tasks`)."""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "backstop_request_id", default=None
)
workspace_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "backstop_workspace_id", default=None
)
#: (task name, task id) of the Celery task running in this thread, if any.
task: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "backstop_task", default=None
)

#: An incoming ``X-Request-ID`` is kept only if it is this: short and free of anything a
#: log line or a header could be confused by (quotes, spaces, newlines).
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
HEADER = "X-Request-ID"


def new_request_id() -> str:
    return os.urandom(16).hex()


def accept_request_id(incoming: str | None) -> str:
    """The caller's id when it is sane (a proxy's or load balancer's, so lines join up
    across them), a new one otherwise."""
    if incoming and _SANE.fullmatch(incoming):
        return incoming
    return new_request_id()


def bind_workspace(value: int | None) -> None:
    """Say which workspace the current request or task is about (its log lines carry it)."""
    workspace_id.set(value)


@contextmanager
def bound(rid: str | None, workspace: int | None = None) -> Iterator[None]:
    """Run a block under ``rid`` (and ``workspace``), restoring what was there after."""
    rid_token = request_id.set(rid)
    ws_token = workspace_id.set(workspace)
    try:
        yield
    finally:
        workspace_id.reset(ws_token)
        request_id.reset(rid_token)
