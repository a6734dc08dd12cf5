"""The Recover loop's reaction time: ``invoice.payment_failed`` received by the webhook
endpoint -> the campaign open and the first dunning email handed to the transport,
across the production processes, against the webhook intake alone in the same run.

    .venv/bin/python bench/bench_reaction.py      (from the repo root; about 3 minutes)

The shape is the Procfile's, on one machine: the Stripe sandbox (``python -m
stripe_sandbox --port 0``), gunicorn (2 gthread workers of 4 threads, access log on), one
Celery worker (prefork, concurrency 4) and one beat, configured only by environment
variables, on PostgreSQL (database ``backstop_bench_reaction``, created here, migrated
with ``flask db upgrade`` and dropped at the end; ``BACKSTOP_BENCH_REACTION_DATABASE_URL``)
and RabbitMQ (``BACKSTOP_BENCH_BROKER_URL``). The beat sweeps every second
(``BACKSTOP_SWEEP_SECONDS=1``; the default is 30 s, and the sweep interval bounds the
reaction). Nothing is pinned: the processes share the machine's CPUs with PostgreSQL,
RabbitMQ and the sandbox, as they would on one box.

Two changes from the Procfile, neither on the measured path: the three processes load the
app through this module (``bench_reaction:web_app()`` and ``-A bench_reaction``), which
only renames the two task queues (``backstop_bench_reaction`` and ``..._mail``, deleted at
the end) so that a test run sharing the broker never takes the bench's tasks or gives it
its own; and the worker runs without mingle, gossip and heartbeat, which only talk to
other workers on the broker. gunicorn's access log carries each request's duration.

A connected account holds, on ``pm_card_sandbox_visa_insufficient_funds`` with a monthly
subscription, the customers of two phases, made through the official SDK while the whole
stack runs (every setup event is delivered and mirrored, untimed): the **burst**, ``--burst``
customers (default 500) on one test clock, and the **batches**, ``--batches`` clocks
(default 10) of ``--batch-size`` customers (default 50). Each clock starts at 09:00 UTC on
a Monday; the renewal comes a month later at 09:00, the sandbox finalizes and charges it an
hour after (10:00:00), and every charge is declined. The workspace and the customers are in
UTC, so the first touch (d0: the first 10:00 at or after the failure,
``app/dunning/sequences.py``) is due the moment the failure happens, and each clock is
advanced to exactly that moment. The burst's clock fails 500 renewals at once, which the
sandbox then delivers one webhook at a time in event order (a burst at the sandbox's
delivery rate); the batch clocks are advanced one after the other, each once the previous
renewal's emails are out and the queues are empty. Before each advance the bench waits a
random 0-1 s, so that the failures meet the beat's sweep at a random point of its interval.
``--burst 0 --batches 30 --batch-size 1`` measures single failures on an idle stack.

The platform endpoint subscribes to the events Backstop subscribes a merchant's own
endpoint to (``app.stripe.connection.ENDPOINT_EVENTS``: no test-clock events), so
Backstop learns the clock's time when the first failure asks Stripe for it, as a
live-mode failure's "now" is simply the wall clock. ``--all-events`` subscribes to
everything instead (as ``make run`` and the e2e tests do): Backstop then holds every step
until the clock's ``test_helpers.test_clock.ready`` event, the last of the advance, is
processed, which measures the clock rather than the loop.

Every time compared is this machine's wall clock in UTC: the ``stripe_event`` row's
``received_at`` (set by the web process as the request is handled: the start; the
sandbox's signature timestamp has whole seconds only), its ``processed_at`` (set in the
commit that opens the campaign and plans its steps), the ``outbox_message``'s
``created_at`` and ``sent_at`` (the transport took it). Triggers the bench adds to its own
database note, with PostgreSQL's ``clock_timestamp()``, when a worker claimed each
failure's event and when the sweep claimed, and a worker took, each email step; they are
not part of the app. The baseline is the intake alone: gunicorn's own time for each
``POST /webhooks/stripe`` of the same renewals (request read -> response written: verify,
store the ``stripe_event`` row, wake a worker, answer), from its access log.

Prints, for each phase::

    reaction (received -> first dunning email sent): p50, p95, max over the failures
    campaign open (received -> campaign committed): p50, p95, max
    intake alone (gunicorn's time per webhook of the same renewals): p50, p95, max
    reaction p95 X s = N x the intake's p95
    where the time went: p50/p95 of each hop

Aim: reaction p95 < 2 s. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from _support import connect, reachable, sandbox

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get(
    "BACKSTOP_BENCH_REACTION_DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/backstop_bench_reaction",
)
AMQP_URL = os.environ.get("BACKSTOP_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = "backstop_bench_reaction"
MAIL_QUEUE = "backstop_bench_reaction_mail"
QUEUES = (QUEUE, MAIL_QUEUE)
PLATFORM_KEY = "sk_test_bench_reaction_" + secrets.token_hex(6)
CARD = "pm_card_sandbox_visa_insufficient_funds"
BURST = 500  # failures on one clock, all at once
BATCHES, BATCH_SIZE = 10, 50  # then clocks of 50, renewed one after another
SWEEP_SECONDS = 1
WEB_WORKERS, WEB_THREADS = 2, 4  # the Procfile's defaults
WORKER_CONCURRENCY = 4  # the Procfile's default
SETUP_THREADS = 4
AIM_SECONDS = 2.0
#: A Monday, 09:00 UTC: the renewal a month later is charged at 10:00:00, d0's moment.
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
FAILED_AT = START + dt.timedelta(days=30, hours=1)


# -- the app as the three processes load it (gunicorn and celery import this module) -----------


def _own_queues(celery: Any) -> Any:
    """The app's two queues under the bench's names, routed as ``app/queue.py`` routes them."""
    from kombu import Queue

    celery.conf.task_default_queue = QUEUE
    celery.conf.task_queues = (Queue(QUEUE), Queue(MAIL_QUEUE))
    celery.conf.task_routes = {"email.*": {"queue": MAIL_QUEUE}}
    return celery


def web_app() -> Any:
    """``wsgi.py``'s app, its tasks sent to the bench's queues."""
    from app import create_app

    flask_app = create_app()
    _own_queues(flask_app.extensions["celery"])
    return flask_app


_celery: Any = None


def __getattr__(name: str) -> Any:
    """``celery -A bench_reaction worker|beat`` asks for ``app``: ``workers.celery_app``'s
    Celery, built on demand, with the bench's queues."""
    global _celery
    if name in ("app", "celery"):
        if _celery is None:
            from app import create_app
            from workers.celery_app import init_celery

            _celery = _own_queues(init_celery(create_app()))
        return _celery
    raise AttributeError(name)


