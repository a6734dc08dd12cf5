"""What the REST API and the MCP server read: lists a page at a time (newest first, a
cursor after the last id) and single objects, always scoped to one workspace.

Every function takes the session and the workspace id explicitly and returns the
pydantic objects of ``schemas``; an id of another workspace is as unknown as one that
never existed (:func:`errors.not_found`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from ...accounts.models import Workspace
from ...events.models import DomainEvent
from ...insights import figures
from ...recovery.models import Campaign
from ...retain.models import CancelSession
from ...stripe.models import MirrorCustomer
from ...tenancy import scoped
from ...winback.models import WinbackCampaign
from . import ids, schemas
from .errors import not_found

#: How many of each kind a customer carries.
EMBEDDED = 100


def _one(
    session: Session,
    query: Select[Any],
    model: Any,
    prefix: str,
    public_id: str,
    *,
    kind: str,
    param: str,
) -> Any:
    """The workspace's object ``public_id`` (``query`` is already scoped to it), or the
    404 a malformed id, an unknown one and another workspace's all get alike."""
    number = ids.parse(prefix, public_id)
    row = None
    if number is not None:
        row = session.execute(query.where(model.id == number)).scalar_one_or_none()
    if row is None:
        raise not_found(kind, public_id, param)
    return row


def _page(
    session: Session,
    query: Select[Any],
    model: Any,
    params: schemas.ListQuery,
    *,
    workspace_id: int,
    kind: str,
    prefix: str,
    created: Any,
) -> tuple[list[Any], bool]:
    """A page newest first by ``created`` (then id), after the cursor's object: a range
    of the table's (workspace, created) index whatever the filters, so a page deep in a
    million rows costs what the first one does."""
    cursor = getattr(params, "starting_after", None)
    if cursor is not None:
        after = ids.parse(prefix, cursor)
        mark = None
        if after is not None:
            mark = session.execute(
                select(created).where(model.workspace_id == workspace_id, model.id == after)
            ).scalar_one_or_none()
        if mark is None:
            raise not_found(kind, cursor, "starting_after")
        query = query.where(tuple_(created, model.id) < tuple_(mark, after))
    if params.created_gte is not None:
        query = query.where(created >= params.created_gte)
    if params.created_lt is not None:
        query = query.where(created < params.created_lt)
    ordered = query.order_by(created.desc(), model.id.desc()).limit(params.limit + 1)
    rows = list(session.execute(ordered).scalars())
    return rows[: params.limit], len(rows) > params.limit


# -- campaigns --------------------------------------------------------------------------------


def campaign_out(row: Campaign) -> schemas.Campaign:
    return schemas.Campaign(
        id=ids.public(ids.CAMPAIGN, row.id),
        customer=row.customer_stripe_id,
        invoice=row.invoice_stripe_id,
        subscription=row.subscription_stripe_id,
        status=row.state,  # type: ignore[arg-type]
        is_paused=row.is_paused,
        amount=row.amount_minor,
        currency=row.currency,
        amount_recovered=row.recovered_minor,
        amount_refunded=row.refunded_minor,
        decline_code=row.decline_code,
        failure_code=row.failure_code,
        decline_class=row.decline_class,
        attribution=row.attribution,
        close_reason=row.close_reason,
        automatic_retries=row.auto_retries,
        opened_at=row.opened_at,
        last_failure_at=row.last_failure_at,
        window_ends_at=row.window_ends_at,
        closed_at=row.closed_at,
        paused_at=row.paused_at,
    )


def list_campaigns(
    session: Session, workspace_id: int, params: schemas.CampaignListQuery, *, url: str
) -> schemas.CampaignList:
    query = scoped(Campaign, workspace_id)
    if params.status is not None:
        query = query.where(Campaign.state == params.status)
    rows, more = _page(
        session,
        query,
        Campaign,
        params,
        workspace_id=workspace_id,
        kind="campaign",
        prefix=ids.CAMPAIGN,
        created=Campaign.opened_at,
    )
    return schemas.CampaignList(url=url, has_more=more, data=[campaign_out(r) for r in rows])


def campaign_row(session: Session, workspace_id: int, public_id: str) -> Campaign:
    row = _one(
        session,
        scoped(Campaign, workspace_id),
        Campaign,
        ids.CAMPAIGN,
        public_id,
        kind="campaign",
        param="campaign_id",
    )
    return row


