"""The production shape on one machine: the Stripe sandbox, gunicorn (2 workers) and a
Celery worker process, configured only by environment variables, sharing a database
migrated with ``flask db upgrade`` and a broker.

Embedded lane: a temp SQLite database and kombu's SQLAlchemy transport on a temp SQLite
file. Services lane (BACKSTOP_TEST_DATABASE_URL / BACKSTOP_TEST_BROKER_URL): a fresh
PostgreSQL database of its own on that server (created here and dropped afterwards, so
the ``test`` database of tests/app is left alone) and the RabbitMQ broker.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from ..conftest import (
    ROOT,
    TEST_BROKER_URL,
    TEST_DATABASE_URL,
    make_client,
    reachable,
    service_unavailable,
)

BIN = Path(sys.executable).parent
DEADLINE = 25.0  # seconds for any one thing to happen
T = TypeVar("T")


def wait_until(
    what: str,
    probe: Callable[[], T | None],
    timeout: float = DEADLINE,
    diagnose: Callable[[], str] = str,
) -> T:
    """Call ``probe`` every 0.1 s until it returns something truthy (bounded)."""
    pause = threading.Event()
    end = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{diagnose()}")
        pause.wait(0.1)


def stripe_post(base: str, key: str, path: str, data: dict[str, str]) -> dict[str, Any]:
    return stripe_call(base, key, path, urlencode(data).encode())


def stripe_call(base: str, key: str, path: str, body: bytes | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        base + path,
        data=body,
        method="POST" if body is not None else "GET",
        headers={"Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


# -- stores -----------------------------------------------------------------------------------


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if not TEST_DATABASE_URL:
        yield "sqlite:///" + str(tmp_path / "backstop.sqlite")
        return
    if not reachable(TEST_DATABASE_URL):
        service_unavailable(f"database at {TEST_DATABASE_URL}")
    import psycopg

    admin_url = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"backstop_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(TEST_DATABASE_URL)._replace(path="/" + name))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def broker_url(tmp_path: Path) -> str:
    if TEST_BROKER_URL:
        if not reachable(TEST_BROKER_URL):
            service_unavailable(f"broker at {TEST_BROKER_URL}")
        return TEST_BROKER_URL
    url = "sqla+sqlite:///" + str(tmp_path / "broker.sqlite")
    # Create kombu's tables once here, not concurrently from three processes.
    from kombu import Connection
    from sqlalchemy.exc import SADeprecationWarning

    with warnings.catch_warnings():
        # kombu's own models use lazy="noload", deprecated in SQLAlchemy 2.1.
        warnings.filterwarnings("ignore", ".*noload.*", SADeprecationWarning)
        with Connection(url) as conn:
            conn.default_channel.queue_declare("celery")
    return url


# -- processes --------------------------------------------------------------------------------


class Proc:
    """A child process whose output goes to a log file (no pipes to drain or leak)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log: Path,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.name, self.log_path = name, log
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            pass_fds=pass_fds,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # graceful: gunicorn and Celery finish what they hold

    def stop(self) -> None:
        self.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            self.log.close()


def _environment(**values: str) -> dict[str, str]:
    from app.settings import describe

    ours = {name for name, _, _ in describe()}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env.update(values)
    env["PYTHONUNBUFFERED"] = "1"
    # Run from the checkout as the Procfile does: the ``celery`` script does not put the
    # working directory on sys.path, and the editable install may predate new packages
    # (admin/) that create_app loads through entry points.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def gunicorn_options() -> list[str]:
    """gunicorn >= 25.1 opens a control socket at one fixed path per user; several
    gunicorns at once (tests, bench, ``make run``) must not share it."""
    import gunicorn.config

    return ["--no-control-socket"] if hasattr(gunicorn.config, "ControlSocketDisable") else []


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except OSError:
        return None


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def stack(
    tmp_path: Path, sandbox_url: str, database_url: str, broker_url: str
) -> Iterator[dict[str, Any]]:
    """Migrated database, platform webhook endpoint, gunicorn and a Celery worker."""
    platform_key = "sk_test_e2e_mp_" + secrets.token_hex(6)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    web_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    procs: list[Proc] = []
    try:
        endpoint = stripe_post(
            sandbox_url,
            platform_key,
            "/v1/webhook_endpoints",
            {
                "url": web_url + "/webhooks/stripe",
                "enabled_events[0]": "*",
                "connect": "true",
                "description": "Backstop e2e",
            },
        )
        env = _environment(
            BACKSTOP_ENV="test",
            DATABASE_URL=database_url,
            BROKER_URL=broker_url,
            BACKSTOP_TASKS_EAGER="false",
            SECRET_KEY=secrets.token_urlsafe(32),
            STRIPE_API_BASE=sandbox_url,
            STRIPE_CONNECT_BASE=sandbox_url,
            STRIPE_SECRET_KEY=platform_key,
            STRIPE_CLIENT_ID="ca_" + platform_key.removeprefix("sk_test_"),
            STRIPE_WEBHOOK_SECRET=endpoint["secret"],
            BACKSTOP_BASE_URL=web_url,
        )
        # gunicorn inherits the socket bound above: no free-port race. Neither process
        # touches the database before a request or a task arrives, so both boot while
        # the schema is migrated.
        procs.append(
            Proc(
                "gunicorn",
                [
                    str(BIN / "gunicorn"),
                    "wsgi:app",
                    "-b",
                    f"fd://{listener.fileno()}",
                    "-w",
                    "2",
                    "--graceful-timeout",
                    "5",
                    *gunicorn_options(),
                ],
                env,
                tmp_path / "gunicorn.log",
                pass_fds=(listener.fileno(),),
            )
        )
        procs.append(
            Proc(
                "celery",
                [
                    str(BIN / "celery"),
                    "-A",
                    "workers.celery_app",
                    "worker",
                    "--pool",
                    "threads",
                    "-c",
                    "2",
                    "--loglevel",
                    "WARNING",
                    "-n",
                    f"e2e-{secrets.token_hex(4)}@%h",
                    "--without-mingle",
                    "--without-gossip",
                ],
                env,
                tmp_path / "celery.log",
            )
        )
        listener.close()
        migrate = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "db",
                "upgrade",
                "-d",
                "app/migrations",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr

        def web_ready() -> bool:
            for proc in procs:
                assert proc.alive(), f"{proc.name} exited:\n{proc.output()}"
            return _get(web_url + "/login") == 200

        wait_until("gunicorn to answer", web_ready, timeout=40)
        yield {
            "web_url": web_url,
            "platform_key": platform_key,
            "env": env,
            "webhook_secret": endpoint["secret"],
            "procs": procs,
        }
    finally:
        listener.close()
        for proc in procs:
            proc.terminate()  # all at once: their graceful shutdowns overlap
        for proc in procs:
            proc.stop()