# -- stores ------------------------------------------------------------------------------------


def _server_url() -> str:
    return urlunsplit(urlsplit(PG_URL)._replace(path="/postgres"))


def create_database() -> None:
    import psycopg

    name = urlsplit(PG_URL).path.lstrip("/")
    with psycopg.connect(_server_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database() -> None:
    import psycopg

    name = urlsplit(PG_URL).path.lstrip("/")
    with psycopg.connect(_server_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: When a worker claimed a failure's event, and when the sweep claimed and a worker took
#: each email step: the hops no column of the app keeps (a claim's lease is overwritten).
MARKS = """
CREATE TABLE bench_mark (tbl text NOT NULL, row_id bigint NOT NULL, status text NOT NULL,
                         at timestamptz NOT NULL);
CREATE INDEX bench_mark_row ON bench_mark (tbl, row_id);
CREATE FUNCTION bench_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench_mark VALUES (TG_TABLE_NAME, NEW.id, NEW.status, clock_timestamp());
    RETURN NULL;
END $$;
CREATE TRIGGER bench_mark_claimed AFTER UPDATE OF status ON stripe_event FOR EACH ROW
    WHEN (NEW.type = 'invoice.payment_failed' AND NEW.status = 'running'
          AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION bench_mark();
CREATE TRIGGER bench_mark_step AFTER UPDATE OF status ON recovery_step FOR EACH ROW
    WHEN (NEW.kind = 'email' AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION bench_mark();
"""


def add_marks() -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(MARKS)


def query(sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(PG_URL, row_factory=dict_row) as conn:
        return conn.execute(sql, params or {}).fetchall()


def drop_queues() -> None:
    from kombu import Connection

    with Connection(AMQP_URL, connect_timeout=5) as conn:
        channel = conn.default_channel
        for name in QUEUES:
            channel.queue_delete(name)
            channel.exchange_delete(name)


# -- the sandbox and the merchant ----------------------------------------------------------------


def sandbox_call(url: str, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        url + path,
        data=urlencode(data).encode() if data is not None else None,
        headers={"Authorization": f"Bearer {PLATFORM_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


class Merchant:
    """A connected account: test clocks, a monthly price, customers whose renewals fail."""

    def __init__(self, url: str, clocks: int) -> None:
        import stripe

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
        self.clocks = [
            self.client.v1.test_helpers.test_clocks.create(
                params={"frozen_time": int(START.timestamp())}
            ).id
            for _ in range(clocks)
        ]
        self.price = self.client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 2900,
                "recurring": {"interval": "month"},
                "product_data": {"name": "Studio"},
            }
        ).id

    def subscribe(self, n: int, clock: str) -> str:
        """Customer ``n`` on ``clock``, subscribed; returns the subscription's status."""
        customer = self.client.v1.customers.create(
            params={
                "email": f"customer{n}@example.com",
                "name": f"Customer {n}",
                "test_clock": clock,
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

    def advance(self, clock: str, to: dt.datetime) -> None:
        self.client.v1.test_helpers.test_clocks.advance(
            clock, params={"frozen_time": int(to.timestamp())}
        )


# -- the stack ------------------------------------------------------------------------------------


class Proc:
    """A child process whose output goes to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path, **kw: Any):
        self.name = name
        self.log_path = logs / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **kw,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]


class Stack:
    """gunicorn, one Celery worker and one beat, on one database and one broker."""

    def __init__(self, logs: Path, env: dict[str, str], listener: socket.socket) -> None:
        self.logs, self.env = logs, env
        self.access_log = logs / "access.log"
        self.procs: list[Proc] = []
        import gunicorn.config

        control = (
            ["--no-control-socket"] if hasattr(gunicorn.config, "ControlSocketDisable") else []
        )
        self.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "bench_reaction:web_app()",
                "-b",
                f"fd://{listener.fileno()}",
                "--workers",
                str(WEB_WORKERS),
                "--worker-class",
                "gthread",
                "--threads",
                str(WEB_THREADS),
                "--access-logfile",
                str(self.access_log),
                "--access-logformat",
                "%(r)s %(s)s %(D)s",
                "--graceful-timeout",
                "5",
                *control,
            ],
            pass_fds=(listener.fileno(),),
        )
        celery = [str(BIN / "celery"), "-A", "bench_reaction"]
        self.start(
            "worker",
            [
                *celery,
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(WORKER_CONCURRENCY),
                "-n",
                f"bench-reaction-{secrets.token_hex(4)}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
        )
        self.start(
            "beat",
            [*celery, "beat", "--loglevel", "INFO", "-s", str(logs / "beat-schedule")],
        )

    def start(self, name: str, argv: list[str], **kw: Any) -> None:
        self.procs.append(Proc(name, argv, self.env, self.logs, **kw))

    def check_alive(self) -> None:
        for proc in self.procs:
            if not proc.alive():
                raise SystemExit(f"{proc.name} exited:\n{proc.tail()}")

    def diagnose(self) -> str:
        return "\n".join(f"--- {p.name} ({p.log_path})\n{p.tail()}" for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.alive():
                proc.proc.terminate()  # all at once: their warm shutdowns overlap
        for proc in self.procs:
            try:
                proc.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.proc.kill()
                proc.proc.wait(timeout=10)
            proc.log.close()


def environment(sandbox_url: str, web_url: str, webhook_secret: str) -> dict[str, str]:
    """Production settings, from the environment only, as the Procfile's processes get them."""
    from cryptography.fernet import Fernet

    from app.settings import describe

    ours = {name for name, _, _ in describe()}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env.update(
        {
            "BACKSTOP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "BACKSTOP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": PG_URL,
            "BROKER_URL": AMQP_URL,
            "BACKSTOP_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "STRIPE_API_BASE": sandbox_url,
            "STRIPE_CONNECT_BASE": sandbox_url,
            "STRIPE_SECRET_KEY": PLATFORM_KEY,
            "STRIPE_CLIENT_ID": "ca_" + PLATFORM_KEY.removeprefix("sk_test_"),
            "STRIPE_PUBLISHABLE_KEY": "pk_test_" + PLATFORM_KEY.removeprefix("sk_test_"),
            "STRIPE_WEBHOOK_SECRET": webhook_secret,
            "BACKSTOP_BASE_URL": web_url,
            "PYTHONUNBUFFERED": "1",
            # The checkout first (as the Procfile runs), then bench/ for this module.
            "PYTHONPATH": os.pathsep.join((str(ROOT), str(ROOT / "bench"))),
        }
    )
    return env


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "-d", "app/migrations"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")


def seed(env: dict[str, str], account: str) -> None:
    """The merchant's workspace (UTC), OAuth-connected to ``account``."""
    os.environ.update(env)
    os.environ["LOG_LEVEL"] = "WARNING"  # this process only: the SDK logs every request at INFO
    from app import create_app
    from app.accounts import services
    from app.accounts.models import Workspace
    from app.extensions import db

    flask_app = create_app()
    with flask_app.app_context():
        user = services.sign_up(
            db.session, "owner@example.com", secrets.token_urlsafe(16), "Studio"
        )
        workspace = db.session.get(Workspace, user.memberships[0].workspace_id)
        workspace.timezone = "UTC"
        connect(db.session, workspace.id, account)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def wait_web(stack: Stack, web_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stack.check_alive()
        try:
            with urllib.request.urlopen(web_url + "/login", timeout=2):
                return
        except urllib.error.HTTPError as exc:
            exc.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer\n{stack.diagnose()}")


def waiting_events() -> int:
    waiting = "SELECT count(*) AS n FROM stripe_event WHERE status IN ('received', 'running')"
    return query(waiting)[0]["n"]


def queued_tasks() -> int:
    """Messages waiting in the bench's two queues (the wake-ups a burst left behind)."""
    from kombu import Connection

    with Connection(AMQP_URL, connect_timeout=5) as conn:
        channel = conn.default_channel
        return sum(channel.queue_declare(name, passive=True).message_count for name in QUEUES)


def settle(stack: Stack, sandbox_url: str, what: str, timeout: float = 240) -> None:
    """Until the sandbox has delivered everything due, no stored event waits and the
    queues are empty: the next renewal starts on an idle stack."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        sandbox_call(sandbox_url, "/v1/test_helpers/sandbox/webhooks/flush", {"timeout": 20})
        if waiting_events() == 0 and queued_tasks() == 0:
            return
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}\n{stack.diagnose()}")


def failed_events() -> list[dict[str, Any]]:
    return query("SELECT type, error FROM stripe_event WHERE status = 'failed' LIMIT 5")


# -- one renewal: advance a clock, wait for its emails --------------------------------------------


@dataclass
class Renewal:
    advance_seconds: float
    rows: list[dict[str, Any]]  # one per invoice.payment_failed received
    events: Counter[str]  # every event the renewal delivered, by type
    stream_seconds: float  # first to last event received
    arrivals: tuple[float, float]  # first and last failure received, after the first event
    intake_ms: list[float]  # gunicorn's time for each POST /webhooks/stripe


PER_FAILURE = """
SELECT e.received_at, e.processed_at, claimed.at AS claimed_at,
       c.id AS campaign_id, s.id AS step_id, s.status AS step_status,
       swept.at AS swept_at, taken.at AS taken_at,
       o.created_at AS stored_at, o.sent_at, o.status AS message_status
FROM stripe_event e
LEFT JOIN LATERAL (SELECT min(at) AS at FROM bench_mark
                   WHERE tbl = 'stripe_event' AND row_id = e.id) claimed ON true
LEFT JOIN recovery_campaign c
       ON c.workspace_id = e.workspace_id
      AND c.invoice_stripe_id = e.payload -> 'data' -> 'object' ->> 'id'
LEFT JOIN recovery_step s ON s.campaign_id = c.id AND s.kind = 'email' AND s.touch = 'd0'
LEFT JOIN LATERAL (SELECT min(at) AS at FROM bench_mark
                   WHERE tbl = 'recovery_step' AND row_id = s.id AND status = 'queued') swept
       ON true
LEFT JOIN LATERAL (SELECT min(at) AS at FROM bench_mark
                   WHERE tbl = 'recovery_step' AND row_id = s.id AND status = 'running') taken
       ON true
LEFT JOIN outbox_message o ON o.step_id = s.id
WHERE e.type = 'invoice.payment_failed' AND e.received_at >= %(since)s
ORDER BY e.received_at
"""


def emails_out(since: dt.datetime) -> int:
    """First dunning emails of failures received since ``since`` no longer queued."""
    return query(
        """
        SELECT count(*) AS n FROM outbox_message o
        JOIN recovery_campaign c ON c.id = o.campaign_id
        JOIN stripe_event e ON e.workspace_id = c.workspace_id
             AND e.type = 'invoice.payment_failed'
             AND e.payload -> 'data' -> 'object' ->> 'id' = c.invoice_stripe_id
        WHERE o.status <> 'queued' AND e.received_at >= %(since)s
        """,
        {"since": since},
    )[0]["n"]


def renew(
    stack: Stack, merchant: Merchant, sandbox_url: str, clock: str, expected: int, timeout: float
) -> Renewal:
    """Advance ``clock`` to the failures' moment; wait for their emails and the rest of
    its events. A random pause first, so that the failures meet the beat's sweep at a
    random point of its interval, not at the one the previous renewal left."""
    time.sleep(random.uniform(0, SWEEP_SECONDS))
    offset = stack.access_log.stat().st_size
    since = dt.datetime.now(dt.UTC)
    began = time.perf_counter()
    merchant.advance(clock, FAILED_AT)
    advance_seconds = time.perf_counter() - began
    deadline = time.monotonic() + timeout
    while (out := emails_out(since)) < expected:
        stack.check_alive()
        if time.monotonic() > deadline:
            print(f"  timed out after {timeout:.0f} s: {out} of {expected} emails out")
            break
        time.sleep(0.2)
    settle(stack, sandbox_url, "the renewal's remaining events")
    events = query(
        "SELECT type, count(*) AS n, min(received_at) AS first, max(received_at) AS last "
        "FROM stripe_event WHERE received_at >= %(since)s GROUP BY type",
        {"since": since},
    )
    with stack.access_log.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode(errors="replace").splitlines()
    intake_ms = [
        int(line.rsplit(" ", 1)[1]) / 1000
        for line in lines
        if line.startswith("POST /webhooks/stripe ") and line.rsplit(" ", 2)[1] == "200"
    ]
    rows = query(PER_FAILURE, {"since": since})
    first = min(e["first"] for e in events)
    failures = [row["received_at"] for row in rows] or [first]
    return Renewal(
        advance_seconds,
        rows,
        Counter({e["type"]: e["n"] for e in events}),
        (max(e["last"] for e in events) - first).total_seconds(),
        ((min(failures) - first).total_seconds(), (max(failures) - first).total_seconds()),
        intake_ms,
    )


# -- figures --------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def seconds(rows: list[dict[str, Any]], start: str, end: str) -> list[float]:
    return [
        (row[end] - row[start]).total_seconds()
        for row in rows
        if row[start] is not None and row[end] is not None
    ]


def spread(values: list[float], fmt: str = "{:.2f} s") -> str:
    top = max(values) if values else float("nan")
    return (
        f"p50 {fmt.format(pct(values, 50))}, p95 {fmt.format(pct(values, 95))}, "
        f"max {fmt.format(top)}"
    )


HOPS = (
    ("waiting for a worker (received -> claimed)", "received_at", "claimed_at"),
    ("processing (its claimed batch ahead, then its own)", "claimed_at", "processed_at"),
    ("waiting for the sweep (campaign -> step claimed)", "processed_at", "swept_at"),
    ("sweep to worker (claimed -> run_step took it)", "swept_at", "taken_at"),
    ("the touch (decide, render, store)", "taken_at", "stored_at"),
    ("delivery (email.deliver: re-check, transport)", "stored_at", "sent_at"),
)


def shape(renewals: list[Renewal]) -> str:
    """How the failures arrived: the advance, then the sandbox's one-at-a-time deliveries."""
    events = sum((r.events for r in renewals), Counter())
    total = sum(events.values())
    streams = [r.stream_seconds for r in renewals]
    adv = [r.advance_seconds for r in renewals]
    mix = ", ".join(f"{t} {n}" for t, n in events.most_common())
    if len(renewals) == 1:
        r = renewals[0]
        return (
            f"the clock advanced in {adv[0]:.1f} s (nothing is delivered meanwhile), then "
            f"{total} events delivered one at a time in {streams[0]:.1f} s "
            f"({total / max(streams[0], 1e-9):.0f}/s: {mix}); the failures arrived from "
            f"+{r.arrivals[0]:.1f} s to +{r.arrivals[1]:.1f} s"
        )
    return (
        f"each clock advanced in {min(adv):.2f}-{max(adv):.2f} s, then delivered its "
        f"{total // len(renewals)} events in {min(streams):.1f}-{max(streams):.1f} s "
        f"({mix}, in all); each batch's failures arrived within "
        f"{max(r.arrivals[1] - r.arrivals[0] for r in renewals):.1f} s"
    )


def report(name: str, renewals: list[Renewal], expected: int) -> float:
    """Print one phase's figures; returns its reaction p95."""
    rows = [row for r in renewals for row in r.rows]
    sent = [row for row in rows if row["message_status"] == "sent"]
    outcomes = Counter(
        row["message_status"] or (f"step {row['step_status']}" if row["step_id"] else "no d0 step")
        for row in rows
    )
    reaction = seconds(sent, "received_at", "sent_at")
    campaign = seconds([row for row in rows if row["campaign_id"]], "received_at", "processed_at")
    intake = [ms for r in renewals for ms in r.intake_ms]
    intake_p95 = pct(intake, 95) / 1000
    print(f"{name}: {shape(renewals)}")
    print(
        f"    {len(rows)} of {expected} failures received; first dunning email: "
        + ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
    )
    if len(sent) < expected:
        print(f"    WARNING: only {len(sent)} of {expected} emails sent; the figures cover those")
    print(f"    reaction (received -> first dunning email sent): {spread(reaction)}")
    print(f"    campaign open (received -> its commit): {spread(campaign)}")
    print(
        f"    intake alone (gunicorn's time per POST /webhooks/stripe, {len(intake)} "
        f"deliveries of the same renewals): {spread(intake, '{:.1f} ms')}"
    )
    print(
        f"    reaction p95 {pct(reaction, 95):.2f} s = {pct(reaction, 95) / intake_p95:,.0f} x "
        f"the intake's p95; campaign open p95 {pct(campaign, 95):.2f} s = "
        f"{pct(campaign, 95) / intake_p95:,.0f} x"
    )
    print("    where the time went, hop by hop:")
    for hop, start, end in HOPS:
        print(f"        {hop}: {spread(seconds(sent, start, end))}")
    if len(renewals) == 1 and len(sent) >= 100:
        tenth = len(sent) // 10
        ordered = sorted(sent, key=lambda row: row["received_at"])
        print(
            f"    by arrival: the first {tenth} failures' reaction p50 "
            f"{pct(seconds(ordered[:tenth], 'received_at', 'sent_at'), 50):.2f} s, the last "
            f"{tenth}'s {pct(seconds(ordered[-tenth:], 'received_at', 'sent_at'), 50):.2f} s"
        )
    return pct(reaction, 95) if len(sent) == expected else float("inf")


# -- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--burst", type=int, default=BURST, help="failures on one clock, all at once (0: none)"
    )
    parser.add_argument(
        "--batches", type=int, default=BATCHES, help="clocks renewed one after another (0: none)"
    )
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="failures per batch")
    parser.add_argument(
        "--all-events",
        action="store_true",
        help="subscribe the endpoint to every event, the test clock's included",
    )
    parser.add_argument("--timeout", type=float, default=180, help="seconds per renewal")
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the processes' logs (path printed)"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not reachable(PG_URL, 5432):
        raise SystemExit(f"PostgreSQL is not reachable at {PG_URL}")
    if not reachable(AMQP_URL, 5672):
        raise SystemExit(f"RabbitMQ is not reachable at {AMQP_URL}")
    from app.stripe.connection import ENDPOINT_EVENTS

    phases = [("burst", [args.burst])] if args.burst else []
    if args.batches:
        phases.append(("batches", [args.batch_size] * args.batches))
    logs = Path(tempfile.mkdtemp(prefix="bench_reaction_"))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    web_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    stack: Stack | None = None
    ok = False
    create_database()
    try:
        with sandbox() as sandbox_url:
            events = ["*"] if args.all_events else list(ENDPOINT_EVENTS)
            endpoint = sandbox_call(
                sandbox_url,
                "/v1/webhook_endpoints",
                {
                    "url": web_url + "/webhooks/stripe",
                    "connect": "true",
                    "description": "Backstop bench",
                    **{f"enabled_events[{i}]": name for i, name in enumerate(events)},
                },
            )
            env = environment(sandbox_url, web_url, endpoint["secret"])
            migrate(env)
            add_marks()
            merchant = Merchant(sandbox_url, sum(len(sizes) for _, sizes in phases))
            seed(env, merchant.account)
            stack = Stack(logs, env, listener)
            listener.close()
            wait_web(stack, web_url)
            subscribed = (
                "all, the test clock's included"
                if args.all_events
                else "ENDPOINT_EVENTS (no test-clock events)"
            )
            print(
                f"stack: gunicorn {WEB_WORKERS} gthread workers x {WEB_THREADS} threads; one "
                f"celery worker (prefork, concurrency {WORKER_CONCURRENCY}); one beat sweeping "
                f"every {SWEEP_SECONDS} s (BACKSTOP_SWEEP_SECONDS={SWEEP_SECONDS}; default 30); "
                f"PostgreSQL {urlsplit(PG_URL).path.lstrip('/')}; RabbitMQ; mail transport "
                f"outbox; endpoint events: {subscribed}; {os.cpu_count()} CPUs, nothing "
                f"pinned; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            clocks = iter(merchant.clocks)
            plan = [(name, [(next(clocks), size) for size in sizes]) for name, sizes in phases]
            on_clock = [
                clock for _, renewals in plan for clock, size in renewals for _ in range(size)
            ]
            customers = list(enumerate(on_clock))
            began = time.perf_counter()
            with ThreadPoolExecutor(SETUP_THREADS) as pool:
                statuses = Counter(pool.map(lambda nc: merchant.subscribe(*nc), customers))
            made = time.perf_counter() - began
            settle(stack, sandbox_url, "the setup's events")
            stored = query("SELECT count(*) AS n FROM stripe_event")[0]["n"]
            print(
                f"setup: {len(customers)} customers on {CARD} with a monthly subscription on "
                f"{len(merchant.clocks)} test clocks ({dict(statuses)}) in {made:.1f} s; their "
                f"{stored} events delivered and processed after "
                f"{time.perf_counter() - began:.1f} s (untimed)",
                flush=True,
            )
            results = []
            for name, renewals in plan:
                done = [
                    renew(stack, merchant, sandbox_url, clock, size, args.timeout)
                    for clock, size in renewals
                ]
                results.append((name, done, sum(size for _, size in renewals)))
            failed = failed_events()
            if failed:
                print(f"WARNING: events failed in the worker: {failed}")
            p95s = [report(name, done, expected) for name, done, expected in results]
            verdicts = ", ".join(
                f"{name} {'met' if p95 < AIM_SECONDS else 'missed'} ({p95:.2f} s)"
                for (name, _, _), p95 in zip(results, p95s, strict=True)
            )
            print(
                f"aim: reaction p95 < {AIM_SECONDS:.0f} s with the sweep every "
                f"{SWEEP_SECONDS} s -> {verdicts}"
            )
            ok = True
    finally:
        if stack is not None:
            stack.stop()
        listener.close()
        try:
            drop_queues()
        finally:
            drop_database()
        if ok and not args.keep_logs:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            print(f"logs kept in {logs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