def get_campaign(session: Session, workspace_id: int, public_id: str) -> schemas.Campaign:
    return campaign_out(campaign_row(session, workspace_id, public_id))


# -- cancel sessions --------------------------------------------------------------------------


def session_out(row: CancelSession) -> schemas.CancelSession:
    return schemas.CancelSession(
        id=ids.public(ids.CANCEL_SESSION, row.id),
        customer=row.customer_stripe_id,
        subscription=row.subscription_stripe_id,
        status=row.outcome or "open",  # type: ignore[arg-type]
        reason=row.reason_key,
        reason_label=row.reason_label,
        feedback=row.feedback,
        offer_accepted=row.offer if row.outcome == "saved" else None,
        plan_name=row.plan_name,
        amount=row.amount_minor,
        currency=row.currency,
        interval=row.interval,
        mrr=row.mrr_minor,
        created_at=row.created_at,
        decided_at=row.outcome_at,
        ends_at=row.ends_at,
        still_paying=row.still_paying,
    )


def _sessions(workspace_id: int) -> Select[Any]:
    # Simulations are the merchant trying a flow out, not customers.
    return scoped(CancelSession, workspace_id).where(CancelSession.is_simulation.is_(False))


def list_sessions(
    session: Session, workspace_id: int, params: schemas.SessionListQuery, *, url: str
) -> schemas.CancelSessionList:
    query = _sessions(workspace_id)
    if params.status == "open":
        query = query.where(CancelSession.outcome.is_(None))
    elif params.status is not None:
        query = query.where(CancelSession.outcome == params.status)
    rows, more = _page(
        session,
        query,
        CancelSession,
        params,
        workspace_id=workspace_id,
        kind="cancel session",
        prefix=ids.CANCEL_SESSION,
        created=CancelSession.created_at,
    )
    return schemas.CancelSessionList(url=url, has_more=more, data=[session_out(r) for r in rows])


def get_session(session: Session, workspace_id: int, public_id: str) -> schemas.CancelSession:
    row = _one(
        session,
        _sessions(workspace_id),
        CancelSession,
        ids.CANCEL_SESSION,
        public_id,
        kind="cancel session",
        param="session_id",
    )
    return session_out(row)


# -- win-back campaigns -----------------------------------------------------------------------


def winback_out(row: WinbackCampaign) -> schemas.WinbackCampaign:
    return schemas.WinbackCampaign(
        id=ids.public(ids.WINBACK_CAMPAIGN, row.id),
        customer=row.customer_stripe_id,
        subscription=row.subscription_stripe_id,
        status=row.state,  # type: ignore[arg-type]
        kind=row.kind,
        reason=row.reason,
        plan_name=row.plan_name,
        amount=row.amount_minor,
        currency=row.currency,
        mrr=row.mrr_minor,
        touches_sent=row.touches_sent,
        ended_at=row.ended_at,
        last_touch_at=row.last_touch_at,
        clicked_at=row.clicked_at,
        won_via=row.won_via,
        new_subscription=row.new_subscription_stripe_id,
        regained_mrr=row.regained_mrr_minor,
        regained_currency=row.regained_currency,
        closed_at=row.closed_at,
        close_reason=row.close_reason,
        created_at=row.created_at,
    )


def list_winbacks(
    session: Session, workspace_id: int, params: schemas.WinbackListQuery, *, url: str
) -> schemas.WinbackCampaignList:
    query = scoped(WinbackCampaign, workspace_id)
    if params.status is not None:
        query = query.where(WinbackCampaign.state == params.status)
    rows, more = _page(
        session,
        query,
        WinbackCampaign,
        params,
        workspace_id=workspace_id,
        kind="win-back campaign",
        prefix=ids.WINBACK_CAMPAIGN,
        created=WinbackCampaign.created_at,
    )
    return schemas.WinbackCampaignList(url=url, has_more=more, data=[winback_out(r) for r in rows])


def get_winback(session: Session, workspace_id: int, public_id: str) -> schemas.WinbackCampaign:
    row = _one(
        session,
        scoped(WinbackCampaign, workspace_id),
        WinbackCampaign,
        ids.WINBACK_CAMPAIGN,
        public_id,
        kind="win-back campaign",
        param="winback_id",
    )
    return winback_out(row)


