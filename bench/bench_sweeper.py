"""The beat sweeper's claim-and-enqueue time for 1,000 due steps among 10,000 and among
1,000,000 stored steps: the cost must follow what is due, not what is stored.

    .venv/bin/python bench/bench_sweeper.py      (from the repo root; 1-2 minutes)

PostgreSQL only (``FOR UPDATE SKIP LOCKED``): database ``backstop_bench_sweeper``
(``BACKSTOP_BENCH_SWEEPER_DATABASE_URL``), created if missing, with one schema per size
(``sweep_10k``, ``sweep_1m``) rebuilt on every run and left in place for inspection; the
tests' ``test`` database is not touched. Each schema gets Backstop's tables from
``db.create_all()`` and is bulk-loaded with ``INSERT ... SELECT generate_series`` (the
steps' and campaigns' indexes rebuilt after the load, foreign-key triggers off during
it): 100 workspaces (one in test mode, its steps on a Stripe test clock that stands 60
days behind), a campaign per 5 steps, and the steps: exactly 1,000 pending and due by
our clock (spread through the table, as rows written weeks apart are), and the rest
~40 % pending in the future (on the test clock: ~0.4 % of all steps), ~45 % done,
~15 % cancelled, a few queued under a live lease.

Each measured sweep is the real path: ``workers.sweeper.sweep_once(now)`` with the
default batch (500) called until it claims nothing, so three calls, each running
``claim_due`` once per condition of ``due_steps`` (by our clock; on a test clock):
SELECT ... FOR UPDATE SKIP LOCKED, UPDATE, commit, then one Celery ``send_task`` per
claimed step, to RabbitMQ when reachable (a queue of its own, ``backstop_bench_sweeper``,
deleted at the end; nothing consumes it), else (or with ``--memory-broker``) to
``memory://``. Between sweeps the 1,000 steps go back to pending and the table is
vacuumed (as autovacuum would); the sizes alternate 10k, 1M, 10k, ... (one warm-up, then
seven each) so drift hits both alike. SQL time is summed per statement kind from engine
events (commits not included); publishing is the wall time inside ``send_task``.

Prints::

    10k: 1000 due among 10000 steps: median T ms per sweep: publishing P ms (1000
        send_task), claim without publishing C ms (SQL ms: claim by our clock .., claim
        on clock .., update ..); 3 sweep_once calls; runs ...
    1m: 1000 due among 1000000 steps: ...
    ratio 1M/10k: total R, claim without publishing Q -> meets | MISSES the aim of <= 1.5
    EXPLAIN (ANALYZE, BUFFERS) of the claim queries on 1M steps, 1,000 due: both claims
        as the sweep ran them, then each condition claimed alone (without the
        expired-lease branch claim_due ORs onto it)

See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from _support import Sweep, instrumented, reachable

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "BACKSTOP_BENCH_SWEEPER_DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/backstop_bench_sweeper",
)
AMQP_URL = os.environ.get("BACKSTOP_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = "backstop_bench_sweeper"
SIZES = {"10k": 10_000, "1m": 1_000_000}
DUE = 1000
ROUNDS = 7  # measured sweeps per size; the median is reported
WORKSPACES = 100  # workspace 1 is in test mode: its steps are on a test clock
STEPS_PER_CAMPAIGN = 5
AIM = 1.5


# -- stores ---------------------------------------------------------------------------------


def fresh_schemas() -> None:
    """Create the database if missing and give each size an empty schema."""
    import psycopg

    parts = urlsplit(PG_URL)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for size in SIZES:
            conn.execute(f"DROP SCHEMA IF EXISTS sweep_{size} CASCADE")
            conn.execute(f"CREATE SCHEMA sweep_{size}")


def schema_url(size: str) -> str:
    """The database URL with ``search_path`` set to the size's schema (libpq options)."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path=sweep_{size}')}"


def make_app(size: str, broker: str) -> Any:
    from app import create_app

    flask_app = create_app(
        {
            "env": "development",
            "log_level": "WARNING",
            "database_url": schema_url(size),
            "broker_url": broker,
            "task_always_eager": False,
        }
    )
    flask_app.extensions["celery"].conf.task_default_queue = QUEUE
    return flask_app


