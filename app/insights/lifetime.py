"""The LTV of recovered customers, computed and kept (``insight_ltv``): which recovered
subscriptions are followed, what they paid since (the mirror's paid invoices), whether
they ended, and their price now; the estimate itself is pure (:mod:`.ltv`).

A worker computes it once a day (``insights.compute_ltv``) and when a page finds it
missing or a day old (:func:`request`): it reads every recovered subscription of the last
two years and its later invoices, which a page view should not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..queue import enqueue
from ..recovery.models import RECOVERED, Campaign
from ..retain.policy import Plan
from ..stripe import subscriptions as stripe_subs
from ..stripe.models import MirrorInvoice, MirrorSubscription
from . import ltv
from .models import InsightLtv

TASK = "insights.compute_ltv"
#: Recoveries this long ago or newer are followed (the projection's horizon).
LOOKBACK = dt.timedelta(days=round(ltv.HORIZON_MONTHS * ltv.MONTH_DAYS))
#: At most this many recovered subscriptions per run (the newest); the page says so.
LIMIT = 50_000
STALE = dt.timedelta(hours=24)
#: A page asks again for a computation at most this often (one already queued may run).
ASK_AGAIN = dt.timedelta(minutes=15)
ENDED = frozenset({"canceled", "incomplete_expired"})
_CHUNK = 500


@dataclass(frozen=True)
class Recovery:
    subscription: str
    recovered_at: dt.datetime
    currency: str


def recoveries(
    session: Session, workspace_id: int, *, now: dt.datetime, limit: int = LIMIT
) -> tuple[list[Recovery], bool]:
    """Each subscription whose payment Backstop recovered in the lookback, from its first
    recovery there (held-out campaigns are not Backstop's); and whether there were more
    than ``limit`` (the newest are kept)."""
    rows = session.execute(
        select(Campaign.subscription_stripe_id, Campaign.closed_at, Campaign.currency)
        .where(
            Campaign.workspace_id == workspace_id,
            Campaign.state == RECOVERED,
            Campaign.is_holdout.is_(False),
            Campaign.subscription_stripe_id.is_not(None),
            Campaign.closed_at >= now - LOOKBACK,
        )
        .order_by(Campaign.closed_at.desc())
        .limit(limit + 1)
    ).all()
    first: dict[str, Recovery] = {}
    for sub, closed_at, currency in rows[:limit]:
        first[sub] = Recovery(sub, closed_at, currency)  # oldest last: it wins
    return list(first.values()), len(rows) > limit


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def months_per_period(plan: Plan) -> float:
    per = {"day": 1 / ltv.MONTH_DAYS, "week": 7 / ltv.MONTH_DAYS, "month": 1, "year": 12}
    return per.get(plan.interval, 1) * max(plan.interval_count, 1)


def members(
    session: Session, workspace_id: int, found: Sequence[Recovery], *, now: dt.datetime
) -> list[ltv.Member]:
    """The recovered subscriptions as the estimate needs them, from the mirror (one whose
    subscription the mirror does not hold is left out)."""
    by_sub = {r.subscription: r for r in found}
    out = []
    for chunk in _chunks(list(by_sub)):
        subs = session.execute(
            select(MirrorSubscription.stripe_id, MirrorSubscription.data).where(
                MirrorSubscription.workspace_id == workspace_id,
                MirrorSubscription.stripe_id.in_(chunk),
            )
        ).all()
        paid: dict[str, list[tuple[int, int]]] = {}
        for sub_id, created, amount in session.execute(
            select(
                MirrorInvoice.subscription_stripe_id,
                MirrorInvoice.stripe_created,
                MirrorInvoice.amount_due_minor,
            ).where(
                MirrorInvoice.workspace_id == workspace_id,
                MirrorInvoice.subscription_stripe_id.in_(chunk),
                MirrorInvoice.status == "paid",
            )
        ):
            paid.setdefault(sub_id, []).append((int(created), int(amount or 0)))
        for sub_id, data in subs:
            out.append(_member(by_sub[sub_id], data or {}, paid.get(sub_id, []), now))
    return out


def _member(
    recovery: Recovery, data: dict[str, Any], paid: list[tuple[int, int]], now: dt.datetime
) -> ltv.Member:
    facts = stripe_subs.subscription_facts({"id": recovery.subscription, **data})
    plan = Plan("", facts.amount_minor, facts.currency, facts.interval, facts.interval_count)
    ended_at = None
    if facts.status in ENDED:
        ended_at = _epoch(data.get("ended_at")) or _epoch(data.get("canceled_at")) or now
    after = int(recovery.recovered_at.timestamp())
    later = [amount for created, amount in paid if created > after]
    days = ((ended_at or now) - recovery.recovered_at).total_seconds() / 86400
    return ltv.Member(
        currency=recovery.currency,
        age_months=ltv.age_in_months(days),
        ended=ended_at is not None,
        monthly_minor=plan.monthly_minor,
        realized_minor=sum(later),
        months_paid=round(len(later) * months_per_period(plan)),
    )


def compute(session: Session, workspace_id: int, *, now: dt.datetime) -> dict[str, ltv.Estimate]:
    """Recompute and keep the workspace's estimate (replacing the last one)."""
    found, sampled = recoveries(session, workspace_id, now=now)
    estimates = ltv.estimate(members(session, workspace_id, found, now=now))
    session.execute(
        delete(InsightLtv).where(InsightLtv.workspace_id == workspace_id, InsightLtv.currency != "")
    )
    marker = _marker(session, workspace_id)
    marker.computed_at = now
    marker.is_sampled = sampled
    marker.customers = sum(e.customers for e in estimates.values())
    for e in estimates.values():
        session.add(
            InsightLtv(
                workspace_id=workspace_id,
                currency=e.currency,
                customers=e.customers,
                still_subscribed=e.still_subscribed,
                realized_minor=e.realized_minor,
                months_paid=e.months_paid,
                projected_minor=e.projected_minor,
                curve=[round(s, 6) for s in e.curve],
                observed_months=e.observed_months,
                horizon_months=ltv.HORIZON_MONTHS,
                is_sampled=sampled,
                computed_at=now,
            )
        )
    session.flush()
    return estimates


def _marker(session: Session, workspace_id: int) -> InsightLtv:
    row = session.execute(
        select(InsightLtv).where(InsightLtv.workspace_id == workspace_id, InsightLtv.currency == "")
    ).scalar_one_or_none()
    if row is None:
        row = InsightLtv(workspace_id=workspace_id, currency="", curve=[])
        session.add(row)
    return row


def of_workspace(session: Session, workspace_id: int) -> tuple[InsightLtv | None, list[InsightLtv]]:
    """The marker row (when it was computed) and the estimate per currency."""
    rows = session.execute(
        select(InsightLtv)
        .where(InsightLtv.workspace_id == workspace_id)
        .order_by(InsightLtv.currency)
    ).scalars()
    marker, per_currency = None, []
    for row in rows:
        if row.currency == "":
            marker = row
        else:
            per_currency.append(row)
    return marker, per_currency


def request(session: Session, workspace_id: int, *, now: dt.datetime) -> bool:
    """Queue a computation when there is none or it is a day old (and none was asked for
    in the last minutes); True when one was queued."""
    marker = _marker(session, workspace_id)
    fresh = marker.computed_at is not None and now - marker.computed_at < STALE
    asked = marker.requested_at is not None and now - marker.requested_at < ASK_AGAIN
    if fresh or asked:
        return False
    marker.requested_at = now
    enqueue(session, TASK, workspace_id)
    session.flush()
    return True
