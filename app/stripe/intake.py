"""Webhook intake: verify, store the raw event under its unique id, hand it to a worker.

Answering fast matters (Stripe waits on us), so intake does nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Flask
from sqlalchemy import Boolean, Connection, DateTime, Engine, bindparam, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.orm import Session

from ..extensions import db
from ..queue import Coalesced
from .intake_pg import ThreadConnections
from .models import StripeConnection

PROCESS_TASK = "stripe.process_event"
PENDING_TASK = "stripe.process_pending"
#: At most one wake-up per process in this many seconds: the stored row is the queue
#: entry (a worker claims every waiting event), the message only says "look now".
WAKE_EVERY = 0.2
_wake = Coalesced(PENDING_TASK, WAKE_EVERY)


class BadPayload(ValueError):
    """The body is not a Stripe event (not JSON, or no id/type)."""


@dataclass(frozen=True)
class Intake:
    event_id: str
    duplicate: bool
    row_id: int | None = None
    workspace_id: int | None = None


def parse(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
        body.decode("utf-8")  # stored as text, exactly as received
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past the parser's depth
        raise BadPayload("body is not JSON")
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or event.get("object") != "event"
        # Every Stripe event carries the object it is about; without one there is
        # nothing to process (a worker would fail on it later).
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        raise BadPayload("body is not a Stripe event")
    return event


def workspace_for_account(session: Session, account: str | None) -> int | None:
    """Platform events route by ``event.account`` to an OAuth-connected workspace."""
    if not account:
        return None
    return session.execute(
        select(StripeConnection.workspace_id)
        .where(StripeConnection.stripe_account_id == account, StripeConnection.mode == "oauth")
        .order_by(StripeConnection.id.desc())
        .limit(1)
    ).scalar_one_or_none()


_ROUTE_BY_ACCOUNT = (
    "(SELECT workspace_id FROM stripe_connection WHERE stripe_account_id = "
    ":account AND mode = 'oauth' ORDER BY id DESC LIMIT 1)"
)
_INSERT = """
INSERT INTO stripe_event (stripe_event_id, workspace_id, type, account, livemode,
                          stripe_created, payload, received_at, status, attempts)
SELECT :event_id, routed.workspace_id, :type, :account, :livemode, :created, {payload}, :now,
       CASE WHEN routed.workspace_id IS NULL THEN 'ignored' ELSE 'received' END, 0
FROM (SELECT {route} AS workspace_id) AS routed
WHERE true
ON CONFLICT (stripe_event_id) DO NOTHING
RETURNING id, workspace_id
"""
_STATEMENTS: dict[tuple[str, bool], Any] = {}


def _statement(dialect: str, routed: bool) -> Any:
    """One INSERT ... SELECT that routes, stores once and reports, built once per dialect:
    the intake's whole database work is this single round trip."""
    key = (dialect, routed)
    if key not in _STATEMENTS:
        payload = "CAST(:payload AS JSON)" if dialect == "postgresql" else ":payload"
        sql = _INSERT.format(
            payload=payload, route=_ROUTE_BY_ACCOUNT if routed else ":workspace_id"
        )
        _STATEMENTS[key] = text(sql).bindparams(
            bindparam("now", type_=DateTime(timezone=True)), bindparam("livemode", type_=Boolean())
        )
    return _STATEMENTS[key]


def store(
    connection: Connection,
    event: dict[str, Any],
    raw: bytes,
    *,
    workspace_id: int | None = None,
    route_by_account: bool = False,
) -> Intake:
    """Insert the event once, exactly as received; a duplicate delivery changes nothing.

    The caller commits, then calls :func:`dispatch` with the result."""
    statement = _statement(connection.dialect.name, route_by_account)
    return _result(event, connection.execute(statement, _params(event, raw, workspace_id)).first())


def _result(event: dict[str, Any], row: Any) -> Intake:
    """What the insert's ``RETURNING id, workspace_id`` says: no row, a duplicate."""
    if row is None:
        return Intake(event["id"], duplicate=True)
    return Intake(event["id"], duplicate=False, row_id=row[0], workspace_id=row[1])


def receive(app: Flask, event: dict[str, Any], raw: bytes, *, workspace_id: int | None) -> Intake:
    """Store one delivery in a statement of its own, committed at once; ``workspace_id``
    None routes by ``event.account``. The caller then calls :func:`dispatch`.

    On PostgreSQL the insert runs on intake's own per-thread connections
    (:mod:`.intake_pg`), retried once on a fresh connection if the thread's had broken:
    if the first try was stored after all, the second finds the row and reports a
    duplicate, and the beat's sweep processes the event. SQLite (development, tests)
    uses the app's engine: there is no network to go stale, and an in-memory database
    lives in that engine only."""
    routed = workspace_id is None
    if db.engine.dialect.name != "postgresql":
        with db.engine.connect() as connection:
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            return store(autocommit, event, raw, workspace_id=workspace_id, route_by_account=routed)
    params = _params(event, raw, workspace_id)
    sql, names = _positional(routed)
    return _result(event, _connections(app).fetch_one(sql, [params[n] for n in names]))


_POSITIONAL: dict[bool, tuple[str, list[str]]] = {}


def _positional(routed: bool) -> tuple[str, list[str]]:
    """The insert as psycopg's positional SQL, and the parameter names in their order."""
    if routed not in _POSITIONAL:
        compiled = _statement("postgresql", routed).compile(
            dialect=PGDialect_psycopg(paramstyle="format")
        )
        _POSITIONAL[routed] = (str(compiled), list(compiled.positiontup or ()))
    return _POSITIONAL[routed]


_CONNECTIONS_KEY = "backstop.stripe_intake_connections"
_connections_lock = threading.Lock()


def _connections(app: Flask) -> ThreadConnections:
    """Made on first use, per app; closed, and made again on next use, whenever the
    app's engine is disposed."""
    connections = app.extensions.get(_CONNECTIONS_KEY)
    if connections is None:
        with _connections_lock:
            connections = app.extensions.get(_CONNECTIONS_KEY)
            if connections is None:
                url = db.engine.url.set(drivername="postgresql")
                connections = ThreadConnections(url.render_as_string(hide_password=False))
                sqlalchemy_event.listen(
                    db.engine, "engine_disposed", partial(_forget_connections, app, connections)
                )
                app.extensions[_CONNECTIONS_KEY] = connections
    return connections


def _forget_connections(app: Flask, connections: ThreadConnections, _disposed: Engine) -> None:
    if app.extensions.get(_CONNECTIONS_KEY) is connections:
        del app.extensions[_CONNECTIONS_KEY]
    connections.close()


def dispatch(result: Intake) -> None:
    """After the commit: wake a worker for a routed, new event.

    Publishing once per event would cost more than storing it, so wake-ups are
    coalesced; the beat also sweeps waiting events every few seconds, so a wake-up lost
    to a crash delays an event, never drops it."""
    if not result.duplicate and result.workspace_id is not None:
        _wake.request()


def _params(event: dict[str, Any], raw: bytes, workspace_id: int | None) -> dict[str, Any]:
    account = event.get("account")
    return {
        "event_id": event["id"],
        "workspace_id": workspace_id,
        "type": event["type"][:100],
        "account": account if isinstance(account, str) else None,
        "livemode": bool(event.get("livemode")),
        "created": _int(event.get("created")),
        "payload": raw.decode("utf-8"),
        "now": dt.datetime.now(dt.UTC),
    }


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