def drop_queue(broker: str) -> None:
    if not broker.startswith("amqp"):
        return
    from kombu import Connection

    with Connection(broker) as conn:
        conn.default_channel.queue_delete(QUEUE)


# -- bulk load ----------------------------------------------------------------------------------

_WORKSPACES = """
INSERT INTO workspace (id, slug, name, timezone, brand_color, is_portal_cancel_disabled,
                       is_embed_signature_required, is_two_factor_required)
SELECT w, 'bench-' || w, 'Bench ' || w, 'UTC', '#4f46e5', false, false, false
FROM generate_series(1, :workspaces) AS w
"""
_CLOCK = """
INSERT INTO stripe_test_clock (workspace_id, stripe_id, frozen_time, status, source_created)
VALUES (1, 'clock_bench', :clock_time, 'ready', 0)
"""
_CAMPAIGNS = """
INSERT INTO recovery_campaign (
    id, workspace_id, invoice_stripe_id, customer_stripe_id, subscription_stripe_id,
    test_clock, amount_minor, currency, decline_code, decline_class, customer_tz,
    is_stripe_managed, state, auto_retries, opened_at, last_failure_at, window_ends_at,
    recovered_minor, updated_at)
SELECT c, 1 + (c - 1) % :workspaces, 'in_bench' || c, 'cus_bench' || c, 'sub_bench' || c,
       CASE WHEN (c - 1) % :workspaces = 0 THEN 'clock_bench' END,
       2900, 'usd', 'insufficient_funds', 'scheduled', 'UTC', false,
       CASE WHEN c % 3 = 0 THEN 'in_flight' WHEN c % 3 = 1 THEN 'recovered' ELSE 'lost' END,
       1, :t0 - interval '20 days', :t0 - interval '20 days', :t0 + interval '10 days', 0, :t0
FROM generate_series(1, :campaigns) AS c
"""
# Step g belongs to campaign ceil(g / 5), hence to that campaign's workspace; the due
# steps are every (total / 1000)th row, spread through the heap and the indexes.
_STEPS = """
INSERT INTO recovery_step (
    id, workspace_id, campaign_id, kind, due_at, test_clock, status, is_automatic, reason,
    lease_until, attempts, outcome, executed_at, created_at)
SELECT g, 1 + (c - 1) % :workspaces, c, CASE WHEN g % 5 = 0 THEN 'window_end' ELSE 'retry' END,
       CASE WHEN due THEN :t0 - make_interval(secs => g % 3600)
            WHEN b < 40 THEN base + make_interval(secs => 86400 + (g * 37) % 2592000)
            ELSE :t0 - make_interval(secs => 3600 + (g * 53) % 7776000) END,
       CASE WHEN on_clock AND NOT due THEN 'clock_bench' END,
       CASE WHEN due THEN 'pending' WHEN b < 40 THEN 'pending'
            WHEN g % 5003 = 1 THEN 'queued' WHEN b < 85 THEN 'done' ELSE 'cancelled' END,
       true, 'insufficient_funds: the next retry on the cadence (+3d)',
       CASE WHEN due OR b < 40 THEN NULL
            WHEN g % 5003 = 1 THEN :t0 + interval '1 hour'
            WHEN b < 85 THEN :t0 - make_interval(secs => 3000 + (g * 53) % 7776000) END,
       CASE WHEN due OR b < 40 OR b >= 85 THEN 0 ELSE 1 END,
       CASE WHEN NOT due AND b >= 40 AND b < 85 THEN 'declined' END,
       CASE WHEN NOT due AND b >= 40 AND b < 85 THEN :t0 - interval '1 day' END,
       :t0 - interval '20 days'
FROM (
    SELECT g, (g - 1) / :per_campaign + 1 AS c, g % :stride = 0 AS due, (g * 7919) % 100 AS b,
           ((g - 1) / :per_campaign) % :workspaces = 0 AS on_clock,
           CASE WHEN ((g - 1) / :per_campaign) % :workspaces = 0 THEN :clock_time
                ELSE :t0 END AS base
    FROM generate_series(1::bigint, :total) AS g
) AS s
"""
_SEQUENCES = """
SELECT setval(pg_get_serial_sequence('workspace', 'id'), :workspaces),
       setval(pg_get_serial_sequence('recovery_campaign', 'id'), :campaigns),
       setval(pg_get_serial_sequence('recovery_step', 'id'), :total)
"""