@pytest.fixture
def db_view(database_url: str, sandbox_url: str) -> Iterator[Any]:
    """The same database, seen from the test process (an app that serves nothing)."""
    from app import create_app
    from app.extensions import db

    flask_app = create_app(
        {
            "env": "test",
            "database_url": database_url,
            "broker_url": "memory://",
            "stripe_api_base": sandbox_url,
            "stripe_connect_base": sandbox_url,
        }
    )
    with flask_app.app_context():
        yield db
        db.session.remove()
        db.engine.dispose()


def test_a_connect_event_goes_through_gunicorn_and_a_worker(
    stack, db_view, sandbox_url: str
) -> None:
    from app.crypto import encrypt
    from app.stripe.models import MirrorCustomer, StripeConnection, StripeEvent
    from app.stripe.signatures import sign

    from ..app import factories as f

    db = db_view
    key = stack["platform_key"]
    account = stripe_post(
        sandbox_url, key, "/v1/accounts", {"type": "standard", "email": "owner@example.com"}
    )["id"]
    ws = f.workspace(f.user("owner@example.com"), "Multi Process Co")
    db.session.add(
        StripeConnection(
            workspace_id=ws.id,
            mode="oauth",
            stripe_account_id=account,
            livemode=False,
            secret_enc=encrypt("sk_test_" + secrets.token_hex(8)),
            scope="read_write",
            status="connected",
            import_status="done",
            import_progress={},
        )
    )
    db.session.commit()
    workspace_id = ws.id

    merchant = make_client(sandbox_url, key, stripe_account=account)
    customer = merchant.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada Lovelace"}
    )

    def processed_event() -> StripeEvent | None:
        for proc in stack["procs"]:
            assert proc.alive(), f"{proc.name} exited:\n{proc.output()}"
        db.session.remove()  # a fresh session: see what the other processes committed
        event = db.session.execute(
            select(StripeEvent).where(
                StripeEvent.type == "customer.created", StripeEvent.account == account
            )
        ).scalar_one_or_none()
        return event if event is not None and event.status == "processed" else None

    def diagnose() -> str:
        return "\n".join(f"--- {p.name}\n{p.output()}" for p in stack["procs"])

    event = wait_until(
        "the customer.created event to be stored and processed", processed_event, diagnose=diagnose
    )
    assert event.workspace_id == workspace_id
    assert event.payload["data"]["object"]["id"] == customer.id
    assert event.attempts == 1 and event.processed_at is not None
    mirrored = db.session.execute(
        select(MirrorCustomer).where(MirrorCustomer.stripe_id == customer.id)
    ).scalar_one()
    assert mirrored.workspace_id == workspace_id
    assert (mirrored.email, mirrored.name) == ("ada@example.com", "Ada Lovelace")

    def snapshot() -> tuple[Any, ...]:
        db.session.remove()
        row = db.session.get(StripeEvent, event.id)
        mirror_row = db.session.get(MirrorCustomer, mirrored.id)
        return (
            db.session.execute(select(func.count()).select_from(StripeEvent)).scalar_one(),
            db.session.execute(select(func.count()).select_from(MirrorCustomer)).scalar_one(),
            row.status,
            row.attempts,
            row.processed_at,
            row.payload,
            mirror_row.data,
            mirror_row.source_created,
            mirror_row.updated_at,
        )

    before = snapshot()
    # Stripe delivers the same event again (a retry after a timeout, say).
    body = json.dumps(event.payload).encode()
    status, answer = _post(
        stack["web_url"] + "/webhooks/stripe",
        body,
        {
            "Content-Type": "application/json",
            "Stripe-Signature": sign(body, stack["webhook_secret"], int(time.time())),
        },
    )
    assert (status, answer) == (200, {"received": True, "duplicate": True})
    # A later event through the same pipeline is a barrier: once it is processed, any
    # work the duplicate might have queued before it has had its turn too.
    later = merchant.v1.customers.create(params={"email": "grace@example.com"})
    wait_until(
        "a later event to be processed",
        lambda: (
            db.session.remove()
            or (
                db.session.execute(
                    select(MirrorCustomer).where(MirrorCustomer.stripe_id == later.id)
                ).scalar_one_or_none()
            )
        ),
        diagnose=diagnose,
    )
    after = snapshot()
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1  # only the later one
    assert after[2:] == before[2:]

    # Stripe's side: the original delivery was accepted on the first attempt.
    attempts = stripe_call(sandbox_url, key, "/v1/test_helpers/sandbox/webhook_attempts")
    ours = [a for a in attempts["data"] if a["event"] == event.stripe_event_id]
    assert [(a["attempt"], a["status"]) for a in ours] == [(1, 200)]
