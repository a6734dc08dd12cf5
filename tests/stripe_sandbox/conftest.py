"""Sandbox fixtures: a fresh account (API key) per test and the SDK pointed at it.
The sandbox process and the webhook receiver are shared with every test (tests/conftest.py)."""

from __future__ import annotations

import secrets

import pytest
import stripe

from ..conftest import Receiver, make_client

__all__ = ["Receiver", "make_client"]


@pytest.fixture
def api_key() -> str:
    """Each key names its own account, so every test starts from an empty Stripe."""
    return "sk_test_" + secrets.token_hex(12)


@pytest.fixture
def client(sandbox_url: str, api_key: str) -> stripe.StripeClient:
    return make_client(sandbox_url, api_key)