# -- events -----------------------------------------------------------------------------------


def event_out(row: DomainEvent) -> schemas.Event:
    return schemas.Event(
        id=ids.public(ids.EVENT, row.id),
        type=row.name,
        subject=row.subject,
        data=row.data or {},
        occurred_at=row.occurred_at,
        created_at=row.created_at,
    )


def list_events(
    session: Session, workspace_id: int, params: schemas.EventListQuery, *, url: str
) -> schemas.EventList:
    query = scoped(DomainEvent, workspace_id)
    if params.type is not None:
        query = query.where(DomainEvent.name == params.type)
    rows, more = _page(
        session,
        query,
        DomainEvent,
        params,
        workspace_id=workspace_id,
        kind="event",
        prefix=ids.EVENT,
        created=DomainEvent.created_at,
    )
    return schemas.EventList(url=url, has_more=more, data=[event_out(r) for r in rows])


def get_event(session: Session, workspace_id: int, public_id: str) -> schemas.Event:
    row = _one(
        session,
        scoped(DomainEvent, workspace_id),
        DomainEvent,
        ids.EVENT,
        public_id,
        kind="event",
        param="event_id",
    )
    return event_out(row)


# -- customers --------------------------------------------------------------------------------


def get_customer(session: Session, workspace_id: int, stripe_id: str) -> schemas.Customer:
    """The customer with their campaigns, cancel sessions and win-back campaigns; known
    from Stripe's mirror or from any of those."""
    mirrored = session.execute(
        scoped(MirrorCustomer, workspace_id).where(MirrorCustomer.stripe_id == stripe_id)
    ).scalar_one_or_none()

    def newest(query: Select[Any], model: Any, created: Any) -> list[Any]:
        ordered = query.order_by(created.desc(), model.id.desc()).limit(EMBEDDED)
        return list(session.execute(ordered).scalars())

    campaigns = newest(
        scoped(Campaign, workspace_id).where(Campaign.customer_stripe_id == stripe_id),
        Campaign,
        Campaign.opened_at,
    )
    sessions = newest(
        _sessions(workspace_id).where(CancelSession.customer_stripe_id == stripe_id),
        CancelSession,
        CancelSession.created_at,
    )
    winbacks = newest(
        scoped(WinbackCampaign, workspace_id).where(
            WinbackCampaign.customer_stripe_id == stripe_id
        ),
        WinbackCampaign,
        WinbackCampaign.created_at,
    )
    if mirrored is None and not (campaigns or sessions or winbacks):
        raise not_found("customer", stripe_id, "customer_id")
    return schemas.Customer(
        id=stripe_id,
        email=mirrored.email if mirrored else None,
        name=mirrored.name if mirrored else (winbacks[0].customer_name if winbacks else None),
        deleted=bool(mirrored and mirrored.is_deleted),
        campaigns=[campaign_out(r) for r in campaigns],
        cancel_sessions=[session_out(r) for r in sessions],
        winback_campaigns=[winback_out(r) for r in winbacks],
    )


# -- insights ---------------------------------------------------------------------------------


def insights(
    session: Session, workspace: Workspace, params: schemas.InsightsQuery, *, now: dt.datetime
) -> schemas.Insights:
    """The dashboard's figures for the period (``figures.read``), per currency."""
    days = figures.PERIODS[params.period]
    today = figures.today_for(workspace.timezone, now)
    read = figures.read(session, workspace.id, days=days, today=today)
    metrics = {
        name: schemas.Metric(
            count=money.count,
            amounts=[
                schemas.Amount(currency=c, amount=a, count=money.counts.get(c, 0))
                for c, a in sorted(money.amounts.items())
            ],
        )
        for name, money in sorted(read.totals.items())
    }
    at_risk = [
        schemas.AtRisk(currency=c, campaigns=n, amount=a)
        for c, (n, a) in sorted(figures.at_risk(session, workspace.id).items())
    ]
    return schemas.Insights(
        period_days=days,
        start=today - dt.timedelta(days=days - 1),
        end=today,
        timezone=workspace.timezone,
        metrics=metrics,
        recovery_rate=read.rate(),
        at_risk=at_risk,
    )
