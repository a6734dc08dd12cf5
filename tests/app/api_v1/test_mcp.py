"""The MCP server: its tools mirror the API's reads for the key's workspace, change
nothing, and stop working when the key is revoked; one round trip over stdio through
``flask ops mcp`` with the SDK's own client."""

from __future__ import annotations

import json
import os
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters
from sqlalchemy import select

from app.accounts import api_keys
from app.accounts.models import ApiKey
from app.api.v1 import mcp_server
from app.extensions import db

from ...conftest import ROOT
from . import seed

READS = {
    "list_campaigns",
    "get_campaign",
    "get_customer",
    "list_cancel_sessions",
    "get_cancel_session",
    "list_winback_campaigns",
    "get_winback_campaign",
    "list_events",
    "get_event",
    "get_insights",
}


@pytest.fixture
def shops(ctx):
    a = seed.shop("Shop A", "cus_a")
    b = seed.shop("Shop B", "cus_b")
    db.session.commit()
    return a, b


def _call(server, name: str, arguments: dict) -> tuple[bool, dict | str]:
    async def go():
        async with Client(server) as client:
            result = await client.call_tool(name, arguments)
            text = result.content[0].text if result.content else ""
            return result.is_error, (text if result.is_error else json.loads(text))

    return anyio.run(go)


def test_tools_mirror_the_reads_and_are_all_read_only(app, shops) -> None:
    a, _ = shops
    server = mcp_server.build(app, a.write_key)  # a read-write key: still read-only here

    async def listed():
        async with Client(server) as client:
            return (await client.list_tools()).tools

    tools = anyio.run(listed)
    assert {t.name for t in tools} == READS
    assert all(t.annotations and t.annotations.read_only_hint for t in tools)


def test_which_customers_failed_payment_and_why(app, shops) -> None:
    a, b = shops
    server = mcp_server.build(app, a.read_key)
    error, page = _call(server, "list_campaigns", {"status": "in_flight"})
    assert not error
    assert [(c["id"], c["customer"], c["decline_code"]) for c in page["data"]] == [
        (a.ids["campaign_id"], "cus_a", "insufficient_funds")
    ]
    error, customer = _call(server, "get_customer", {"customer_id": "cus_a"})
    assert not error and customer["winback_campaigns"][0]["id"] == a.ids["winback_id"]
    error, figures = _call(server, "get_insights", {"period": "7"})
    assert not error and figures["period_days"] == 7
    # Another workspace's objects are as unknown as missing ones.
    error, message = _call(server, "get_campaign", {"campaign_id": b.ids["campaign_id"]})
    assert error and "No such campaign" in message
    error, message = _call(server, "list_campaigns", {"status": "bogus"})
    assert error and "status" in message


def test_a_revoked_key_is_refused_at_start_and_on_the_next_call(app, shops) -> None:
    a, _ = shops
    server = mcp_server.build(app, a.read_key)
    key = db.session.execute(select(ApiKey).where(ApiKey.name == "Assistant")).scalars().first()
    api_keys.revoke(db.session, key, now=seed.NOW)
    db.session.commit()
    error, message = _call(server, "list_events", {})
    assert error and "revoked" in message
    with pytest.raises(mcp_server.KeyRefused):
        mcp_server.build(app, a.read_key)


def test_one_round_trip_over_stdio(app, app_settings, shops) -> None:
    a, _ = shops
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": app_settings["database_url"],
        "BACKSTOP_API_KEY": a.read_key,
        "BACKSTOP_ENV": "development",
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "flask", "--app", "wsgi", "ops", "mcp"],
        env=env,
        cwd=str(ROOT),
    )

    async def go():
        async with Client(params) as client:
            result = await client.call_tool("get_campaign", {"campaign_id": a.ids["campaign_id"]})
            return json.loads(result.content[0].text)

    campaign = anyio.run(go)
    assert campaign["id"] == a.ids["campaign_id"] and campaign["amount"] == 2900
