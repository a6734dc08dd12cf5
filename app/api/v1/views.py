"""REST API v1: thin views over ``reads`` and the recovery services (docs/api.md).

Each view authenticates (``auth``), reads or acts for the key's workspace only, and
returns a pydantic object; spectree validates the query against the same models and
puts every operation in the OpenAPI document. The request commits once, after a
successful POST; anything else is rolled back.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from spectree import Response as Responses

from ...extensions import csrf, db, limiter
from ...models import utcnow
from ...recovery import campaign_pause
from . import auth, errors, idempotency, reads, schemas
from .errors import PREFIX
from .spec import api

bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)
csrf.exempt(bp)
errors.register(bp)
#: Served to anyone: the API's description.
PUBLIC = frozenset({"api_v1.openapi", "api_v1.docs"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Error = schemas.ErrorResponse
READ = {"HTTP_401": Error, "HTTP_429": Error}
ONE = {**READ, "HTTP_404": Error}
#: A list's 404: its ``starting_after`` names no object of the workspace.
LIST = ONE
WRITE = {**ONE, "HTTP_403": Error, "HTTP_409": Error}


@bp.before_request
def _authenticate() -> None:
    if request.endpoint not in PUBLIC:
        auth.current_key()


@bp.after_request
def _finish(response: Response) -> Response:
    if request.method in SAFE_METHODS or response.status_code >= 400:
        db.session.rollback()
    else:
        db.session.commit()
    return response


limiter.shared_limit(
    auth.rate_limit,
    scope="api-v1",
    key_func=auth.rate_limit_key,
    exempt_when=lambda: request.endpoint in PUBLIC,
)(bp)


def _workspace_id() -> int:
    return auth.current_key().workspace_id


# -- campaigns --------------------------------------------------------------------------------


@bp.get("/campaigns")
@api.validate(
    query=schemas.CampaignListQuery,
    resp=Responses(HTTP_200=schemas.CampaignList, **LIST),
    tags=["campaigns"],
    operation_id="list_campaigns",
)
def list_campaigns() -> Any:
    """List recovery campaigns

    Newest first; filter by status and by when they opened."""
    params = request.context.query  # type: ignore[attr-defined]
    return reads.list_campaigns(db.session, _workspace_id(), params, url=request.path)


@bp.get("/campaigns/<campaign_id>")
@api.validate(
    resp=Responses(HTTP_200=schemas.Campaign, **ONE),
    tags=["campaigns"],
    operation_id="retrieve_campaign",
    path_parameter_descriptions={"campaign_id": "cmp_..."},
)
def retrieve_campaign(campaign_id: str) -> Any:
    """Retrieve a recovery campaign"""
    return reads.get_campaign(db.session, _workspace_id(), campaign_id)


def _pause_or_resume(campaign_id: str, *, pause: bool) -> Any:
    key = auth.require_write()
    now = utcnow()
    actor = f"API key {key.prefix}… ({key.name})"

    def operation() -> tuple[schemas.Campaign, int]:
        row = reads.campaign_row(db.session, key.workspace_id, campaign_id)
        campaign_pause.switch(db.session, row, pause=pause, actor_id=None, actor_label=actor,
                              now=now, api_key_id=key.id)  # fmt: skip
        return reads.campaign_out(row), 200

    return idempotency.run(db.session, key.workspace_id, key.id, operation, now=now)


@bp.post("/campaigns/<campaign_id>/pause")
@api.validate(
    resp=Responses(HTTP_200=schemas.Campaign, **WRITE),
    tags=["campaigns"],
    operation_id="pause_campaign",
    path_parameter_descriptions={"campaign_id": "cmp_..."},
)
def pause_campaign(campaign_id: str) -> Any:
    """Pause a recovery campaign

    Its planned retries and emails are cancelled until it is resumed; a payment still
    closes it. Pausing a paused campaign changes nothing. Needs a read-and-write key;
    takes an Idempotency-Key header."""
    return _pause_or_resume(campaign_id, pause=True)


@bp.post("/campaigns/<campaign_id>/resume")
@api.validate(
    resp=Responses(HTTP_200=schemas.Campaign, **WRITE),
    tags=["campaigns"],
    operation_id="resume_campaign",
    path_parameter_descriptions={"campaign_id": "cmp_..."},
)
def resume_campaign(campaign_id: str) -> Any:
    """Resume a paused recovery campaign

    Retries and emails are planned again from now (unless recovery is paused for the
    whole workspace). Needs a read-and-write key; takes an Idempotency-Key header."""
    return _pause_or_resume(campaign_id, pause=False)


# -- customers, cancel sessions, win-back campaigns, events -----------------------------------


@bp.get("/customers/<customer_id>")
@api.validate(
    resp=Responses(HTTP_200=schemas.Customer, **ONE),
    tags=["customers"],
    operation_id="retrieve_customer",
    path_parameter_descriptions={"customer_id": "the Stripe customer id, cus_..."},
)
def retrieve_customer(customer_id: str) -> Any:
    """Retrieve a customer

    With their recovery campaigns, cancel sessions and win-back campaigns."""
    return reads.get_customer(db.session, _workspace_id(), customer_id)


@bp.get("/cancel_sessions")
@api.validate(
    query=schemas.SessionListQuery,
    resp=Responses(HTTP_200=schemas.CancelSessionList, **LIST),
    tags=["cancel sessions"],
    operation_id="list_cancel_sessions",
)
def list_cancel_sessions() -> Any:
    """List cancel sessions

    Newest first; filter by outcome and by when they started."""
    params = request.context.query  # type: ignore[attr-defined]
    return reads.list_sessions(db.session, _workspace_id(), params, url=request.path)


@bp.get("/cancel_sessions/<session_id>")
@api.validate(
    resp=Responses(HTTP_200=schemas.CancelSession, **ONE),
    tags=["cancel sessions"],
    operation_id="retrieve_cancel_session",
    path_parameter_descriptions={"session_id": "cs_..."},
)
def retrieve_cancel_session(session_id: str) -> Any:
    """Retrieve a cancel session"""
    return reads.get_session(db.session, _workspace_id(), session_id)


@bp.get("/winback_campaigns")
@api.validate(
    query=schemas.WinbackListQuery,
    resp=Responses(HTTP_200=schemas.WinbackCampaignList, **LIST),
    tags=["win-back campaigns"],
    operation_id="list_winback_campaigns",
)
def list_winback_campaigns() -> Any:
    """List win-back campaigns

    Newest first; filter by status and by when they started."""
    params = request.context.query  # type: ignore[attr-defined]
    return reads.list_winbacks(db.session, _workspace_id(), params, url=request.path)


@bp.get("/winback_campaigns/<winback_id>")
@api.validate(
    resp=Responses(HTTP_200=schemas.WinbackCampaign, **ONE),
    tags=["win-back campaigns"],
    operation_id="retrieve_winback_campaign",
    path_parameter_descriptions={"winback_id": "wbc_..."},
)
def retrieve_winback_campaign(winback_id: str) -> Any:
    """Retrieve a win-back campaign"""
    return reads.get_winback(db.session, _workspace_id(), winback_id)


@bp.get("/events")
@api.validate(
    query=schemas.EventListQuery,
    resp=Responses(HTTP_200=schemas.EventList, **LIST),
    tags=["events"],
    operation_id="list_events",
)
def list_events() -> Any:
    """List events

    Backstop's own event log, newest first; filter by type and by time."""
    params = request.context.query  # type: ignore[attr-defined]
    return reads.list_events(db.session, _workspace_id(), params, url=request.path)


@bp.get("/events/<event_id>")
@api.validate(
    resp=Responses(HTTP_200=schemas.Event, **ONE),
    tags=["events"],
    operation_id="retrieve_event",
    path_parameter_descriptions={"event_id": "ev_..."},
)
def retrieve_event(event_id: str) -> Any:
    """Retrieve an event"""
    return reads.get_event(db.session, _workspace_id(), event_id)


@bp.get("/insights")
@api.validate(
    query=schemas.InsightsQuery,
    resp=Responses(HTTP_200=schemas.Insights, **READ),
    tags=["insights"],
    operation_id="retrieve_insights",
)
def retrieve_insights() -> Any:
    """Retrieve the insight figures

    The dashboard's totals for the last 7, 30, 90 or 365 days, per currency."""
    params = request.context.query  # type: ignore[attr-defined]
    return reads.insights(db.session, auth.workspace(), params, now=utcnow())


from . import data_rights, docs  # noqa: E402, F401  (their routes join the blueprint)
