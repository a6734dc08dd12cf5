"""Sandbox-only helpers under ``/v1/test_helpers/sandbox`` (documented in README.md)."""

from __future__ import annotations

from typing import Any

from ..api import Ctx, route
from ..errors import InvalidRequest
from ..store import DEFAULT_ACCOUNT_SETTINGS

_CHOICES = {
    "automatic_retries": ("off", "default"),
    "subscription_after_retries": ("past_due", "unpaid", "cancel"),
}


def _settings_object(ctx: Ctx) -> dict[str, Any]:
    settings = {k: ctx.acct.settings.get(k, v) for k, v in DEFAULT_ACCOUNT_SETTINGS.items()}
    return {"object": "sandbox.settings", "account": ctx.acct.id, **settings}


@route("GET", "/v1/test_helpers/sandbox/settings")
def get_settings(ctx: Ctx) -> dict[str, Any]:
    return _settings_object(ctx)


@route("POST", "/v1/test_helpers/sandbox/settings")
def update_settings(ctx: Ctx) -> dict[str, Any]:
    for key in ctx.params:
        if key in ("expand",):
            continue
        if key not in _CHOICES:
            raise InvalidRequest(f"Received unknown parameter: {key}", param=key)
        ctx.acct.settings[key] = ctx.params.str(key, choices=_CHOICES[key])
    return _settings_object(ctx)


@route("POST", "/v1/test_helpers/sandbox/reset")
def reset(ctx: Ctx) -> dict[str, Any]:
    """Forget every account, object and event (the whole sandbox, not only this key's)."""
    ctx.state.reset()
    return {"object": "sandbox.reset", "reset": True}


@route("POST", "/v1/test_helpers/sandbox/webhooks/flush")
def flush_webhooks(ctx: Ctx) -> dict[str, Any]:
    """Wait (up to ``timeout`` seconds, default 30) until every due delivery was tried."""
    deliverer = getattr(ctx.state, "deliverer", None)
    timeout = ctx.params.float("timeout", 30.0) or 30.0
    idle = True
    if deliverer is not None:
        ctx.state.lock.release()  # let the deliverer read the state while we wait
        try:
            idle = deliverer.wait_idle(timeout)
        finally:
            ctx.state.lock.acquire()
    return {"object": "sandbox.webhook_flush", "idle": idle}


@route("GET", "/v1/test_helpers/sandbox/webhook_attempts")
def webhook_attempts(ctx: Ctx) -> dict[str, Any]:
    deliverer = getattr(ctx.state, "deliverer", None)
    attempts = list(deliverer.attempts) if deliverer else []
    own = {ep["id"] for ep in ctx.acct.all("webhook_endpoint")}
    return {
        "object": "list",
        "url": "/v1/test_helpers/sandbox/webhook_attempts",
        "has_more": False,
        "data": [a for a in attempts if a["endpoint"] in own],
    }
