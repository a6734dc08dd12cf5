"""Events: every state change emits one, stored for ``GET /v1/events`` and handed to
the webhook deliverer for each endpoint that wants it."""

from __future__ import annotations

from typing import Any

from .store import Account, State, new_id, snapshot

API_VERSION = "2026-10-28.endive"

#: Object fields that name the test clock whose time an event about the object carries.
_CLOCK_FIELDS = ("test_clock",)


def event_time(state: State, acct: Account, obj: dict[str, Any]) -> int:
    """The time an event about ``obj`` happens: its clock's time, else the wall clock."""
    for field in _CLOCK_FIELDS:
        if obj.get(field):
            return state.now(acct, obj[field])
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if obj.get("object") == "customer":
        customer = obj.get("id")
    return state.now_for_customer(acct, customer if isinstance(customer, str) else None)


def emit(
    state: State,
    acct: Account,
    event_type: str,
    obj: dict[str, Any],
    *,
    previous: dict[str, Any] | None = None,
    created: int | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": snapshot(obj)}
    if previous:
        data["previous_attributes"] = snapshot(previous)
    event: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created if created is not None else event_time(state, acct, obj),
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }
    if acct.platform_id:
        event["account"] = acct.id
    acct.put(event)
    acct.events[event["id"]] = None
    state.dirty = True
    for listener in state.listeners:
        listener(acct, event)
    return event


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``previous_attributes``: the old values of what changed. As on Stripe, a hash that
    was and still is a hash shows only its changed keys (``{"address": {"city": "Paris"}}``,
    ``{"metadata": {"added": null}}``); any other value, an array included, shows whole."""
    previous: dict[str, Any] = {}
    for key in dict.fromkeys([*after, *before]):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            previous[key] = changed(old, new)
        else:
            previous[key] = old
    return previous


def endpoints_for(state: State, acct: Account, event_type: str) -> list[dict[str, Any]]:
    """The account's own endpoints, plus its platform's Connect endpoints."""
    chosen = [
        ep
        for ep in acct.all("webhook_endpoint")
        if not acct.priv(ep["id"]).get("connect") and _wants(ep, event_type)
    ]
    if acct.platform_id and acct.platform_id in state.accounts:
        platform = state.accounts[acct.platform_id]
        chosen += [
            ep
            for ep in platform.all("webhook_endpoint")
            if platform.priv(ep["id"]).get("connect") and _wants(ep, event_type)
        ]
    return chosen


def _wants(endpoint: dict[str, Any], event_type: str) -> bool:
    if endpoint["status"] != "enabled":
        return False
    enabled = endpoint["enabled_events"]
    return "*" in enabled or event_type in enabled