def load(flask_app: Any, total: int, t0: dt.datetime) -> tuple[float, dict[str, int]]:
    """Create Backstop's tables in the size's schema and fill them; returns seconds taken
    and the step count per status."""
    from sqlalchemy import text

    from app.extensions import db
    from app.recovery.models import Campaign, Step

    began = time.perf_counter()
    with flask_app.app_context():
        db.create_all()
        params = {
            "workspaces": WORKSPACES,
            "campaigns": -(-total // STEPS_PER_CAMPAIGN),
            "per_campaign": STEPS_PER_CAMPAIGN,
            "stride": total // DUE,
            "total": total,
            "t0": t0,
            # The test clock stands 60 days behind: its steps are due in its time, later.
            "clock_time": t0 - dt.timedelta(days=60),
        }
        # Bulk load as a restore would: indexes built once at the end, foreign-key
        # triggers off for the load (the rows are consistent by construction).
        indexes = [*Step.__table__.indexes, *Campaign.__table__.indexes]
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for index in indexes:
                index.drop(conn)
            for sql in (_WORKSPACES, _CLOCK, _CAMPAIGNS, _STEPS, _SEQUENCES):
                conn.execute(text(sql), params)
            for index in indexes:
                index.create(conn)
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE recovery_step")
            )
            counts = dict(
                conn.execute(
                    text("SELECT status, count(*) FROM recovery_step GROUP BY status")
                ).all()
            )
            due = conn.execute(
                text(
                    "SELECT count(*) FROM recovery_step WHERE status = 'pending' "
                    "AND test_clock IS NULL AND due_at <= :t0"
                ),
                {"t0": t0},
            ).scalar_one()
    if due != DUE:
        raise SystemExit(f"bulk load made {due} due steps, not {DUE}")
    return time.perf_counter() - began, counts


# -- one measured sweep -------------------------------------------------------------------------


def kind_of(statement: str) -> str:
    """Which part of the sweep a statement is."""
    head = " ".join(statement.split())
    if head.startswith("SELECT recovery_step.id") and "FOR UPDATE" in head:
        return "claim on clock" if "EXISTS" in head else "claim by our clock"
    if head.startswith("UPDATE recovery_step"):
        return "update"
    return "other"


def reset_due(flask_app: Any, total: int) -> None:
    """Put the 1,000 due steps back to pending, then vacuum away the old versions."""
    from sqlalchemy import text

    from app.extensions import db

    with flask_app.app_context(), db.engine.connect() as conn:
        conn.execute(
            text(
                "UPDATE recovery_step SET status = 'pending', lease_until = NULL, attempts = 0 "
                "WHERE id % :stride = 0"
            ),
            {"stride": total // DUE},
        )
        conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE recovery_step")
        )


def sweep(flask_app: Any, total: int) -> Sweep:
    from app.extensions import db
    from workers.sweeper import sweep_once

    reset_due(flask_app, total)
    with flask_app.app_context():
        with instrumented(flask_app, kind_of) as timer:
            began = time.perf_counter()
            now = dt.datetime.now(dt.UTC)
            claimed = sweeps = 0
            while True:
                sweeps += 1
                n = sweep_once(now)
                claimed += n
                if not n:
                    break
            elapsed = time.perf_counter() - began
        db.session.remove()
    if claimed != DUE:
        raise SystemExit(f"the sweep claimed {claimed} steps, not {DUE}")
    return Sweep(elapsed, timer, claimed, sweeps)


# -- EXPLAIN ------------------------------------------------------------------------------------


