"""Events and webhook endpoints: ``/v1/events``, ``/v1/webhook_endpoints``."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlparse

from ..api import LIST_PARAMS, Ctx, route
from ..errors import InvalidRequest
from ..events import API_VERSION, changed
from ..render import paginate
from ..store import new_id, snapshot


@route("GET", "/v1/events/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("event", oid)


@route("GET", "/v1/events", params=("type", "types", *LIST_PARAMS))
def list_(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    wanted_type = p.str("type")
    types = set(p.list("types"))
    if wanted_type and wanted_type.endswith(".*"):
        prefix = wanted_type[:-1]
        type_filter: Any = lambda e: e["type"].startswith(prefix)  # noqa: E731
    elif wanted_type:
        type_filter = lambda e: e["type"] == wanted_type  # noqa: E731
    elif types:
        type_filter = lambda e: e["type"] in types  # noqa: E731
    else:
        type_filter = None
    return paginate(ctx.acct, ctx.acct.all("event"), p, "/v1/events", filters={"type": type_filter})


def _url(value: str | None) -> str:
    parsed = urlparse(value or "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidRequest("Invalid URL: must be an http(s) URL.", param="url")
    return value or ""


def _enabled_events(ctx: Ctx) -> list[str]:
    events = [str(e) for e in ctx.params.list("enabled_events")]
    if not events:
        raise InvalidRequest(
            "Missing required param: enabled_events.",
            param="enabled_events",
            code="parameter_missing",
        )
    return events


@route(
    "POST",
    "/v1/webhook_endpoints",
    params=("url", "enabled_events", "description", "metadata", "connect", "api_version"),
)
def create_endpoint(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    endpoint = {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": p.str("api_version") or API_VERSION,
        "application": None,
        "created": ctx.now(),
        "description": p.str("description"),
        "enabled_events": _enabled_events(ctx),
        "livemode": False,
        "metadata": p.metadata() or {},
        "status": "enabled",
        "url": _url(p.str("url", required=True)),
    }
    secret = "whsec_" + secrets.token_hex(16)
    ctx.acct.put(endpoint, {"secret": secret, "connect": bool(p.bool("connect", False))})
    return {**endpoint, "secret": secret}


@route("GET", "/v1/webhook_endpoints/<oid>")
def retrieve_endpoint(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("webhook_endpoint", oid, label="webhook endpoint")


@route(
    "POST",
    "/v1/webhook_endpoints/<oid>",
    params=("url", "enabled_events", "description", "disabled", "metadata"),
)
def update_endpoint(ctx: Ctx, oid: str) -> dict[str, Any]:
    endpoint = ctx.load("webhook_endpoint", oid, label="webhook endpoint")
    before = snapshot(endpoint)
    p = ctx.params
    if "url" in p:
        endpoint["url"] = _url(p.str("url"))
    if "enabled_events" in p:
        endpoint["enabled_events"] = _enabled_events(ctx)
    if "description" in p:
        endpoint["description"] = p.nullable_str("description")
    if "disabled" in p:
        endpoint["status"] = "disabled" if p.bool("disabled") else "enabled"
    metadata = p.metadata(endpoint["metadata"])
    if metadata is not None:
        endpoint["metadata"] = metadata
    changed(before, endpoint)
    return endpoint


@route("DELETE", "/v1/webhook_endpoints/<oid>")
def delete_endpoint(ctx: Ctx, oid: str) -> dict[str, Any]:
    ctx.load("webhook_endpoint", oid, label="webhook endpoint")
    ctx.acct.remove(oid)
    return {"id": oid, "object": "webhook_endpoint", "deleted": True}


@route("GET", "/v1/webhook_endpoints", params=LIST_PARAMS)
def list_endpoints(ctx: Ctx) -> dict[str, Any]:
    return paginate(ctx.acct, ctx.acct.all("webhook_endpoint"), ctx.params, "/v1/webhook_endpoints")
