"""What several benchmarks share: is a service up, a fresh PostgreSQL database, the
Stripe sandbox as a subprocess. Not a benchmark itself (``make bench`` runs
``bench_*.py`` only)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def fresh_database(url: str) -> None:
    """Create the database of ``url`` if missing and give it an empty public schema."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@contextmanager
def sandbox(cpu: int | None = None) -> Iterator[str]:
    """``python -m stripe_sandbox --port 0`` (pinned to ``cpu`` when given); its URL."""

    def pin() -> None:  # in the child, between fork and exec
        os.sched_setaffinity(0, {cpu})

    proc = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", "0"],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        preexec_fn=pin if cpu is not None else None,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on" not in line:
            raise SystemExit(f"the sandbox did not start: {line!r}")
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def account_events(sandbox_url: str, platform_key: str, account: str) -> list[dict[str, Any]]:
    """Every event of a connected account as Stripe's JSON, oldest first, carrying
    ``account`` as Stripe's Connect webhooks do."""
    found: list[dict[str, Any]] = []
    after = ""
    while True:
        request = urllib.request.Request(
            f"{sandbox_url}/v1/events?limit=100{after}",
            headers={"Authorization": f"Bearer {platform_key}", "Stripe-Account": account},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            page = json.loads(response.read())
        found += page["data"]
        if not page["has_more"]:
            break
        after = f"&starting_after={page['data'][-1]['id']}"
    for event in found:
        event["account"] = account
    return list(reversed(found))


def connect(session: Any, workspace_id: int, account: str) -> None:
    """Connect the workspace to ``account`` through OAuth, its import already done (the
    caller commits)."""
    from app.crypto import encrypt
    from app.stripe.models import StripeConnection

    session.add(
        StripeConnection(
            workspace_id=workspace_id,
            mode="oauth",
            stripe_account_id=account,
            livemode=False,
            secret_enc=encrypt("sk_test_unused"),
            scope="read_write",
            status="connected",
            import_status="done",
            import_progress={},
        )
    )


def served_app(database_url: str, sandbox_url: str, platform_key: str) -> Any:
    """The app on ``database_url`` (its tables made afresh) against the sandbox, tasks
    in-process, as the benchmarks drive it through Flask's test client."""
    from app import create_app
    from app.extensions import db
    from workers.celery_app import init_celery

    flask_app = create_app(
        {
            "env": "test",
            "log_level": "WARNING",
            "database_url": database_url,
            "broker_url": "memory://",
            "task_always_eager": True,
            "base_url": "http://localhost",
            "stripe_api_base": sandbox_url,
            "stripe_connect_base": sandbox_url,
            "stripe_secret_key": platform_key,
            "stripe_publishable_key": "pk_test_" + platform_key.removeprefix("sk_test_"),
        }
    )
    init_celery(flask_app)
    with flask_app.app_context():
        db.drop_all()
        db.create_all()
    return flask_app


# -- timing a sweep (bench_sweeper, bench_winback) -------------------------------------------


@dataclass
class Timer:
    """Wall time spent in SQL statements (per kind) and in publishing, over a sweep."""

    kind_of: Callable[[str], str]
    sql: dict[str, float] = field(default_factory=dict)
    publish: float = 0.0
    published: int = 0
    statements: list[tuple[str, Any]] = field(default_factory=list)
    _started: list[float] = field(default_factory=list)

    def before(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self._started.append(time.perf_counter())

    def after(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        kind = self.kind_of(statement)
        self.sql[kind] = self.sql.get(kind, 0.0) + time.perf_counter() - self._started.pop()
        self.statements.append((statement, parameters))


@contextmanager
def instrumented(flask_app: Any, kind_of: Callable[[str], str]) -> Iterator[Timer]:
    """Time every statement on the app's engine (by ``kind_of`` it) and every
    ``send_task`` of its Celery."""
    from sqlalchemy import event

    from app.extensions import db

    timer = Timer(kind_of)
    celery = flask_app.extensions["celery"]
    send_task = celery.send_task

    def timed_send(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return send_task(*args, **kwargs)
        finally:
            timer.publish += time.perf_counter() - began
            timer.published += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", timer.before)
    event.listen(engine, "after_cursor_execute", timer.after)
    celery.send_task = timed_send
    try:
        yield timer
    finally:
        celery.send_task = send_task
        event.remove(engine, "before_cursor_execute", timer.before)
        event.remove(engine, "after_cursor_execute", timer.after)


@dataclass
class Sweep:
    total: float
    timer: Timer
    claimed: int
    sweeps: int

    @property
    def claim(self) -> float:
        """Everything but publishing: SQL, commits, Python."""
        return self.total - self.timer.publish
