"""The production shape on one machine, for end-to-end tests: the Stripe sandbox,
gunicorn, Celery workers and beats, configured only by environment variables, sharing a
database migrated with ``flask db upgrade`` and a broker.

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
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

from ..conftest import (  # noqa: F401 - make_client is re-exported
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
            for queue in ("celery", "mail"):
                conn.default_channel.queue_declare(queue)
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


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read() or b"{}")


class Stack:
    """Processes sharing one database and broker: gunicorn, Celery workers and beats.
    Start more with :meth:`worker` and :meth:`beat`; stop one with its ``Proc``."""

    def __init__(self, tmp_path: Path, env: dict[str, str], web_url: str, platform_key: str):
        self.tmp_path, self.env, self.web_url = tmp_path, env, web_url
        self.platform_key = platform_key
        self.webhook_secret = env["STRIPE_WEBHOOK_SECRET"]
        self.procs: list[Proc] = []

    def start(self, name: str, argv: list[str], pass_fds: tuple[int, ...] = ()) -> Proc:
        proc = Proc(name, argv, self.env, self.tmp_path / f"{name}.log", pass_fds)
        self.procs.append(proc)
        return proc

    def worker(self, concurrency: int = 2, queues: str | None = None) -> Proc:
        """A Celery worker; ``queues`` (e.g. "celery") narrows what it consumes."""
        name = f"celery-{len(self.procs)}"
        return self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "workers.celery_app",
                "worker",
                "--pool",
                "threads",
                "-c",
                str(concurrency),
                "--loglevel",
                os.environ.get("BACKSTOP_E2E_LOGLEVEL", "WARNING"),
                "-n",
                f"{name}-{secrets.token_hex(4)}@%h",
                "--without-mingle",
                "--without-gossip",
                *(["-Q", queues] if queues else []),
            ],
        )

    def beat(self) -> Proc:
        name = f"beat-{len(self.procs)}"
        return self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "workers.celery_app",
                "beat",
                "--loglevel",
                "WARNING",
                "-s",
                str(self.tmp_path / f"{name}-schedule"),
            ],
        )

    def check_alive(self) -> None:
        for proc in self.procs:
            assert proc.alive(), f"{proc.name} exited:\n{proc.output()}"

    def diagnose(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()}" for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()  # all at once: their graceful shutdowns overlap
        for proc in self.procs:
            proc.stop()


@contextmanager
def running_stack(
    tmp_path: Path,
    sandbox_url: str,
    database_url: str,
    broker_url: str,
    *,
    workers: int = 1,
    beats: int = 0,
    **settings: str,
) -> Iterator[Stack]:
    """A migrated database, the platform's Connect webhook endpoint, gunicorn (2
    workers), ``workers`` Celery workers and ``beats`` beats."""
    platform_key = "sk_test_e2e_mp_" + secrets.token_hex(6)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    web_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    stack: Stack | None = None
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
            STRIPE_PUBLISHABLE_KEY="pk_test_" + platform_key.removeprefix("sk_test_"),
            STRIPE_WEBHOOK_SECRET=endpoint["secret"],
            BACKSTOP_BASE_URL=web_url,
            **settings,
        )
        stack = Stack(tmp_path, env, web_url, platform_key)
        # gunicorn inherits the socket bound above: no free-port race. No process
        # touches the database before a request or a task arrives, so all boot while
        # the schema is migrated.
        stack.start(
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
            pass_fds=(listener.fileno(),),
        )
        for _ in range(workers):
            stack.worker()
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
        for _ in range(beats):
            stack.beat()  # after the migration: a beat sends at once

        def web_ready() -> bool:
            stack.check_alive()
            return _get(web_url + "/login") == 200

        wait_until("gunicorn to answer", web_ready, timeout=40)
        yield stack
    finally:
        listener.close()
        if stack is not None:
            stack.stop()


@pytest.fixture
def stack(tmp_path: Path, sandbox_url: str, database_url: str, broker_url: str) -> Iterator[Stack]:
    """gunicorn and one Celery worker."""
    with running_stack(tmp_path, sandbox_url, database_url, broker_url) as running:
        yield running


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
