"""Failed-payment events processed per second by one worker, end to end against the
Stripe sandbox, against the same events processed by the mirror alone as the baseline.

    .venv/bin/python bench/bench_failed_payments.py      (from the repo root; 2-4 minutes)

The sandbox runs as ``python -m stripe_sandbox --port 0`` (pinned to CPU 0 when there are
two or more CPUs; this process, the worker, pins itself to CPU 1; PostgreSQL is not
pinned). A connected account gets a test clock and ``--customers`` customers (default
200) on ``pm_card_sandbox_visa_insufficient_funds`` with a monthly subscription; the
clock advances past the first renewal once, so every renewal fails. Backstop runs on
PostgreSQL (database ``backstop_bench_payments``, made fresh here;
``BACKSTOP_BENCH_PAYMENTS_DATABASE_URL``) with a ``memory://`` broker (the only task sent
is the sweep that ``test_clock.ready`` asks for; nothing consumes it), its workspace
OAuth-connected to the account.

The account's events up to the renewal (customers, subscriptions, first invoices) are
stored and processed once, untimed, so the mirror holds what production's would. Then
each measured pass starts from that state (mirror and clock restored from a snapshot,
campaigns and events emptied), stores every event of the renewal exactly as the webhook
intake does (``app.stripe.intake.store``) and times one worker processing them all:
``workers.stripe_tasks.process_pending`` called in-process in one thread (what a
``celery worker --concurrency 1`` runs for each wake-up, without the broker round trip)
until it finds nothing left. A recovery pass must end with every renewal's campaign open
and its steps planned. The baseline pass is the same events with the domains' handlers
unregistered (``app.stripe.processing``'s registry emptied): mirror every customer,
subscription and invoice event, record the clock, mark each event processed. After a
warm-up on a tenth of the events, passes alternate (recovery, baseline, ...), three
each; the pair with the median ratio is reported.

Every Stripe API request the worker makes is counted and timed (the SDK's HTTP client
and its requestor are wrapped), and so are SQL statements (engine events) and commits
(the dialect's ``do_commit``), so the output says how many calls and statements a
failed payment costs and where the worker's time goes.

Prints::

    recovery: N events/s (E events, F failed payments, in T s); mirror only: M events/s; ratio
    per failed payment: X ms more than the mirror; K Stripe API calls (...); SQL ...
    recovery pass, where the worker's time went: Stripe HTTP, SDK objects, SQL, commits, rest

See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import secrets
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _support import account_events, connect, reachable, sandbox
from _support import fresh_database as _fresh_database

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "BACKSTOP_BENCH_PAYMENTS_DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/backstop_bench_payments",
)
PLATFORM_KEY = "sk_test_bench_" + secrets.token_hex(8)
CARD = "pm_card_sandbox_visa_insufficient_funds"
CUSTOMERS = 200
SETUP_THREADS = 4
ROUNDS = 3  # measured passes per side; the median is reported
#: A Monday, 09:00 UTC (as in the recovery tests): the renewal falls on a known weekday.
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
RENEWAL = START + dt.timedelta(days=30, hours=2)  # the renewal finalized and charged
#: Rows that stay from pass to pass; every other table is emptied, the mirror and the
#: clocks restored from their snapshot.
KEPT = {"user_account", "workspace", "membership", "stripe_connection"}
SNAPSHOT = ("mirror_customer", "mirror_subscription", "mirror_invoice", "stripe_test_clock")
SANDBOX_CPU, WORKER_CPU = 0, 1


# -- the sandbox --------------------------------------------------------------------------------


class Merchant:
    """A connected account on the sandbox: a test clock, a price, failing customers."""

    def __init__(self, url: str) -> None:
        import stripe

        self.url = url

        def client(**kwargs: Any) -> stripe.StripeClient:
            return stripe.StripeClient(
                PLATFORM_KEY,
                base_addresses={"api": url, "connect": url, "files": url},
                max_network_retries=0,
                http_client=stripe.RequestsClient(timeout=600),
                **kwargs,
            )

        self.account = client().v1.accounts.create(params={"type": "standard"}).id
        self.client = client(stripe_account=self.account)
        self.clock = self.client.v1.test_helpers.test_clocks.create(
            params={"frozen_time": int(START.timestamp())}
        ).id
        self.price = self.client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 2900,
                "recurring": {"interval": "month"},
                "product_data": {"name": "Studio"},
            }
        ).id

    def subscribe(self, n: int) -> str:
        customer = self.client.v1.customers.create(
            params={
                "email": f"customer{n}@example.com",
                "test_clock": self.clock,
                "payment_method": CARD,
            }
        )
        pm = self.client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
        return self.client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": self.price}],
                "default_payment_method": pm.id,
            }
        ).status

    def advance(self, to: dt.datetime) -> None:
        self.client.v1.test_helpers.test_clocks.advance(
            self.clock, params={"frozen_time": int(to.timestamp())}
        )

    def events(self) -> list[dict[str, Any]]:
        """Every event of the account as Stripe's JSON, oldest first."""
        return account_events(self.url, PLATFORM_KEY, self.account)


