"""Reads for the dashboard's Checkout recovery page: the headline figures of a period
(the campaigns whose checkout expired in it) and the list of campaigns. Scoped to one
workspace; money summed per currency, never across currencies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .models import (
    ACTIVE,
    EMAIL,
    RECOVERED,
    RETURNED,
    CheckoutRecoveryCampaign,
    CheckoutRecoveryStep,
)

Campaign, Step = CheckoutRecoveryCampaign, CheckoutRecoveryStep


@dataclass(frozen=True)
class Money:
    minor: int
    currency: str


@dataclass
class Figures:
    started: int = 0
    active_now: int = 0
    reminders_sent: int = 0
    recovered: int = 0
    via_link: int = 0
    returned: int = 0
    recovered_amounts: list[Money] = field(default_factory=list)

    @property
    def rate(self) -> int | None:
        """Percent of the period's campaigns recovered (None before any)."""
        return round(100 * self.recovered / self.started) if self.started else None


@dataclass(frozen=True)
class Listing:
    rows: list[CheckoutRecoveryCampaign]
    page: int
    has_more: bool


def figures(session: Session, workspace_id: int, *, since: dt.datetime) -> Figures:
    where = [Campaign.workspace_id == workspace_id, Campaign.expired_at >= since]
    started, recovered, via_link, returned = session.execute(
        select(
            func.count(Campaign.id),
            func.count(case((Campaign.state == RECOVERED, 1))),
            func.count(case(((Campaign.state == RECOVERED) & (Campaign.won_via == "link"), 1))),
            func.count(case((Campaign.state == RETURNED, 1))),
        ).where(*where)
    ).one()
    active_now = session.execute(
        select(func.count(Campaign.id)).where(
            Campaign.workspace_id == workspace_id, Campaign.state == ACTIVE
        )
    ).scalar_one()
    sent = session.execute(
        select(func.count(Step.id))
        .join(Campaign, Campaign.id == Step.campaign_id)
        .where(
            *where, Step.workspace_id == workspace_id, Step.kind == EMAIL, Step.outcome == "sent"
        )
    ).scalar_one()
    amounts = session.execute(
        select(Campaign.currency, func.sum(Campaign.amount_minor))
        .where(*where, Campaign.state == RECOVERED)
        .group_by(Campaign.currency)
        .order_by(Campaign.currency)
    ).all()
    return Figures(
        started=started,
        active_now=active_now,
        reminders_sent=sent,
        recovered=recovered,
        via_link=via_link,
        returned=returned,
        recovered_amounts=[Money(int(t or 0), c) for c, t in amounts if c],
    )


def campaigns(session: Session, workspace_id: int, *, page: int, per_page: int) -> Listing:
    """The workspace's campaigns, the latest expiry first."""
    found = (
        session.execute(
            select(Campaign)
            .where(Campaign.workspace_id == workspace_id)
            .order_by(Campaign.expired_at.desc(), Campaign.id.desc())
            .limit(per_page + 1)
            .offset((page - 1) * per_page)
        )
        .scalars()
        .all()
    )
    return Listing(list(found[:per_page]), page, len(found) > per_page)
