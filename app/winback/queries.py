"""Reads for the dashboard's Win back pages: the headline figures of a period, the
breakdowns per reason and per touch, the list of campaigns and one customer's campaigns.

Counts and sums are grouped in SQL and scoped to one workspace; money is summed per
currency, never across currencies. A period holds the campaigns whose subscription
ended in it (a cohort), so every figure of one page describes the same customers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, selectinload

from . import policy
from .models import ACTIVE, EMAIL, INVOLUNTARY, RETURNED, WON, WinbackCampaign, WinbackStep


@dataclass(frozen=True)
class Money:
    minor: int
    currency: str


@dataclass
class Figures:
    started: int = 0
    active_now: int = 0
    touches_sent: int = 0
    opens: int = 0
    clicks: int = 0
    won: int = 0
    regained: list[Money] = field(default_factory=list)
    returned: int = 0
    returned_mrr: list[Money] = field(default_factory=list)


@dataclass
class ReasonRow:
    key: str
    label: str
    campaigns: int = 0
    touches_sent: int = 0
    won: int = 0
    regained: list[Money] = field(default_factory=list)


@dataclass
class TouchRow:
    number: int
    label: str
    sent: int = 0
    opens: int = 0
    clicks: int = 0
    won: int = 0
    regained: list[Money] = field(default_factory=list)


@dataclass(frozen=True)
class Listing:
    rows: list[WinbackCampaign]
    page: int
    has_more: bool


def copy_key_of() -> ColumnElement[str]:
    """:func:`policy.copy_key` in SQL: involuntary campaigns have their own copy."""
    return case(
        (WinbackCampaign.kind == INVOLUNTARY, policy.PAYMENT_FAILED),
        else_=WinbackCampaign.reason,
    )


def _in_period(workspace_id: int, since: dt.datetime) -> list[ColumnElement[bool]]:
    return [WinbackCampaign.workspace_id == workspace_id, WinbackCampaign.ended_at >= since]


def _sent() -> ColumnElement[bool]:
    return (WinbackStep.kind == EMAIL) & (WinbackStep.outcome == "sent")


def _money(rows: list[tuple[str | None, int | None]]) -> list[Money]:
    return sorted(
        (Money(int(total or 0), currency) for currency, total in rows if currency and total),
        key=lambda m: m.currency,
    )


def figures(session: Session, workspace_id: int, *, since: dt.datetime) -> Figures:
    """The period's headline: campaigns started, touches sent, opened and clicked,
    reactivations credited with their MRR, and returns we do not claim."""
    where = _in_period(workspace_id, since)
    started, won, returned = session.execute(
        select(
            func.count(WinbackCampaign.id),
            func.count(case((WinbackCampaign.state == WON, 1))),
            func.count(case((WinbackCampaign.state == RETURNED, 1))),
        ).where(*where)
    ).one()
    active_now = session.execute(
        select(func.count(WinbackCampaign.id)).where(
            WinbackCampaign.workspace_id == workspace_id, WinbackCampaign.state == ACTIVE
        )
    ).scalar_one()
    sent, opens, clicks = session.execute(
        select(
            func.count(case((_sent(), 1))),
            func.count(case((WinbackStep.opened_at.is_not(None), 1))),
            func.count(case((WinbackStep.clicked_at.is_not(None), 1))),
        )
        .join(WinbackCampaign, WinbackCampaign.id == WinbackStep.campaign_id)
        .where(*where, WinbackStep.workspace_id == workspace_id, WinbackStep.kind == EMAIL)
    ).one()
    return Figures(
        started=started,
        active_now=active_now,
        touches_sent=sent,
        opens=opens,
        clicks=clicks,
        won=won,
        regained=_regained(session, where, WON),
        returned=returned,
        returned_mrr=_regained(session, where, RETURNED),
    )


def _regained(session: Session, where: list[ColumnElement[bool]], state: str) -> list[Money]:
    rows = session.execute(
        select(WinbackCampaign.regained_currency, func.sum(WinbackCampaign.regained_mrr_minor))
        .where(*where, WinbackCampaign.state == state)
        .group_by(WinbackCampaign.regained_currency)
    ).all()
    return _money([(c, t) for c, t in rows])


def by_reason(session: Session, workspace_id: int, *, since: dt.datetime) -> list[ReasonRow]:
    """One row per copy key with a campaign in the period, in the settings' order."""
    where = _in_period(workspace_id, since)
    key = copy_key_of().label("key")
    rows = {
        k: ReasonRow(k, policy.REASON_LABELS.get(k, k), n, int(sent or 0), w)
        for k, n, sent, w in session.execute(
            select(
                key,
                func.count(WinbackCampaign.id),
                func.sum(WinbackCampaign.touches_sent),
                func.count(case((WinbackCampaign.state == WON, 1))),
            )
            .where(*where)
            .group_by(key)
        )
    }
    money: dict[str, list[tuple[str | None, int | None]]] = defaultdict(list)
    for k, currency, total in session.execute(
        select(key, WinbackCampaign.regained_currency, func.sum(WinbackCampaign.regained_mrr_minor))
        .where(*where, WinbackCampaign.state == WON)
        .group_by(key, WinbackCampaign.regained_currency)
    ):
        money[k].append((currency, total))
    for k, row in rows.items():
        row.regained = _money(money[k])
    order = {k: i for i, k in enumerate(policy.COPY_KEYS)}
    return sorted(rows.values(), key=lambda r: order.get(r.key, len(order)))


