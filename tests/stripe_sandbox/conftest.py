"""Sandbox fixtures: a fresh account (API key) per test and the SDK pointed at it, and
headless Chromium for the Stripe.js tests. The sandbox process and the webhook receiver
are shared with every test (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from ..conftest import Receiver, make_client, service_unavailable

CHROMIUM = "/usr/bin/chromium"

__all__ = ["Receiver", "make_client"]


@pytest.fixture
def api_key() -> str:
    """Each key names its own account, so every test starts from an empty Stripe."""
    return "sk_test_" + secrets.token_hex(12)


@pytest.fixture
def client(sandbox_url: str, api_key: str) -> stripe.StripeClient:
    return make_client(sandbox_url, api_key)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        service_unavailable(f"chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 520, "height": 640})
    tab = context.new_page()
    yield tab
    context.close()


@contextlib.contextmanager
def serve_html(body: str, path: str = "/checkout") -> Iterator[str]:
    """A merchant's page on its own origin (another than the sandbox's, as in production)."""
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
