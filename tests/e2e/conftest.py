"""Helpers for the end-to-end tests: the app served for real on loopback, and the
checks that skip (or, with BACKSTOP_TEST_REQUIRE_SERVICES=1, fail) without Chromium."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from ..conftest import TEST_BROKER_URL, service_unavailable

CHROMIUM = "/usr/bin/chromium"


def log_in(page: Any, base_url: str, email: str) -> None:
    """Sign ``email`` in through the log-in form (the password every factory user has)."""
    from ..app.factories import PASSWORD

    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def pytest_itemcollected(item: pytest.Item) -> None:
    """In the services lane the end-to-end tests run one at a time, on one xdist worker
    (``--dist loadgroup``): their stacks share the RabbitMQ broker's queues, so two at once
    would take each other's tasks. On the embedded defaults each stack has a broker of its
    own and they spread over the workers."""
    if TEST_BROKER_URL:
        item.add_marker(pytest.mark.xdist_group("e2e"))


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    return CHROMIUM


@contextmanager
def serve(build: Callable[[str], Any]) -> Iterator[tuple[str, Any]]:
    """Serve the WSGI app ``build(base_url)`` on a free loopback port in a thread.

    The server binds first (port 0, no race), so the app can be built knowing its own
    public URL (the OAuth callback needs it)."""
    holder: dict[str, Any] = {}

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        holder["app"] = build(base_url)
    except BaseException:
        server.server_close()
        raise
    thread = threading.Thread(target=server.serve_forever, name="e2e-web", daemon=True)
    thread.start()
    try:
        yield base_url, holder["app"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def serve_dashboard(
    tmp_path: Any, sandbox_url: str, owner_email: str, workspace_name: str, **overrides: Any
) -> Iterator[tuple[str, Any]]:
    """The app (tasks in-process) on its own SQLite file, served on loopback, with one
    merchant: ``owner_email`` (password ``factories.PASSWORD``) owning ``workspace_name``;
    ``overrides`` are more settings."""
    from app import create_app
    from app.extensions import db
    from workers.celery_app import init_celery

    from ..app import factories as f

    def build(base_url: str) -> Any:
        flask_app = create_app(
            {
                "env": "test",
                "database_url": "sqlite:///" + str(tmp_path / "backstop.sqlite"),
                "broker_url": "memory://",
                "task_always_eager": True,
                "base_url": base_url,
                "stripe_api_base": sandbox_url,
                "stripe_connect_base": sandbox_url,
                **overrides,
            }
        )
        init_celery(flask_app)
        with flask_app.app_context():
            db.create_all()
            f.workspace(f.user(owner_email), workspace_name)
            db.session.commit()
        return flask_app

    with serve(build) as (base_url, flask_app):
        yield base_url, flask_app
        with flask_app.app_context():
            db.session.remove()
            db.engine.dispose()


# The multi-process stack's fixtures (see stack.py), for every e2e test module.
# The served app the cancel-flow browser tests share (see cancel_site.py).
from .cancel_site import cancel_site, chromium_browser  # noqa: E402, F401
from .stack import broker_url, database_url, db_view, stack  # noqa: E402, F401
