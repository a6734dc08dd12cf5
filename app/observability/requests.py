"""Per request: adopt or make the request id, answer with it in ``X-Request-ID``, write
one access line (``http.request``) and count the request.

The access line replaces gunicorn's own access log (off in the ``Procfile``): it is in
the same format as every other line and carries the request id and the workspace.
Nothing here touches the database: the webhook intake is measured (bench/)."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, request

from . import context
from .metrics import instruments

access_log = logging.getLogger("backstop.access")
_STARTED = "backstop.started"
_TOKENS = "backstop.context_tokens"


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)


def _begin() -> None:
    current = request._get_current_object()  # type: ignore[attr-defined]
    environ = current.environ
    environ[_STARTED] = time.perf_counter()
    rid = context.accept_request_id(current.headers.get(context.HEADER))
    environ[_TOKENS] = (context.request_id.set(rid), context.workspace_id.set(None))


def _finish(response: Response) -> Response:
    current = request._get_current_object()  # type: ignore[attr-defined]
    rid = context.request_id.get()
    if rid:
        response.headers[context.HEADER] = rid
    started = current.environ.get(_STARTED)
    elapsed = time.perf_counter() - started if started is not None else 0.0
    group = current.blueprint or "app"
    method, status = current.method, response.status_code
    instruments.HTTP_REQUESTS.labels(group, method, str(status)).inc()
    instruments.HTTP_DURATION.labels(group).observe(elapsed)
    if access_log.isEnabledFor(logging.INFO):
        path = loggable_path(current.path, current.view_args)
        access_log.info(
            "http.request %s %s %s",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "remote_addr": current.remote_addr,
            },
        )
    return response


def loggable_path(path: str, view_args: dict | None) -> str:
    """The path with its secret parts (a customer's link token, a workspace's webhook
    token) replaced by their name: the link itself is the customer's key."""
    for name, value in (view_args or {}).items():
        if "token" in name or "secret" in name:
            path = path.replace(str(value), f"<{name}>")
    return path


def _forget(_exc: BaseException | None) -> None:
    """gthread workers reuse threads: the next request must not inherit this one's id."""
    tokens = request.environ.pop(_TOKENS, None)
    if tokens is not None:
        rid_token, ws_token = tokens
        try:
            context.workspace_id.reset(ws_token)
            context.request_id.reset(rid_token)
        except ValueError:  # torn down in another context (a streamed response)
            context.workspace_id.set(None)
            context.request_id.set(None)
