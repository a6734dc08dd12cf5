"""Webhook intake's own PostgreSQL connections: one per web thread, its insert prepared.

Intake is one INSERT per request, and on PostgreSQL the client side of that insert
through SQLAlchemy (a pool checkout and check-in, statement execution, psycopg turning
named parameters into positional ones) cost more CPU than the rest of the request. So
each thread keeps an autocommit psycopg connection and cursor of its own (gunicorn's
gthread workers keep their threads for life) and runs the insert as a server-side
prepared statement with positional parameters: a measured 60 µs less per event
(``bench/bench_webhooks.py``).

Connections are not pinged before use (a ping is a second round trip per event): one
that broke (the database restarted, a socket dropped) fails its insert, is closed, and
the insert runs once more on a fresh connection. A peer that vanished without closing
the socket (a failover, a dropped NAT entry) must not hold a web thread for the
kernel's quarter of an hour of retransmissions, so TCP keepalives find dead idle
connections and unacknowledged sends give up after 15 s (``tcp_user_timeout``); the
database URL's own options win over these.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

log = logging.getLogger("backstop.stripe")

#: libpq options, under whatever the database URL sets itself.
CONNECT_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,  # milliseconds
}


class _Held:
    """This thread's connection and cursor; closed when the thread ends, so a thread
    that served a request and exited (a development server's) leaves nothing open."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection
        self.cursor = connection.cursor()

    def __del__(self) -> None:
        self.connection.close()


class ThreadConnections:
    """Autocommit connections to ``conninfo``, one per thread that asks for one, named
    ``application_name`` in ``pg_stat_activity``."""

    def __init__(self, conninfo: str, application_name: str = "backstop-intake") -> None:
        self._options = {
            **CONNECT_DEFAULTS,
            "application_name": application_name,
            **conninfo_to_dict(conninfo),
        }
        self._local = threading.local()
        self._open: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()
        self._lock = threading.Lock()

    def fetch_one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """Run one statement and return its first row; retried once on a fresh
        connection when this thread's had broken. Running it twice must be harmless."""
        for attempt in (1, 2):
            held = self._held()
            try:
                held.cursor.execute(sql, params, prepare=True)
                return held.cursor.fetchone()
            except psycopg.OperationalError as exc:
                if attempt == 2 or not held.connection.broken:
                    raise
                log.warning("stripe.intake.reconnect error=%s", exc)
                self._local.held = None
                held.connection.close()
        raise AssertionError("unreachable: the second attempt returns or raises")

    def close(self) -> None:
        """Close every thread's connection; each thread opens a new one on next use."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            connection.close()

    def _held(self) -> _Held:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.connection.closed:
            connection = psycopg.connect(**self._options, autocommit=True)
            held = self._local.held = _Held(connection)
            with self._lock:
                self._open.add(connection)
        return held