def explain_claims(flask_app: Any, total: int, statements: list[tuple[str, Any]]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each distinct claim SELECT the sweep ran, with its
    parameters, on the due rows put back to pending (rolled back: it locks rows); then
    the same ``ready`` conditions claimed alone, without the expired-lease branch that
    ``claim_due`` ORs onto each (the change to weigh if the on-clock claim grows)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.recovery.models import Step
    from app.stripe.clocks import due_conditions

    claims: dict[str, Any] = {}
    for statement, parameters in statements:
        if kind_of(statement).startswith("claim"):
            claims.setdefault(statement, parameters)
    reset_due(flask_app, total)
    out = []
    with flask_app.app_context(), db.engine.connect() as conn:

        def explain(title: str, statement: str, parameters: Any) -> None:
            out.append(f"-- {title}: {' '.join(statement.split())}")
            out.append(f"-- parameters: {parameters}")
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
            ).all()
            out.extend(row[0] for row in plan)
            conn.rollback()

        for statement, parameters in claims.items():
            explain(kind_of(statement), statement, parameters)
        for n, ready in enumerate(due_conditions(Step, dt.datetime.now(dt.UTC)), 1):
            query = (
                select(Step.id)
                .where(ready)
                .order_by(Step.due_at)
                .limit(500)
                .with_for_update(skip_locked=True)
            )
            compiled = query.compile(dialect=conn.dialect)
            explain(f"what-if: condition {n} alone", str(compiled), compiled.params)
    return out


# -- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument(
        "--memory-broker", action="store_true", help="publish to memory:// even if RabbitMQ is up"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not reachable(PG_URL, 5432):
        raise SystemExit(f"PostgreSQL is not reachable at {PG_URL}")
    amqp = reachable(AMQP_URL, 5672) and not args.memory_broker
    broker = AMQP_URL if amqp else "memory://localhost/"
    import workers.recovery_tasks  # noqa: F401 - registers the steps with the sweeper

    fresh_schemas()
    t0 = dt.datetime.now(dt.UTC)
    apps = {size: make_app(size, broker) for size in SIZES}
    for size, total in SIZES.items():
        seconds, counts = load(apps[size], total, t0)
        mix = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        print(f"{size}: loaded {total} steps in {seconds:.1f} s ({mix})", flush=True)
    shown = broker.split("@")[-1] if "@" in broker else broker
    print(
        f"broker {shown} (queue {QUEUE}); sweep_once(now) with its default batch until it "
        f"claims nothing; {args.rounds} sweeps per size after one warm-up, alternating; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    runs: dict[str, list[Sweep]] = {size: [] for size in SIZES}
    try:
        for size in SIZES:
            sweep(apps[size], SIZES[size])  # warm-up: connections, caches, the broker channel
        for _ in range(args.rounds):
            for size in SIZES:
                runs[size].append(sweep(apps[size], SIZES[size]))
        plan = explain_claims(apps["1m"], SIZES["1m"], runs["1m"][-1].timer.statements)
    finally:
        drop_queue(broker)

    medians = {}
    for size in SIZES:
        r = runs[size]
        total = statistics.median(s.total for s in r) * 1000
        claim = statistics.median(s.claim for s in r) * 1000
        publish = statistics.median(s.timer.publish for s in r) * 1000
        kinds = sorted({k for s in r for k in s.timer.sql})
        sql = ", ".join(
            f"{k} {statistics.median(s.timer.sql.get(k, 0.0) for s in r) * 1000:.1f}" for k in kinds
        )
        medians[size] = (total, claim)
        print(
            f"{size}: {DUE} due among {SIZES[size]} steps: median {total:.0f} ms per sweep: "
            f"publishing {publish:.0f} ms ({r[0].timer.published} send_task), claim without "
            f"publishing {claim:.0f} ms (SQL ms: {sql}); {r[0].sweeps} sweep_once calls; "
            f"runs {', '.join(f'{s.total * 1000:.0f}' for s in r)} ms"
        )
    ratio = medians["1m"][0] / medians["10k"][0]
    ratio_claim = medians["1m"][1] / medians["10k"][1]
    verdict = "meets" if ratio <= AIM and ratio_claim <= AIM else "MISSES"
    print(
        f"ratio 1M/10k: total {ratio:.2f}, claim without publishing {ratio_claim:.2f} "
        f"-> {verdict} the aim of <= {AIM}"
    )
    print("EXPLAIN (ANALYZE, BUFFERS) of the claim queries on 1M steps, 1,000 due:")
    for line in plan:
        print("    " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
