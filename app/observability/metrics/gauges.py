"""Gauges read from the database when Prometheus scrapes: how far behind intake and the
sweeper are. The database is the truth for both, whichever process is behind, and
reading it here keeps every cost off the paths that do the work.

Each query walks an index from its start (``status, id`` on ``stripe_event``; ``status,
test_clock, due_at`` or ``status, due_at`` on the schedules) and counts at most
:data:`COUNT_CAP` rows, so a scrape costs the same on a billion-row table."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Connection, MetaData, Table, func, select

log = logging.getLogger("backstop.metrics")

COUNT_CAP = 10_000
#: The status a schedule's rows wait in before they are claimed; "pending" elsewhere.
#: Domain events are handed over by the task their commit sent ("queued" until taken).
WAITING_STATUS = {"domain_event": "queued"}


def schedule_tables(metadata: MetaData) -> list[Table]:
    """Every table the beat sweeper claims from: a status, a due time and a lease."""
    wanted = {"status", "due_at", "lease_until"}
    return [t for t in metadata.sorted_tables if wanted <= set(t.columns.keys())]


def _age(now: dt.datetime, moment: dt.datetime | None) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, (now - moment).total_seconds())


def _capped_count(connection: Connection, query: Any) -> int:
    limited = query.limit(COUNT_CAP).subquery()
    return connection.execute(select(func.count()).select_from(limited)).scalar_one()


def stripe_event_gauges(connection: Connection, table: Table, now: dt.datetime) -> Iterator[Any]:
    oldest = connection.execute(
        select(table.c.received_at)
        .where(table.c.status == "received")
        .order_by(table.c.id)
        .limit(1)
    ).scalar_one_or_none()
    yield GaugeMetricFamily(
        "backstop_stripe_event_processing_lag_seconds",
        "Age of the oldest stored Stripe event no worker has processed yet (0: none waiting)",
        value=_age(now, oldest),
    )
    failed = _capped_count(connection, select(table.c.id).where(table.c.status == "failed"))
    yield GaugeMetricFamily(
        "backstop_stripe_events_failed",
        f"Stripe events whose processing failed for good (counted up to {COUNT_CAP})",
        value=failed,
    )


def schedule_gauges(connection: Connection, tables: list[Table], now: dt.datetime) -> Iterator[Any]:
    lag = GaugeMetricFamily(
        "backstop_schedule_lag_seconds",
        "Age of the oldest due step no sweeper has claimed yet, by schedule table "
        "(steps on Stripe test clocks left out; 0: none waiting)",
        labels=["schedule"],
    )
    due = GaugeMetricFamily(
        "backstop_schedule_due",
        f"Due steps waiting to be claimed, by schedule table (counted up to {COUNT_CAP})",
        labels=["schedule"],
    )
    for table in tables:
        waiting = (table.c.status == WAITING_STATUS.get(table.name, "pending")) & (
            table.c.due_at <= now
        )
        if "test_clock" in table.c:
            waiting = waiting & table.c.test_clock.is_(None)
        oldest = connection.execute(select(func.min(table.c.due_at)).where(waiting)).scalar()
        lag.add_metric([table.name], _age(now, oldest))
        due.add_metric([table.name], _capped_count(connection, select(table.c.id).where(waiting)))
    yield lag
    yield due


class DatabaseCollector:
    """A prometheus_client collector over ``engine``; a database it cannot read makes
    ``backstop_database_up`` 0 rather than the scrape fail."""

    def __init__(self, engine: Any, metadata: MetaData, now: dt.datetime):
        self.engine = engine
        self.metadata = metadata
        self.now = now

    def collect(self) -> Iterator[Any]:
        try:
            with self.engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    # A scrape waits on no lock for long: a slow database shows as down.
                    connection.exec_driver_sql("SET LOCAL statement_timeout = 5000")
                families = list(
                    stripe_event_gauges(connection, self.metadata.tables["stripe_event"], self.now)
                )
                families += schedule_gauges(connection, schedule_tables(self.metadata), self.now)
        except Exception:
            log.warning("metrics.database_unreadable", exc_info=True)
            families = []
            up = 0
        else:
            up = 1
        yield GaugeMetricFamily(
            "backstop_database_up", "Whether the scrape could read the database", value=up
        )
        yield from families
