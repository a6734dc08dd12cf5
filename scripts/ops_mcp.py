"""``flask ops mcp``: the read-only MCP server for a merchant's AI assistant, on stdio,
for the workspace of an API key (docs/api.md says how to plug it into an assistant)."""

from __future__ import annotations

import click
from flask import current_app

from app.api.v1 import mcp_server

from .ops import ops


@ops.command("mcp")
@click.option(
    "--key",
    envvar="BACKSTOP_API_KEY",
    required=True,
    help="An API key (bk_live_... or bk_test_...); better in BACKSTOP_API_KEY than on the "
    "command line, where other users of the machine can see it.",
)
def mcp(key: str) -> None:
    """Serve the workspace's campaigns, customers, cancel sessions, win-backs, events and
    figures to an AI assistant over MCP (stdio). Read-only, whatever the key's scope."""
    try:
        server = mcp_server.build(current_app._get_current_object(), key.strip())  # type: ignore[attr-defined]
    except mcp_server.KeyRefused as refused:
        raise click.ClickException(str(refused))
    server.run("stdio")
