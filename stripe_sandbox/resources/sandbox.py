"""Sandbox-only helpers under ``/v1/test_helpers/sandbox`` (documented in README.md)."""

from __future__ import annotations

import re
from typing import Any

from ..api import Ctx, route
from ..errors import InvalidRequest, NotFound
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


@route("POST", "/v1/test_helpers/sandbox/holds", params=("method", "path"))
def create_hold(ctx: Ctx) -> dict[str, Any]:
    """Hold every matching request (``path`` a regular expression over the whole path)
    until released."""
    method = ctx.params.str("method", required=True, choices=("GET", "POST", "DELETE"))
    path = ctx.params.str("path", required=True)
    try:
        hold = ctx.state.holds.add(method, path)
    except re.error as exc:
        raise InvalidRequest(f"path is not a regular expression: {exc}", param="path") from exc
    return hold.as_json()


@route("GET", "/v1/test_helpers/sandbox/holds/<hold_id>")
def get_hold(ctx: Ctx, hold_id: str) -> dict[str, Any]:
    hold = ctx.state.holds.get(hold_id)
    if hold is None:
        raise NotFound("hold", hold_id)
    return hold.as_json()


@route("POST", "/v1/test_helpers/sandbox/holds/<hold_id>/release", params=())
def release_hold(ctx: Ctx, hold_id: str) -> dict[str, Any]:
    hold = ctx.state.holds.release(hold_id)
    if hold is None:
        raise NotFound("hold", hold_id)
    return hold.as_json()
