"""A read-only Model Context Protocol server over the REST API's keys, so a merchant's AI
assistant can ask "which customers failed payment this week, and why?".

Its tools mirror the API's list and retrieve operations and call the same functions
(``reads``), not HTTP; none of them changes anything, whatever the key's scope. The key
is checked again on every call, so revoking it in Settings → API keys cuts the assistant
off at once. Started by ``flask ops mcp`` (stdio); see docs/api.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ValidationError

from ...accounts import api_keys
from ...accounts.models import Workspace
from ...extensions import db
from ...models import utcnow
from . import reads, schemas
from .errors import ApiError

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
INSTRUCTIONS = (
    "Backstop recovers a Stripe merchant's failed subscription payments (recovery campaigns), "
    "runs their cancel flows (cancel sessions) and wins back customers who left (win-back "
    "campaigns). Amounts are integers in the currency's minor unit (cents); times are UTC. "
    "Lists are newest first: pass the last id as starting_after for the next page."
)


class KeyRefused(Exception):
    """The API key is unknown or revoked."""


def build(app: Flask, secret: str) -> MCPServer:
    """The server for the workspace of ``secret`` (checked now, and on every call)."""
    with app.app_context():
        key = api_keys.authenticate(db.session, secret)
        if key is None:
            raise KeyRefused("This API key is unknown or revoked.")
        workspace = db.session.get(Workspace, key.workspace_id)
        name = workspace.name if workspace else "Backstop"
        db.session.remove()

    def run(read: Callable[[Any, Workspace], BaseModel]) -> dict[str, Any]:
        with app.app_context():
            try:
                found = api_keys.authenticate(db.session, secret)
                if found is None:
                    raise ToolError("This API key was revoked; make a new one in Settings.")
                if api_keys.touch(db.session, found, now=utcnow()):
                    db.session.commit()
                ws = db.session.get(Workspace, found.workspace_id)
                assert ws is not None
                return read(db.session, ws).model_dump(mode="json")
            except ApiError as error:
                raise ToolError(error.message) from None
            finally:
                db.session.rollback()
                db.session.remove()

    server = MCPServer(name=f"Backstop ({name})", instructions=INSTRUCTIONS)

    def tool(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        return server.tool(annotations=READ_ONLY)(fn)

    def listing(model: type[BaseModel], **given: Any) -> Any:
        try:
            return model(**{k: v for k, v in given.items() if v is not None})
        except ValidationError as error:
            raise ToolError(str(error)) from None

    @tool
    def list_campaigns(
        status: str | None = None,
        created_gte: str | None = None,
        created_lt: str | None = None,
        limit: int = 20,
        starting_after: str | None = None,
    ) -> dict[str, Any]:
        """Recovery campaigns (one per failed invoice), newest first. status: in_flight,
        recovered, lost or abandoned; created_gte/created_lt: RFC 3339 times bounding
        when the payment first failed; each has the decline code and class (why)."""
        params = listing(
            schemas.CampaignListQuery,
            status=status,
            created_gte=created_gte,
            created_lt=created_lt,
            limit=limit,
            starting_after=starting_after,
        )
        return run(lambda s, ws: reads.list_campaigns(s, ws.id, params, url="/api/v1/campaigns"))

    @tool
    def get_campaign(campaign_id: str) -> dict[str, Any]:
        """One recovery campaign by its id (cmp_...)."""
        return run(lambda s, ws: reads.get_campaign(s, ws.id, campaign_id))

    @tool
    def get_customer(customer_id: str) -> dict[str, Any]:
        """A customer by Stripe id (cus_...), with their recovery campaigns, cancel
        sessions and win-back campaigns."""
        return run(lambda s, ws: reads.get_customer(s, ws.id, customer_id))

    @tool
    def list_cancel_sessions(
        status: str | None = None,
        created_gte: str | None = None,
        created_lt: str | None = None,
        limit: int = 20,
        starting_after: str | None = None,
    ) -> dict[str, Any]:
        """Visits to the cancel flow, newest first. status: open, saved, cancelled or
        abandoned; each has the reason the customer gave and the offer they took."""
        params = listing(
            schemas.SessionListQuery,
            status=status,
            created_gte=created_gte,
            created_lt=created_lt,
            limit=limit,
            starting_after=starting_after,
        )
        return run(
            lambda s, ws: reads.list_sessions(s, ws.id, params, url="/api/v1/cancel_sessions")
        )

    @tool
    def get_cancel_session(session_id: str) -> dict[str, Any]:
        """One cancel session by its id (cs_...)."""
        return run(lambda s, ws: reads.get_session(s, ws.id, session_id))

    @tool
    def list_winback_campaigns(
        status: str | None = None,
        created_gte: str | None = None,
        created_lt: str | None = None,
        limit: int = 20,
        starting_after: str | None = None,
    ) -> dict[str, Any]:
        """Win-back campaigns for customers whose subscription ended, newest first.
        status: active, won, returned, stopped or ended."""
        params = listing(
            schemas.WinbackListQuery,
            status=status,
            created_gte=created_gte,
            created_lt=created_lt,
            limit=limit,
            starting_after=starting_after,
        )
        return run(
            lambda s, ws: reads.list_winbacks(s, ws.id, params, url="/api/v1/winback_campaigns")
        )

    @tool
    def get_winback_campaign(winback_id: str) -> dict[str, Any]:
        """One win-back campaign by its id (wbc_...)."""
        return run(lambda s, ws: reads.get_winback(s, ws.id, winback_id))

    @tool
    def list_events(
        type: str | None = None,
        created_gte: str | None = None,
        created_lt: str | None = None,
        limit: int = 20,
        starting_after: str | None = None,
    ) -> dict[str, Any]:
        """Backstop's event log, newest first; type e.g. recovery.campaign.started,
        recovery.campaign.recovered, recovery.campaign.lost, cancel.session.saved."""
        params = listing(
            schemas.EventListQuery,
            type=type,
            created_gte=created_gte,
            created_lt=created_lt,
            limit=limit,
            starting_after=starting_after,
        )
        return run(lambda s, ws: reads.list_events(s, ws.id, params, url="/api/v1/events"))

    @tool
    def get_event(event_id: str) -> dict[str, Any]:
        """One event by its id (ev_...)."""
        return run(lambda s, ws: reads.get_event(s, ws.id, event_id))

    @tool
    def get_insights(period: str = "30") -> dict[str, Any]:
        """The dashboard's figures for the last 7, 30, 90 or 365 days: failed, recovered,
        lost, saved, won back..., per currency, the recovery rate and what is at risk."""
        params = listing(schemas.InsightsQuery, period=period)
        now = utcnow()
        return run(lambda s, ws: reads.insights(s, ws, params, now=now))

    return server