# -- Backstop -----------------------------------------------------------------------------------


def make_app(sandbox_url: str) -> Any:
    from app import create_app
    from app.extensions import db
    from workers.celery_app import init_celery

    flask_app = create_app(
        {
            "env": "development",
            "log_level": "WARNING",
            "database_url": PG_URL,
            "broker_url": "memory://localhost/",
            "task_always_eager": False,
            "stripe_api_base": sandbox_url,
            "stripe_connect_base": sandbox_url,
            "stripe_secret_key": PLATFORM_KEY,
        }
    )
    init_celery(flask_app)
    with flask_app.app_context():
        db.create_all()
    return flask_app


def connect_workspace(account: str) -> int:
    """A merchant's workspace, OAuth-connected to ``account``; returns its id."""
    from app.accounts import services as accounts
    from app.extensions import db

    owner = accounts.create_user(db.session, "owner@example.com", secrets.token_urlsafe(16))
    workspace = accounts.create_workspace(db.session, owner, "Bench shop")
    connect(db.session, workspace.id, account)
    db.session.commit()
    return workspace.id


def store(events: list[dict[str, Any]], workspace_id: int) -> None:
    """Store the events as the webhook intake does (one INSERT each), committed."""
    from app.extensions import db
    from app.stripe import intake

    with db.engine.begin() as conn:
        for event in events:
            intake.store(conn, event, json.dumps(event).encode(), workspace_id=workspace_id)


def snapshot() -> None:
    from sqlalchemy import text

    from app.extensions import db

    with db.engine.begin() as conn:
        for table in SNAPSHOT:
            conn.execute(text(f"DROP TABLE IF EXISTS bench_snap_{table}"))
            conn.execute(text(f"CREATE TABLE bench_snap_{table} AS TABLE {table}"))


def reset() -> None:
    """Back to the state before the renewal: no events, no campaigns, the old mirror."""
    from sqlalchemy import text

    from app.extensions import db

    db.session.remove()
    emptied = [t.name for t in db.metadata.sorted_tables if t.name not in KEPT]
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(emptied)}"))
        for table in SNAPSHOT:
            restore = f"INSERT INTO {table} SELECT * FROM bench_snap_{table}"  # noqa: S608
            conn.execute(text(restore))
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


@contextmanager
def handlers_unregistered() -> Iterator[None]:
    """The baseline: processing with no domain subscribed, so events only reach the mirror."""
    from app.stripe import processing

    saved = dict(processing._HANDLERS)
    processing._HANDLERS.clear()
    try:
        yield
    finally:
        processing._HANDLERS.update(saved)


# -- what the worker waits on ----------------------------------------------------------------

_ID = re.compile(r"/(?:[a-z]+_[A-Za-z0-9]+)(?=/|$)")


@dataclass
class Meter:
    """What one worker waited on: Stripe requests (method and path, ids folded; the HTTP
    round trip, and the SDK's whole call with building its objects), SQL statements and
    commits, each with its wall time."""

    stripe: Counter[str] = field(default_factory=Counter)
    stripe_http: float = 0.0
    stripe_sdk: float = 0.0  # the SDK's whole call: HTTP plus building StripeObjects
    sql: int = 0
    sql_seconds: float = 0.0
    commits: int = 0
    commit_seconds: float = 0.0
    _started: list[float] = field(default_factory=list)

    def calls(self) -> int:
        return sum(self.stripe.values())

    def before_sql(self, *_: Any) -> None:
        self._started.append(time.perf_counter())

    def after_sql(self, *_: Any) -> None:
        self.sql += 1
        self.sql_seconds += time.perf_counter() - self._started.pop()

    @property
    def database(self) -> float:
        return self.sql_seconds + self.commit_seconds


