"""The win-back schedule's sweep: claim-and-enqueue time for 1,000 due steps among the
steps of 10,000 and of 100,000 ended subscriptions' campaigns. The cost must follow what
is due, not what is stored (issue 15; aim <= 1.5, as for the recovery sweeper).

    .venv/bin/python bench/bench_winback.py      (from the repo root; about 1-2 minutes)

Options: ``--database postgresql|sqlite|both`` (default: both when PostgreSQL is
reachable, else SQLite), ``--rounds N`` (default 7), ``--memory-broker``.

PostgreSQL: database ``backstop_bench_winback`` (``BACKSTOP_BENCH_WINBACK_DATABASE_URL``),
created if missing, one schema per size (``winback_10k``, ``winback_100k``) rebuilt on
every run and left in place for inspection; the tests' ``test`` database is not touched.
SQLite: one file per size in a temporary directory, removed at the end. Each store gets
Backstop's tables from ``db.create_all()`` and is bulk-loaded with Core ``insert()`` and
lists of dicts (executemany, 20,000 rows a batch): 100 workspaces (workspace 1 in test
mode: its campaigns and steps on a Stripe test clock standing 60 days behind), N
campaigns (``winback_campaign``), and for each the steps ``plan_steps`` writes with the
default delays (14, 14) and a 30-day window: touch 1 at end + 14 d, touch 2 at end + 28 d,
the close at end + 58 d. Ends are spread over the 60 days before now (clock campaigns:
before the clock's time), so a history forms: steps already past are ``done`` (a few
``queued`` under a live lease), the rest ``pending`` in the future; one campaign in ten
was won, returned or stopped on the way, its remaining steps ``cancelled``. About 54 % of
the steps are pending, 43 % done, 4 % cancelled. Exactly 1,000 steps are pending and
overdue by up to an hour, spread through the table: 990 by our clock and 10 on the test
clock by the clock's time (so both claims of ``clocks.due_conditions`` find rows).

Each measured sweep is the beat's path: ``workers.sweeper.sweep_once(now)`` with its
default limit (500), with only ``workers.winback_tasks`` registered, called until it
claims nothing (three calls; each runs ``claim_due`` once per due condition: on
PostgreSQL SELECT ... FOR UPDATE SKIP LOCKED then one UPDATE, on SQLite a SELECT then a
conditional UPDATE per row; then commit and one Celery ``send_task`` per step, to
RabbitMQ when reachable (queue ``backstop_bench_winback``, deleted at the end; nothing
consumes it), else (or with ``--memory-broker``) to ``memory://``. Between sweeps the
1,000 go back to pending (PostgreSQL: the table vacuumed, as autovacuum would); sizes
alternate 10k, 100k, ... (one warm-up, then ``--rounds`` each); medians reported.

Prints, per database::

    10k: 1000 due among 30000 steps (10000 campaigns): median T ms per sweep: publishing
        P ms (1000 send_task), claim without publishing C ms (SQL ms: ...); runs ...
    100k: 1000 due among 300000 steps (100000 campaigns): ...
    ratio 100k/10k: total R, claim without publishing Q -> meets | MISSES the aim of <= 1.5
    the plans of the claim queries on 100k (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS), rolled
        back; SQLite: EXPLAIN QUERY PLAN)

See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from _support import Sweep, instrumented, reachable

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "BACKSTOP_BENCH_WINBACK_DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/backstop_bench_winback",
)
AMQP_URL = os.environ.get("BACKSTOP_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = "backstop_bench_winback"
SIZES = {"10k": 10_000, "100k": 100_000}  # campaigns stored
DUE = 1000
DUE_ON_CLOCK = 10  # of them on the test clock, due by its time
ROUNDS = 7
WORKSPACES = 100  # workspace 1 is in test mode: its campaigns are on a test clock
CLOCK = "clock_bench"
CLOCK_BEHIND = dt.timedelta(days=60)
# plan_steps with the default delays (14, 14) and attribution window (30 days):
# (kind, number, days after the end)
PLAN = (("email", 1, 14), ("email", 2, 28), ("close", 0, 58))
SPREAD = 60 * 86400  # ends spread over the 60 days before now, in seconds
BATCH = 20_000
AIM = 1.5


# -- stores -------------------------------------------------------------------------------------


def fresh_schemas() -> None:
    """Create the PostgreSQL database if missing and give each size an empty schema."""
    import psycopg

    parts = urlsplit(PG_URL)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for size in SIZES:
            conn.execute(f"DROP SCHEMA IF EXISTS winback_{size} CASCADE")
            conn.execute(f"CREATE SCHEMA winback_{size}")


def store_url(database: str, size: str, tmp: str) -> str:
    if database == "sqlite":
        return f"sqlite:///{tmp}/winback_{size}.sqlite"
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path=winback_{size}')}"


def make_app(url: str, broker: str) -> Any:
    from app import create_app

    flask_app = create_app(
        {
            "env": "development",
            "log_level": "WARNING",
            "database_url": url,
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


def due_ids(campaigns: int) -> list[int]:
    """The ids of the 1,000 due steps: ``DUE_ON_CLOCK`` of them in test-clock campaigns
    spread through the table, the others one in each run of ``steps / 990`` ids at a
    varying place in the run, moved to the campaign before when that one is on the clock."""
    per = len(PLAN)
    clock_campaigns = range(1, campaigns + 1, WORKSPACES)  # workspace 1's
    on_clock = [
        (clock_campaigns[i * len(clock_campaigns) // DUE_ON_CLOCK] - 1) * per + i % per + 1
        for i in range(DUE_ON_CLOCK)
    ]
    stride = campaigns * per // (DUE - DUE_ON_CLOCK)
    ours = []
    for k in range(1, DUE - DUE_ON_CLOCK + 1):
        g = k * stride - (k * 37) % stride
        if (g - 1) // per % WORKSPACES == 0:
            g -= per
        ours.append(g)
    due = sorted({*on_clock, *ours})
    assert len(due) == DUE
    return due


def rows(campaigns: int, t0: dt.datetime) -> tuple[list[dict], list[dict], list[int]]:
    """The campaigns and their steps as dicts for Core ``insert()``; step ids run 1..3N
    campaign by campaign; the ids of the 1,000 due."""
    clock_time = t0 - CLOCK_BEHIND
    due = due_ids(campaigns)
    due_set = set(due)
    camps: list[dict] = []
    steps: list[dict] = []
    for c in range(1, campaigns + 1):
        workspace = 1 + (c - 1) % WORKSPACES
        on_clock = workspace == 1
        now = clock_time if on_clock else t0
        ended = now - dt.timedelta(seconds=3600 + (c * 7919) % SPREAD)
        # One campaign in ten closed on the way (won, returned, stopped) half way to its
        # close; the others are active until their close step has run.
        interrupted = c % 10 == 0
        closed_at = ended + dt.timedelta(days=(c % 58) + 0.5) if interrupted else None
        if closed_at is not None and closed_at > now:
            closed_at = None
            interrupted = False
        sent = 0
        last_touch = None
        for n, (kind, number, days) in enumerate(PLAN):
            g = (c - 1) * len(PLAN) + n + 1
            due_at = ended + dt.timedelta(days=days)
            if now < due_at < now + dt.timedelta(hours=1):
                due_at += dt.timedelta(hours=1)  # nothing else falls due during the run
            status, lease, attempts, outcome, executed = "pending", None, 0, None, None
            if g in due_set:
                due_at = now - dt.timedelta(seconds=1 + g % 3600)  # one of the 1,000 due
            elif closed_at is not None and due_at > closed_at:
                status, outcome, executed = "cancelled", "cancelled", closed_at
            elif due_at <= now:
                status, attempts, executed = "done", 1, due_at
                outcome = "sent" if kind == "email" else "closed"
                if g % 5003 == 1:  # being run right now
                    status, outcome, executed = "queued", None, None
                    lease = t0 + dt.timedelta(hours=1)
                elif kind == "email":
                    sent, last_touch = sent + 1, due_at
            steps.append(
                {
                    "id": g,
                    "workspace_id": workspace,
                    "campaign_id": c,
                    "kind": kind,
                    "number": number,
                    "due_at": due_at,
                    "test_clock": CLOCK if on_clock else None,
                    "reason": f"touch {number}, {days} days after the end"
                    if kind == "email"
                    else "the end of the 30-day window after the last email",
                    "status": status,
                    "lease_until": lease,
                    "attempts": attempts,
                    "outcome": outcome,
                    "executed_at": executed,
                    "created_at": ended,
                }
            )
        closed_naturally = not interrupted and ended + dt.timedelta(days=PLAN[-1][2]) <= now
        state = (
            ("won", "returned", "stopped")[c // 10 % 3]
            if interrupted
            else "ended"
            if closed_naturally
            else "active"
        )
        camps.append(
            {
                "id": c,
                "workspace_id": workspace,
                "customer_stripe_id": f"cus_bench{c}",
                "subscription_stripe_id": f"sub_bench{c}",
                "email": f"customer{c}@example.com",
                "customer_name": f"Customer {c}",
                "kind": "voluntary" if c % 4 else "involuntary",
                "reason": ("too_expensive", "missing_feature", "not_using", "switched", "other")[
                    c % 5
                ],
                "reason_detail": "the cancel flow's answer",
                "plan_name": "Pro",
                "amount_minor": 2900,
                "mrr_minor": 2900,
                "test_clock": CLOCK if on_clock else None,
                "ended_at": ended,
                "state": state,
                "closed_at": closed_at
                if interrupted
                else (ended + dt.timedelta(days=58) if closed_naturally else None),
                "touches_sent": sent,
                "last_touch_at": last_touch,
                "created_at": ended,
            }
        )
    return camps, steps, due


def load(
    flask_app: Any, campaigns: int, t0: dt.datetime
) -> tuple[float, dict[str, int], int, list[int]]:
    """Create Backstop's tables and fill them; returns seconds taken, the steps per status,
    how many of the due are on the test clock, and the ids of the due."""
    from sqlalchemy import insert, text

    from app.accounts.models import Workspace
    from app.extensions import db
    from app.stripe.models import StripeTestClock
    from app.winback.models import WinbackCampaign, WinbackStep

    began = time.perf_counter()
    camps, steps, due_steps = rows(campaigns, t0)
    with flask_app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            conn.execute(
                insert(Workspace),
                [
                    {"id": w, "slug": f"bench-{w}", "name": f"Bench {w}"}
                    for w in range(1, WORKSPACES + 1)
                ],
            )
            conn.execute(
                insert(StripeTestClock),
                [
                    {
                        "workspace_id": 1,
                        "stripe_id": CLOCK,
                        "frozen_time": t0 - CLOCK_BEHIND,
                        "status": "ready",
                        "source_created": 0,
                    }
                ],
            )
            for table, data in ((WinbackCampaign, camps), (WinbackStep, steps)):
                for i in range(0, len(data), BATCH):
                    conn.execute(insert(table), data[i : i + BATCH])
            if conn.dialect.name == "postgresql":
                for table, last in (
                    ("workspace", WORKSPACES),
                    ("winback_campaign", campaigns),
                    ("winback_step", campaigns * len(PLAN)),
                ):
                    conn.execute(
                        text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                        {"table": table, "last": last},
                    )
        analyze(flask_app)
        with db.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    text("SELECT status, count(*) FROM winback_step GROUP BY status")
                ).all()
            )
            due, on_clock = conn.execute(
                text(
                    "SELECT count(*), count(test_clock) FROM winback_step "
                    "WHERE status = 'pending' AND ("
                    " (test_clock IS NULL AND due_at <= :t0) OR"
                    " (test_clock IS NOT NULL AND due_at <= :clock))"
                ),
                {"t0": t0, "clock": t0 - CLOCK_BEHIND},
            ).one()
    if due != DUE:
        raise SystemExit(f"bulk load made {due} due steps, not {DUE}")
    return time.perf_counter() - began, counts, on_clock, due_steps


def analyze(flask_app: Any) -> None:
    """Fresh planner statistics (PostgreSQL: and the old row versions vacuumed away)."""
    from sqlalchemy import text

    from app.extensions import db

    with flask_app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE winback_step")
            )
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()


# -- one measured sweep -------------------------------------------------------------------------


def kind_of(statement: str) -> str:
    """Which part of the sweep a statement is."""
    head = " ".join(statement.split())
    if head.startswith("SELECT winback_step.id"):
        if "EXISTS" in head:
            return "claim on clock"
        return "claim by our clock" if "test_clock IS NULL" in head else "claim expired leases"
    if head.startswith("UPDATE winback_step"):
        return "update"
    return "other"


def reset_due(flask_app: Any, due: list[int]) -> None:
    """Put the 1,000 due steps back to pending."""
    from sqlalchemy import bindparam, text

    from app.extensions import db

    with flask_app.app_context(), db.engine.connect() as conn:
        conn.execute(
            text(
                "UPDATE winback_step SET status = 'pending', lease_until = NULL, attempts = 0 "
                "WHERE id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": due},
        )
        conn.commit()
        pg = conn.dialect.name == "postgresql"
    if pg:
        analyze(flask_app)


def sweep(flask_app: Any, due: list[int]) -> Sweep:
    from app.extensions import db
    from workers.sweeper import sweep_once

    reset_due(flask_app, due)
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


# -- plans --------------------------------------------------------------------------------------


def explain_claims(flask_app: Any, due: list[int], statements: list[tuple[str, Any]]) -> list[str]:
    """The plan of each distinct claim SELECT the sweep ran, with its parameters, on the
    due rows put back to pending: PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)`` (rolled back:
    it locks rows), SQLite ``EXPLAIN QUERY PLAN``."""
    from app.extensions import db

    claims: dict[str, Any] = {}
    for statement, parameters in statements:
        if kind_of(statement).startswith("claim"):
            claims.setdefault(statement, parameters)
    reset_due(flask_app, due)
    out = []
    with flask_app.app_context(), db.engine.connect() as conn:
        pg = conn.dialect.name == "postgresql"
        for statement, parameters in claims.items():
            out.append(f"-- {kind_of(statement)}: {' '.join(statement.split())}")
            out.append(f"-- parameters: {parameters}")
            prefix = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if pg else "EXPLAIN QUERY PLAN "
            plan = conn.exec_driver_sql(prefix + statement, parameters).all()
            out.extend(row[0] if pg else f"{row[1]:>3} {row[3]}" for row in plan)
            conn.rollback()
    return out


# -- main ---------------------------------------------------------------------------------------


def run(database: str, broker: str, rounds: int, t0: dt.datetime) -> bool:
    """Load both sizes on ``database``, sweep them in turn, print; True when within the aim."""
    from app.extensions import db

    with tempfile.TemporaryDirectory(prefix="bench_winback_") as tmp:
        if database == "postgresql":
            fresh_schemas()
        apps = {size: make_app(store_url(database, size, tmp), broker) for size in SIZES}
        due = {}
        for size, campaigns in SIZES.items():
            seconds, counts, on_clock, due[size] = load(apps[size], campaigns, t0)
            mix = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
            print(
                f"{size}: loaded {campaigns} campaigns, {sum(counts.values())} steps "
                f"in {seconds:.1f} s ({mix}; due {DUE}, {on_clock} of them by the test clock)",
                flush=True,
            )
        runs: dict[str, list[Sweep]] = {size: [] for size in SIZES}
        for size in SIZES:
            sweep(apps[size], due[size])  # warm-up: connections, caches, the broker
        for _ in range(rounds):
            for size in SIZES:
                runs[size].append(sweep(apps[size], due[size]))
        plan = explain_claims(apps["100k"], due["100k"], runs["100k"][-1].timer.statements)
        for flask_app in apps.values():
            with flask_app.app_context():
                db.engine.dispose()

    medians = {}
    for size, campaigns in SIZES.items():
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
            f"{size}: {DUE} due among {campaigns * len(PLAN)} steps ({campaigns} campaigns): "
            f"median {total:.0f} ms per sweep: publishing {publish:.0f} ms "
            f"({r[0].timer.published} send_task), claim without publishing {claim:.0f} ms "
            f"(SQL ms: {sql}); {r[0].sweeps} sweep_once calls; "
            f"runs {', '.join(f'{s.total * 1000:.0f}' for s in r)} ms"
        )
    ratio = medians["100k"][0] / medians["10k"][0]
    ratio_claim = medians["100k"][1] / medians["10k"][1]
    ok = ratio <= AIM and ratio_claim <= AIM
    print(
        f"ratio 100k/10k ({database}): total {ratio:.2f}, claim without publishing "
        f"{ratio_claim:.2f} -> {'meets' if ok else 'MISSES'} the aim of <= {AIM}"
    )
    print("plans of the claim queries on 100k campaigns, 1,000 due:")
    for line in plan:
        print("    " + line)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite", "both"))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument(
        "--memory-broker", action="store_true", help="publish to memory:// even if RabbitMQ is up"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    pg_up = reachable(PG_URL, 5432)
    chosen = args.database or ("both" if pg_up else "sqlite")
    databases = ["sqlite", "postgresql"] if chosen == "both" else [chosen]
    if "postgresql" in databases and not pg_up:
        raise SystemExit(f"PostgreSQL is not reachable at {PG_URL}")
    amqp = reachable(AMQP_URL, 5672) and not args.memory_broker
    broker = AMQP_URL if amqp else "memory://localhost/"
    import workers.winback_tasks  # noqa: F401 - registers the win-back steps with the sweeper
    from workers.sweeper import SWEPT

    swept = ", ".join(f"{model.__tablename__} -> {task}" for model, task, _ in SWEPT)
    shown = broker.split("@")[-1] if "@" in broker else broker
    print(
        f"broker {shown} (queue {QUEUE}); swept: {swept}; sweep_once(now) with its default "
        f"limit until it claims nothing; {args.rounds} sweeps per size after one warm-up, "
        f"alternating; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    t0 = dt.datetime.now(dt.UTC)
    ok = True
    try:
        for database in databases:
            print(f"== {database}", flush=True)
            ok = run(database, broker, args.rounds, t0) and ok
    finally:
        drop_queue(broker)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
