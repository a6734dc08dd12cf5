"""Webhook intake: verify, store the raw event under its unique id, hand it to a worker.

Answering fast matters (Stripe waits on us), so intake does nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Flask
from sqlalchemy import (
    Boolean,
    Connection,
    DateTime,
    Engine,
    bindparam,
    create_engine,
    select,
    text,
)
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..extensions import db
from ..queue import Coalesced
from .models import StripeConnection

log = logging.getLogger("backstop.stripe")

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
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("body is not JSON")
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or event.get("object") != "event"
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
    row = connection.execute(statement, _params(event, raw, workspace_id)).first()
    if row is None:
        return Intake(event["id"], duplicate=True)
    return Intake(event["id"], duplicate=False, row_id=row[0], workspace_id=row[1])


def receive(app: Flask, event: dict[str, Any], raw: bytes, *, workspace_id: int | None) -> Intake:
    """Store one delivery in a statement of its own, committed at once; ``workspace_id``
    None routes by ``event.account``. The caller then calls :func:`dispatch`.

    Connections are not pinged before use (a ping is a second round trip per event), so
    one that went stale (the database restarted, a socket was dropped) fails here
    instead: the pool is emptied and the insert runs once more on a fresh connection.
    Running it twice is harmless: if the first try was stored after all, the second
    finds the row and reports a duplicate, and the beat's sweep processes the event."""
    engine = _engine(app)
    params = _params(event, raw, workspace_id)
    routed = workspace_id is None
    for attempt in (1, 2):
        try:
            if engine.dialect.name == "postgresql":
                row = _insert_psycopg(engine, routed, params)
            else:
                with engine.connect() as connection:
                    row = connection.execute(
                        _statement(engine.dialect.name, routed), params
                    ).first()
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
            log.warning("stripe.intake.reconnect event=%s error=%s", event["id"], exc.orig)
            engine.dispose()
            continue
        if row is None:
            return Intake(event["id"], duplicate=True)
        return Intake(event["id"], duplicate=False, row_id=row[0], workspace_id=row[1])
    raise AssertionError("unreachable: the second attempt returns or raises")


_SQL_PSYCOPG: dict[bool, str] = {}


def _insert_psycopg(engine: Engine, routed: bool, params: dict[str, Any]) -> Any:
    """The insert straight on the pooled psycopg connection: SQLAlchemy's statement
    execution machinery costs about as much CPU as the rest of the request."""
    sql = _SQL_PSYCOPG.get(routed)
    if sql is None:
        sql = _SQL_PSYCOPG[routed] = str(
            _statement("postgresql", routed).compile(dialect=engine.dialect)
        )
    connection = engine.raw_connection()
    cursor = None
    try:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return cursor.fetchone()
    except engine.dialect.loaded_dbapi.Error as exc:
        invalidated = engine.dialect.is_disconnect(exc, connection.dbapi_connection, cursor)
        if invalidated:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, params, exc, engine.dialect.loaded_dbapi.Error, connection_invalidated=invalidated
        ) from exc
    finally:
        if cursor is not None:
            cursor.close()
        connection.close()


_ENGINE_KEY = "backstop.stripe_intake_engine"
_engine_lock = threading.Lock()


def _engine(app: Flask) -> Engine:
    """On PostgreSQL, intake's own small pool: autocommit set once per connection (not
    on every checkout), no ping, no rollback on return (there is never a transaction
    open). SQLite (development, tests) uses the app's engine: there is no network to go
    stale, and an in-memory database lives in that engine only."""
    engine = app.extensions.get(_ENGINE_KEY)
    if engine is None:
        with _engine_lock:
            engine = app.extensions.get(_ENGINE_KEY)
            if engine is None:
                if db.engine.dialect.name == "postgresql":
                    engine = create_engine(
                        db.engine.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None
                    )
                    # Closed, and made again on next use, whenever the app's engine is.
                    sqlalchemy_event.listen(
                        db.engine, "engine_disposed", partial(_forget_engine, app, engine)
                    )
                else:
                    engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
                app.extensions[_ENGINE_KEY] = engine
    return engine


def _forget_engine(app: Flask, engine: Engine, _disposed: Engine) -> None:
    if app.extensions.get(_ENGINE_KEY) is engine:
        del app.extensions[_ENGINE_KEY]
    engine.dispose()


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