@contextmanager
def metered() -> Iterator[Meter]:
    """Count and time every Stripe request (the SDK's HTTP client and its requestor,
    wrapped), every SQL statement (engine events) and every commit (the dialect's
    ``do_commit``, wrapped) until the block ends. One thread: no locking."""
    import stripe
    from sqlalchemy import event

    from app.extensions import db

    meter = Meter()
    http = stripe.HTTPClient.request_with_retries
    requestor = getattr(stripe, "_api_requestor", None)
    requestor_cls = getattr(requestor, "_APIRequestor", None)
    sdk = getattr(requestor_cls, "request", None)
    dialect = db.engine.dialect
    do_commit = dialect.do_commit

    def counted(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return http(self, method, url, *args, **kwargs)
        finally:
            meter.stripe[f"{method.upper()} {_ID.sub('/<id>', urlsplit(url).path)}"] += 1
            meter.stripe_http += time.perf_counter() - began

    def whole_call(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return sdk(*args, **kwargs)
        finally:
            meter.stripe_sdk += time.perf_counter() - began

    def timed_commit(dbapi_connection: Any) -> None:
        began = time.perf_counter()
        try:
            do_commit(dbapi_connection)
        finally:
            meter.commits += 1
            meter.commit_seconds += time.perf_counter() - began

    stripe.HTTPClient.request_with_retries = counted  # type: ignore[method-assign]
    if sdk is not None:
        requestor_cls.request = whole_call
    dialect.do_commit = timed_commit
    event.listen(db.engine, "before_cursor_execute", meter.before_sql)
    event.listen(db.engine, "after_cursor_execute", meter.after_sql)
    try:
        yield meter
    finally:
        stripe.HTTPClient.request_with_retries = http  # type: ignore[method-assign]
        if sdk is not None:
            requestor_cls.request = sdk
        del dialect.do_commit
        event.remove(db.engine, "before_cursor_execute", meter.before_sql)
        event.remove(db.engine, "after_cursor_execute", meter.after_sql)
    if sdk is None:
        meter.stripe_sdk = meter.stripe_http


# -- one measured pass --------------------------------------------------------------------------


@dataclass
class Pass:
    seconds: float
    events: int
    failed: int  # invoice.payment_failed events among them
    meter: Meter
    campaigns: int
    planned: int  # campaigns with at least one pending retry step

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def one_pass(events: list[dict[str, Any]], workspace_id: int, recovery: bool) -> Pass:
    """From the snapshot, store ``events`` and time one worker processing all of them."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.recovery.models import Campaign, Step
    from app.stripe.models import StripeEvent
    from workers import stripe_tasks

    reset()
    store(events, workspace_id)
    with contextlib.ExitStack() as stack:
        if not recovery:
            stack.enter_context(handlers_unregistered())
        meter = stack.enter_context(metered())
        began = time.perf_counter()
        done = stripe_tasks.process_pending.run()
        elapsed = time.perf_counter() - began
    db.session.remove()
    statuses = dict(
        db.session.execute(
            select(StripeEvent.status, func.count()).group_by(StripeEvent.status)
        ).all()
    )
    if done != len(events) or statuses.get("processed") != len(events):
        raise SystemExit(f"processed {done} of {len(events)} events: {statuses}")
    campaigns = db.session.execute(
        select(func.count()).select_from(Campaign).where(Campaign.state == "in_flight")
    ).scalar_one()
    planned = db.session.execute(
        select(func.count(func.distinct(Step.campaign_id))).where(
            Step.kind == "retry", Step.status == "pending"
        )
    ).scalar_one()
    db.session.remove()
    failed = sum(e["type"] == "invoice.payment_failed" for e in events)
    return Pass(elapsed, len(events), failed, meter, campaigns, planned)


# -- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not reachable(PG_URL, 5432):
        raise SystemExit(f"PostgreSQL is not reachable at {PG_URL}")
    cpus = os.sched_getaffinity(0)
    pin = len(cpus) >= 2 and {SANDBOX_CPU, WORKER_CPU} <= cpus
    _fresh_database(PG_URL)
    with sandbox(SANDBOX_CPU if pin else None) as url:
        if pin:
            os.sched_setaffinity(0, {WORKER_CPU})
        merchant = Merchant(url)
        began = time.perf_counter()
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            statuses = Counter(pool.map(merchant.subscribe, range(args.customers)))
        setup_events = merchant.events()
        print(
            f"setup: {args.customers} customers on {CARD} with a monthly subscription "
            f"({dict(statuses)}) in {time.perf_counter() - began:.1f} s; "
            f"{len(setup_events)} events before the renewal",
            flush=True,
        )
        began = time.perf_counter()
        merchant.advance(RENEWAL)
        seen = {e["id"] for e in setup_events}
        renewal_events = [e for e in merchant.events() if e["id"] not in seen]
        mix = Counter(e["type"] for e in renewal_events)
        print(
            f"renewal: clock advanced 30 days in {time.perf_counter() - began:.1f} s; "
            f"{len(renewal_events)} events: "
            + ", ".join(f"{t} {n}" for t, n in sorted(mix.items(), key=lambda kv: -kv[1])),
            flush=True,
        )
        if mix["invoice.payment_failed"] != args.customers:
            raise SystemExit(f"expected {args.customers} failed payments, got {mix}")

        flask_app = make_app(url)
        with flask_app.app_context():
            from workers import stripe_tasks

            workspace_id = connect_workspace(merchant.account)
            store(setup_events, workspace_id)
            stripe_tasks.process_pending.run()
            snapshot()
            print(
                f"Backstop: PostgreSQL {urlsplit(PG_URL).path.lstrip('/')}, broker memory://; "
                f"setup events processed untimed; worker = process_pending in-process, one "
                f"thread; sandbox CPU {SANDBOX_CPU if pin else 'any'}, worker CPU "
                f"{WORKER_CPU if pin else 'any'}; {args.rounds} passes per side, alternating; "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            # Warm-up (connections, statement caches): the first 10 % of the events.
            one_pass(renewal_events[: len(renewal_events) // 10], workspace_id, recovery=True)
            recovery: list[Pass] = []
            baseline: list[Pass] = []
            for n in range(1, args.rounds + 1):
                recovery.append(one_pass(renewal_events, workspace_id, recovery=True))
                baseline.append(one_pass(renewal_events, workspace_id, recovery=False))
                r, b = recovery[-1], baseline[-1]
                print(
                    f"  pass {n}: recovery {r.events / r.seconds:.0f} events/s "
                    f"({r.seconds:.2f} s, {r.campaigns} campaigns open, {r.planned} with "
                    f"retries planned, {r.meter.calls()} Stripe calls); mirror only "
                    f"{b.events / b.seconds:.0f} events/s ({b.seconds:.2f} s, "
                    f"{b.meter.calls()} Stripe calls); ratio {r.rate / b.rate:.2f}",
                    flush=True,
                )
                if r.campaigns != args.customers or r.planned != args.customers:
                    raise SystemExit(
                        f"expected {args.customers} open campaigns with retries planned, "
                        f"got {r.campaigns} and {r.planned}"
                    )

    # The pair of passes (run back to back) with the median ratio: the machine's drift
    # moves both sides of a pair alike, far less than it moves passes minutes apart.
    pairs = sorted(zip(recovery, baseline, strict=True), key=lambda rb: rb[0].rate / rb[1].rate)
    r, b = pairs[len(pairs) // 2]
    print(
        f"recovery: {r.rate:.0f} events/s ({r.events} events, {r.failed} failed payments, "
        f"in {r.seconds:.2f} s); mirror only: {b.rate:.0f} events/s ({b.seconds:.2f} s); "
        f"ratio {r.rate / b.rate:.2f} (the pass pair with the median ratio)"
    )
    f = r.failed
    calls = ", ".join(f"{k} {v / f:g}" for k, v in sorted(r.meter.stripe.items()))
    print(
        f"per failed payment: {(r.seconds - b.seconds) / f * 1000:.0f} ms more than the "
        f"mirror ({f / r.seconds:.1f} failed payments/s end to end); "
        f"{r.meter.calls() / f:g} Stripe API calls ({calls}): "
        f"{r.meter.stripe_sdk / f * 1000:.0f} ms in the SDK, of which "
        f"{r.meter.stripe_http / f * 1000:.0f} ms HTTP; {(r.meter.sql - b.meter.sql) / f:.0f} "
        f"more SQL statements and {(r.meter.commits - b.meter.commits) / f:.1f} more "
        f"commits: {(r.meter.database - b.meter.database) / f * 1000:.0f} ms more"
    )
    for name, p in (("recovery", r), ("mirror only", b)):
        m = p.meter
        rest = p.seconds - m.stripe_sdk - m.database
        print(
            f"{name} pass, where the worker's time went: Stripe HTTP "
            f"{m.stripe_http / p.seconds:.0%}, Stripe SDK objects "
            f"{(m.stripe_sdk - m.stripe_http) / p.seconds:.0%}, SQL "
            f"{m.sql_seconds / p.seconds:.0%} ({m.sql} statements, "
            f"{m.sql_seconds / max(1, m.sql) * 1000:.2f} ms each), commits "
            f"{m.commit_seconds / p.seconds:.0%} ({m.commits}, "
            f"{m.commit_seconds / max(1, m.commits) * 1000:.2f} ms each), the rest "
            f"(Backstop's Python, the ORM, JSON) {rest / p.seconds:.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
