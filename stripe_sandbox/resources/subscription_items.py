"""Subscription items: ``/v1/subscription_items`` (they live on their subscription)."""

from __future__ import annotations

from typing import Any

from ..api import Ctx, route
from ..render import paginate


@route("GET", "/v1/subscription_items/<oid>")
def retrieve_item(ctx: Ctx, oid: str) -> dict[str, Any]:
    for sub in ctx.acct.all("subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == oid:
                return item
    return ctx.load("subscription_item", oid)


@route("GET", "/v1/subscription_items")
def list_items(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.load(
        "subscription", ctx.params.str("subscription", required=True), param="subscription"
    )
    return paginate(
        ctx.acct,
        list(reversed(sub["items"]["data"])),
        ctx.params,
        f"/v1/subscription_items?subscription={sub['id']}",
    )
