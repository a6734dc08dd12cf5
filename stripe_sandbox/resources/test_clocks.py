"""Test clocks: ``/v1/test_helpers/test_clocks``. Advancing one runs, in order, all that
would have happened to its customers meanwhile (see ``cycle.py``)."""

from __future__ import annotations

from typing import Any

from .. import cycle
from ..api import LIST_PARAMS, Ctx, route
from ..errors import InvalidRequest, StateConflict
from ..render import paginate
from ..store import new_id

MAX_ADVANCE = 2 * 365 * cycle.DAY  # Stripe: at most two intervals of the shortest price
CLOCK = "test_helpers.test_clock"


def _load(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load(CLOCK, oid, label="test_helpers.test_clock")


@route("POST", "/v1/test_helpers/test_clocks", params=("frozen_time", "name"))
def create(ctx: Ctx) -> dict[str, Any]:
    frozen = ctx.params.int("frozen_time", required=True)
    clock = {
        "id": new_id("clock"),
        "object": CLOCK,
        "created": ctx.now(),
        "deletes_after": ctx.now() + 30 * cycle.DAY,
        "frozen_time": frozen,
        "livemode": False,
        "name": ctx.params.str("name"),
        "status": "ready",
        "status_details": {},
    }
    ctx.acct.put(clock)
    ctx.emit("test_helpers.test_clock.created", clock, created=ctx.now())
    return clock


@route("GET", "/v1/test_helpers/test_clocks/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return _load(ctx, oid)


@route("GET", "/v1/test_helpers/test_clocks", params=LIST_PARAMS)
def list_(ctx: Ctx) -> dict[str, Any]:
    return paginate(ctx.acct, ctx.acct.all(CLOCK), ctx.params, "/v1/test_helpers/test_clocks")


@route("POST", "/v1/test_helpers/test_clocks/<oid>/advance", params=("frozen_time",))
def advance(ctx: Ctx, oid: str) -> dict[str, Any]:
    """Advance synchronously: when this returns the clock is ``ready`` again."""
    clock = _load(ctx, oid)
    target = ctx.params.int("frozen_time", required=True)
    if target <= clock["frozen_time"]:
        raise InvalidRequest(
            "The test clock can only be advanced forward in time "
            f"(frozen_time is {clock['frozen_time']}).",
            param="frozen_time",
        )
    if target - clock["frozen_time"] > MAX_ADVANCE:
        raise InvalidRequest(
            "Cannot advance a test clock more than two years at a time.", param="frozen_time"
        )
    if clock["status"] != "ready":
        raise StateConflict("The test clock is already advancing.", code="test_clock_advancing")
    clock["status"] = "advancing"
    clock["status_details"] = {"advancing": {"target_frozen_time": target}}
    ctx.emit("test_helpers.test_clock.advancing", clock, created=ctx.now())
    try:
        cycle.run_jobs(ctx.state, ctx.acct, oid, target)
    finally:
        clock.update(frozen_time=target, status="ready", status_details={})
    ctx.emit("test_helpers.test_clock.ready", clock, created=ctx.now())
    return clock


@route("DELETE", "/v1/test_helpers/test_clocks/<oid>")
def delete(ctx: Ctx, oid: str) -> dict[str, Any]:
    """Deleting a clock deletes its customers (and so their subscriptions), as Stripe does."""
    clock = _load(ctx, oid)
    for customer in ctx.acct.all("customer"):
        if customer["test_clock"] == oid:
            for kind in ("subscription", "invoice", "payment_method", "payment_intent"):
                for obj in ctx.acct.all(kind):
                    if obj.get("customer") == customer["id"]:
                        ctx.acct.remove(obj["id"])
            ctx.acct.remove(customer["id"])
    ctx.acct.drop_jobs(oid)
    ctx.acct.remove(oid)
    ctx.emit("test_helpers.test_clock.deleted", clock, created=ctx.now())
    return {"id": oid, "object": CLOCK, "deleted": True}