def by_touch(session: Session, workspace_id: int, *, since: dt.datetime) -> list[TouchRow]:
    """One row per touch number: sent, opened, clicked, and the reactivations credited
    to that touch (the campaign's ``won_step_id``)."""
    where = _in_period(workspace_id, since)
    rows: dict[int, TouchRow] = {}
    for number, sent, opens, clicks in session.execute(
        select(
            WinbackStep.number,
            func.count(case((_sent(), 1))),
            func.count(case((WinbackStep.opened_at.is_not(None), 1))),
            func.count(case((WinbackStep.clicked_at.is_not(None), 1))),
        )
        .join(WinbackCampaign, WinbackCampaign.id == WinbackStep.campaign_id)
        .where(*where, WinbackStep.workspace_id == workspace_id, WinbackStep.kind == EMAIL)
        .group_by(WinbackStep.number)
    ):
        rows[number] = TouchRow(number, policy.touch_label(number), sent, opens, clicks)
    credited = (
        select(
            WinbackStep.number,
            WinbackCampaign.regained_currency,
            func.count(WinbackCampaign.id),
            func.sum(WinbackCampaign.regained_mrr_minor),
        )
        .join(WinbackStep, WinbackStep.id == WinbackCampaign.won_step_id)
        .where(
            *where,
            WinbackStep.workspace_id == workspace_id,
            WinbackStep.kind == EMAIL,
            WinbackCampaign.state == WON,
        )
        .group_by(WinbackStep.number, WinbackCampaign.regained_currency)
    )
    money: dict[int, list[tuple[str | None, int | None]]] = defaultdict(list)
    for number, currency, count, total in session.execute(credited):
        row = rows.setdefault(number, TouchRow(number, policy.touch_label(number)))
        row.won += count
        money[number].append((currency, total))
    for number, row in rows.items():
        row.regained = _money(money[number])
    return [rows[n] for n in sorted(rows)]


def campaigns(session: Session, workspace_id: int, *, page: int, per_page: int) -> Listing:
    """The workspace's campaigns, the most recent ending first."""
    found = (
        session.execute(
            select(WinbackCampaign)
            .where(WinbackCampaign.workspace_id == workspace_id)
            .order_by(WinbackCampaign.ended_at.desc(), WinbackCampaign.id.desc())
            .limit(per_page + 1)
            .offset((page - 1) * per_page)
        )
        .scalars()
        .all()
    )
    return Listing(list(found[:per_page]), page, len(found) > per_page)


def customer_campaigns(
    session: Session, workspace_id: int, customer_id: str
) -> list[WinbackCampaign]:
    """A customer's campaigns with their steps, the latest ending first."""
    return list(
        session.execute(
            select(WinbackCampaign)
            .where(
                WinbackCampaign.workspace_id == workspace_id,
                WinbackCampaign.customer_stripe_id == customer_id,
            )
            .options(selectinload(WinbackCampaign.steps))
            .order_by(WinbackCampaign.ended_at.desc(), WinbackCampaign.id.desc())
        )
        .scalars()
        .all()
    )
