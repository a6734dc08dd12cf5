"""Shared fixtures: the Stripe sandbox process, a webhook receiver, and the Backstop app
on the embedded defaults (SQLite, eager tasks) or, with BACKSTOP_TEST_DATABASE_URL /
BACKSTOP_TEST_BROKER_URL, on the real services.

BACKSTOP_TEST_REQUIRE_SERVICES=1 turns an unreachable service (or a missing chromium)
into a failure instead of a skip.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import stripe
from flask.globals import _cv_app
from flask.testing import FlaskClient

REQUIRE_SERVICES = os.environ.get("BACKSTOP_TEST_REQUIRE_SERVICES") == "1"
TEST_DATABASE_URL = os.environ.get("BACKSTOP_TEST_DATABASE_URL")
TEST_BROKER_URL = os.environ.get("BACKSTOP_TEST_BROKER_URL")
WEBHOOK_SECRET = "whsec_platform_test_secret"


def service_unavailable(reason: str) -> None:
    """Skip, or fail when the run requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    port = parsed.port or {"postgresql": 5432, "amqp": 5672}.get(parsed.scheme.split("+")[0], 0)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


# -- the Stripe sandbox -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stripe_sandbox",
            "--port",
            "0",
            "--webhook-retry-delays",
            "0.2,0.4,0.8",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line
    yield line.rsplit(" ", 1)[1].strip()
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


def make_client(url: str, key: str, **kwargs: Any) -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        base_addresses={"api": url, "connect": url, "files": url},
        max_network_retries=0,
        **kwargs,
    )


def account_events(url: str, key: str, account: str) -> list[dict[str, Any]]:
    """A connected account's events as Stripe's JSON (newest first), every page."""
    found: list[dict[str, Any]] = []
    after = ""
    while True:
        request = urllib.request.Request(
            f"{url}/v1/events?limit=100{after}",
            headers={"Authorization": f"Bearer {key}", "Stripe-Account": account},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.loads(response.read())
        found += page["data"]
        if not page["has_more"]:
            return found
        after = f"&starting_after={page['data'][-1]['id']}"


class Receiver:
    """An HTTP endpoint on loopback that stores every POST and answers with ``status``
    (and ``headers``)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.headers: dict[str, str] = {}
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with receiver.cond:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "status": receiver.status}
                    )
                    receiver.cond.notify_all()
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        with self.cond:
            return [json.loads(r["body"]) for r in self.requests if r["status"] < 300]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        with self.cond:
            ok = self.cond.wait_for(
                lambda: predicate(
                    [json.loads(r["body"]) for r in self.requests if r["status"] < 300]
                ),
                timeout,
            )
        assert ok, f"webhooks never satisfied the condition; got {self.types()}"
        return self.events()

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]


@contextlib.contextmanager
def serve_html(body: str, path: str = "/checkout") -> Iterator[str]:
    """A merchant's page on an origin of its own (another than the sandbox's or
    Backstop's, as in production)."""
    data = body.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{path}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


# -- the Backstop app -------------------------------------------------------------------------


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        if not reachable(TEST_DATABASE_URL):
            service_unavailable(f"database at {TEST_DATABASE_URL}")
        return worker_database(TEST_DATABASE_URL)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "backstop.sqlite")


def worker_database(url: str) -> str:
    """The database of this xdist worker on the server of ``url`` (``test_gw0``, made if
    missing): workers empty their tables after every test, so they cannot share one.
    Without xdist, ``url`` itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'test'}_{worker}"
    admin_url = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def app_settings(tmp_path_factory: pytest.TempPathFactory, sandbox_url: str) -> dict[str, Any]:
    return {
        "env": "test",
        "database_url": _database_url(tmp_path_factory),
        "broker_url": "memory://",
        "task_always_eager": True,
        "base_url": "http://localhost",
        "stripe_api_base": sandbox_url,
        "stripe_connect_base": sandbox_url,
        "stripe_secret_key": "sk_test_backstop_tests",
        "stripe_client_id": "ca_backstop_tests",
        "stripe_webhook_secret": WEBHOOK_SECRET,
        # Outbound webhooks and Slack/Discord posts reach the tests' local receivers.
        "outbound_allow_loopback": True,
    }


@pytest.fixture(scope="session")
def app(app_settings: dict[str, Any]):
    from app import create_app
    from app.extensions import db
    from workers.celery_app import init_celery

    flask_app = create_app(app_settings)
    init_celery(flask_app)
    with flask_app.app_context():
        db.drop_all()
        db.create_all()
    yield flask_app
    with flask_app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each app test starts from empty tables (only where the app fixture is used)."""
    yield
    if "app" not in request.fixturenames:
        return
    flask_app = request.getfixturevalue("app")
    from app.extensions import db, limiter

    with flask_app.app_context():
        limiter.reset()  # each test starts with fresh rate limits

    with flask_app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.session.remove()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (its own ``g`` and db session), as in
    production, even while the test holds one open to look at the database."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            _cv_app.set(None)
            return super(IsolatedClient, self).open(*args, **kwargs)

        response = contextvars.copy_context().run(run)
        if _cv_app.get(None) is not None:
            from app.extensions import db

            db.session.expire_all()  # see what the request committed
        return response


@pytest.fixture
def web(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


ROOT = Path(__file__).resolve().parents[1]
