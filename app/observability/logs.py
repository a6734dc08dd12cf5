"""Logging, configured in one place (:func:`configure`, from ``create_app``).

Production writes one JSON object per line (``BACKSTOP_LOG_FORMAT=json``, the default
there): ``time``, ``level``, ``logger``, ``message``, ``event`` (the message's leading
dotted name, ``email.sent``), ``request_id``, ``workspace_id``, ``task``/``task_id`` in a
worker, ``exc`` for a traceback, and any ``extra={...}`` fields of the call. Development
and tests write the same facts as a readable line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import IO, Any

from flask import g, has_app_context

from . import context

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "workspace_id",
    "task",
    "task_id",
}
_EVENT = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
#: Marks the handler :func:`configure` installed, so a second app replaces it.
_OURS = "_backstop_handler"


class ContextFilter(logging.Filter):
    """Puts the request id, workspace and task of the current context on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get()
        record.workspace_id = context.workspace_id.get() or _workspace_from_request()
        running = context.task.get()
        record.task, record.task_id = running if running else (None, None)
        return True


def _workspace_from_request() -> int | None:
    """The workspace a request has already looked up: the dashboard's membership, or a
    custom domain's owner (never looks it up itself: a log line must not query)."""
    if not has_app_context():
        return None
    membership = g.get("membership")
    if membership is not None:
        return getattr(membership, "workspace_id", None)
    return g.get("custom_domain_workspace_id")


def event_of(message: str) -> str | None:
    """``email.sent workspace=3`` -> ``email.sent``: the house style's leading name."""
    head = message.split(" ", 1)[0]
    return head if _EVENT.fullmatch(head) else None


def _time(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        event = event_of(message)
        if event:
            line["event"] = event
        for key in ("request_id", "workspace_id", "task", "task_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(where)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        tags = [getattr(record, "request_id", None) or ""]
        if getattr(record, "workspace_id", None) is not None:
            tags.append(f"ws={record.workspace_id}")
        if getattr(record, "task", None):
            tags.append(f"task={record.task}")
        tags = [t for t in tags if t]
        record.where = f"[{' '.join(tags)}] " if tags else ""
        return super().format(record)


def handler(json_lines: bool, stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler writing Backstop's format (the context filter included)."""
    made = logging.StreamHandler(stream or sys.stderr)
    made.addFilter(ContextFilter())
    made.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    setattr(made, _OURS, True)
    return made


def configure(settings: Any, stream: IO[str] | None = None) -> logging.Handler:
    """Route the root logger through one handler of Backstop's format (replacing the one
    an earlier app installed) at ``LOG_LEVEL``."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    installed = handler(settings.json_logs, stream)
    root.addHandler(installed)
    root.setLevel(settings.log_level)
    # Importing Flask-Migrate sets up Alembic's plugins, a line each at INFO in every
    # process; migrations themselves still log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    return installed
