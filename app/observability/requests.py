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
    environ = request.environ
    environ[_STARTED] = time.perf_counter()
    rid = context.accept_request_id(request.headers.get(context.HEADER))
    environ[_TOKENS] = (context.request_id.set(rid), context.workspace_id.set(None))


def _finish(response: Response) -> Response:
    rid = context.request_id.get()
    if rid:
        response.headers[context.HEADER] = rid
    started = request.environ.get(_STARTED)
    elapsed = time.perf_counter() - started if started is not None else 0.0
    group = request.blueprint or "app"
    instruments.HTTP_REQUESTS.labels(group, request.method, str(response.status_code)).inc()
    instruments.HTTP_DURATION.labels(group).observe(elapsed)
    access_log.info(
        "http.request %s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            "remote_addr": request.remote_addr,
        },
    )
    return response


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
