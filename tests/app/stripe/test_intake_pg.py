"""Intake's own PostgreSQL connections: one per thread, gone with the thread."""

from __future__ import annotations

import gc
import threading

import pytest

from app.extensions import db
from app.stripe.intake_pg import ThreadConnections


@pytest.fixture
def url(ctx):
    """The test database as libpq reads it (PostgreSQL lane only)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("intake keeps connections of its own on PostgreSQL only")
    return db.engine.url.set(drivername="postgresql")


@pytest.fixture
def connections(url):
    made = ThreadConnections(
        url.render_as_string(hide_password=False), application_name="backstop-intake-test"
    )
    yield made
    made.close()


def _pid(connections: ThreadConnections) -> int:
    return connections.fetch_one("SELECT pg_backend_pid()", [])[0]


def test_each_thread_keeps_its_own_connection(connections) -> None:
    mine = _pid(connections)
    assert _pid(connections) == mine  # the same connection, request after request
    theirs: list[int] = []
    thread = threading.Thread(target=lambda: theirs.extend([_pid(connections), _pid(connections)]))
    thread.start()
    thread.join()
    assert theirs[0] == theirs[1] != mine


def _this_threads_connection(connections: ThreadConnections):
    return connections._local.held.connection


def test_a_thread_that_ends_closes_its_connection(connections) -> None:
    theirs = []

    def serve() -> None:
        _pid(connections)
        theirs.append(_this_threads_connection(connections))

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join()
    del thread
    gc.collect()
    assert theirs[0].closed


def test_close_closes_every_thread_and_the_next_use_reconnects(connections) -> None:
    before = _pid(connections)
    held = _this_threads_connection(connections)
    connections.close()
    assert held.closed
    assert _pid(connections) != before


def test_a_statement_error_is_raised_and_the_connection_kept(connections) -> None:
    import psycopg

    before = _pid(connections)
    with pytest.raises(psycopg.errors.UndefinedTable):
        connections.fetch_one("SELECT * FROM no_such_table", [])
    assert _pid(connections) == before


def test_dead_peers_are_given_up_on_unless_the_url_says_otherwise(url) -> None:
    plain = ThreadConnections(url.render_as_string(hide_password=False))
    tuned = ThreadConnections(
        url.update_query_dict(
            {"tcp_user_timeout": "5000", "application_name": "mine"}
        ).render_as_string(hide_password=False)
    )
    try:
        plain.fetch_one("SELECT 1", [])
        tuned.fetch_one("SELECT 1", [])
        dsn = _this_threads_connection(plain).info.dsn
        assert "tcp_user_timeout=15000" in dsn and "keepalives_idle=30" in dsn
        assert "application_name=backstop-intake" in dsn
        tuned_dsn = _this_threads_connection(tuned).info.dsn
        assert "tcp_user_timeout=5000" in tuned_dsn and "application_name=mine" in tuned_dsn
    finally:
        plain.close()
        tuned.close()
