"""Fixtures: one sandbox process per session, a fresh account (API key) per test,
the official SDK pointed at it, and a webhook receiver that records what arrives."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", "0",
         "--webhook-retry-delays", "0.2,0.4,0.8"],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line
    yield line.rsplit(" ", 1)[1].strip()
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


@pytest.fixture
def api_key() -> str:
    """Each key names its own account, so every test starts from an empty Stripe."""
    return "sk_test_" + secrets.token_hex(12)


def make_client(url: str, key: str, **kwargs: Any) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": url, "connect": url, "files": url},
                               max_network_retries=0, **kwargs)


@pytest.fixture
def client(sandbox_url: str, api_key: str) -> stripe.StripeClient:
    return make_client(sandbox_url, api_key)


class Receiver:
    """An HTTP endpoint on loopback that stores every POST and answers with ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with receiver.cond:
                    receiver.requests.append({"headers": dict(self.headers), "body": body,
                                              "status": receiver.status})
                    receiver.cond.notify_all()
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        with self.cond:
            return [json.loads(r["body"]) for r in self.requests if r["status"] < 300]

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool],
                 timeout: float = 10.0) -> list[dict[str, Any]]:
        with self.cond:
            ok = self.cond.wait_for(
                lambda: predicate([json.loads(r["body"]) for r in self.requests
                                   if r["status"] < 300]), timeout)
        assert ok, f"webhooks never satisfied the condition; got {self.types()}"
        return self.events()

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()
