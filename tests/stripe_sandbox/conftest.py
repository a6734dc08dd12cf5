"""Sandbox fixtures: a fresh account (API key) per test and the SDK pointed at it, and
headless Chromium for the Stripe.js tests. The sandbox process and the webhook receiver
are shared with every test (tests/conftest.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
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
