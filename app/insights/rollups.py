"""Keeping the rollups: a worker counts each domain event once into ``insight_daily``.

Why a worker and not the services: the events are already written in the same
transaction as what they describe (the outbox), so counting them after the commit
cannot miss one or count a rolled-back one, adds nothing to the request that closed a
campaign, and a rollup can be rebuilt from the event log at any time
(:func:`rebuild`). What each event counts is a pure rule (:func:`contributions`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..events.models import DomainEvent
from ..times import zone
from .models import InsightApplied, InsightDaily

#: The metrics, each from one event: what the dashboard can show.
METRICS = {
    "recovery.campaign.started": "failed",
    "recovery.campaign.recovered": "recovered",
    "recovery.campaign.lost": "lost",
    "recovery.campaign.abandoned": "abandoned",
    "recovery.campaign.refunded": "refunded",
    "cancel.session.saved": "saved",
    "cancel.session.cancelled": "cancelled",
    "winback.reactivated": "won_back",
    "winback.returned": "returned",
    "checkout.recovery.started": "checkouts_abandoned",
    "checkout.recovery.recovered": "checkouts_recovered",
    "subscription.ended": "churned",
}


#: A held-out campaign (``is_holdout`` in its events) counts apart, under these metrics,
#: so that ``failed``/``recovered``/``lost``/``abandoned`` keep meaning the campaigns
#: Backstop worked on, and the holdout's own rate can be compared with theirs.
HOLDOUT_METRICS = {
    "failed": "holdout_failed",
    "recovered": "holdout_recovered",
    "lost": "holdout_lost",
    "abandoned": "holdout_abandoned",
}
#: The treated campaigns drawn while a holdout was on (``holdout_percent`` set) count
#: again under these: the holdout's comparison group, from the same weeks.
DRAWN_METRICS = {"recovered": "treated_recovered", "lost": "treated_lost"}


@dataclass(frozen=True)
class Contribution:
    metric: str
    key: str
    currency: str
    count: int
    amount_minor: int


def _text(value: Any, limit: int) -> str:
    return str(value)[:limit] if value not in (None, "") else ""


def contributions(name: str, data: Mapping[str, Any]) -> list[Contribution]:
    """What one event adds to the rollups (nothing for events they do not count)."""
    metric = METRICS.get(name)
    if metric is None:
        return []
    currency = _text(data.get("currency"), 3).lower()
    if metric == "refunded":
        # Off what Backstop recovered; a held-out campaign's recovery was never counted.
        if data.get("is_holdout") is True:
            return []
        key, amount = _text(data.get("attribution"), 64), int(data.get("refunded_minor") or 0)
        return [Contribution(metric, key, currency, 1, amount)]
    if data.get("is_holdout") is True and metric in HOLDOUT_METRICS:
        key = _text(data.get("attribution" if metric == "recovered" else "decline_class"), 64)
        amount_field = {"recovered": "recovered_minor"}.get(metric, "amount_minor")
        amount = int(data.get(amount_field) or 0)
        return [Contribution(HOLDOUT_METRICS[metric], key, currency, 1, amount)]
    if metric in DRAWN_METRICS and data.get("holdout_percent"):
        return [
            *contributions(name, {**data, "holdout_percent": None}),
            Contribution(DRAWN_METRICS[metric], "", currency, 1, 0),
        ]
    if metric == "failed":
        amount = int(data.get("amount_minor") or 0)
        return [
            Contribution("failed", _text(data.get("decline_class"), 64), currency, 1, amount),
            Contribution("failed_code", _text(data.get("decline_code"), 64), currency, 1, amount),
        ]
    if metric == "recovered":
        key, amount = _text(data.get("attribution"), 64), int(data.get("recovered_minor") or 0)
    elif metric in ("lost", "abandoned"):
        key, amount = _text(data.get("decline_class"), 64), int(data.get("amount_minor") or 0)
    elif metric in ("saved", "cancelled"):
        key, amount = _text(data.get("reason"), 64), int(data.get("mrr_minor") or 0)
    elif metric in ("won_back", "returned"):
        key, amount = _text(data.get("reason"), 64), int(data.get("regained_mrr_minor") or 0)
        currency = _text(data.get("regained_currency") or data.get("currency"), 3).lower()
    elif metric in ("checkouts_abandoned", "checkouts_recovered"):
        # What the checkout was for (a period's price), by how it came back (link, email).
        key, amount = _text(data.get("won_via"), 64), int(data.get("amount_minor") or 0)
    else:  # churned: voluntary or involuntary, with the MRR that left
        key, amount = _text(data.get("kind"), 64), int(data.get("mrr_minor") or 0)
    return [Contribution(metric, key, currency, 1, amount)]


def day_of(moment: dt.datetime, tz: str) -> dt.date:
    """The day ``moment`` falls on in the workspace's timezone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone(tz)).date()


def counted_at(data: Mapping[str, Any], occurred_at: dt.datetime) -> dt.datetime:
    """When an event counts: when it happened, unless it says otherwise (``counted_at``,
    e.g. a refund counts on the day of the recovery it takes back)."""
    value = data.get("counted_at")
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    return occurred_at


def apply(session: Session, event: DomainEvent) -> None:
    """The consumer: count ``event`` once (a second hand-over finds it applied)."""
    found = contributions(event.name, event.data or {})
    if not found:
        return
    if session.get(InsightApplied, event.id) is not None:
        return
    session.add(InsightApplied(event_id=event.id, workspace_id=event.workspace_id))
    tz = session.execute(
        select(Workspace.timezone).where(Workspace.id == event.workspace_id)
    ).scalar_one_or_none()
    day = day_of(counted_at(event.data or {}, event.occurred_at), tz or "UTC")
    for item in found:
        _add(session, event.workspace_id, day, item)
    session.flush()


def _add(session: Session, workspace_id: int, day: dt.date, item: Contribution) -> None:
    """Add to the day's row, made if missing, in one statement (two workers counting
    the same day at once both land)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(InsightDaily).values(
        workspace_id=workspace_id,
        day=day,
        metric=item.metric,
        key=item.key,
        currency=item.currency,
        count=item.count,
        amount_minor=item.amount_minor,
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id", "metric", "day", "key", "currency"],
            set_={
                "count": InsightDaily.count + statement.excluded.count,
                "amount_minor": InsightDaily.amount_minor + statement.excluded.amount_minor,
            },
        )
    )


# -- from scratch -------------------------------------------------------------------------------

Totals = dict[tuple[dt.date, str, str, str], tuple[int, int]]


def from_scratch(events: Iterable[tuple[str, Mapping[str, Any], dt.datetime]], tz: str) -> Totals:
    """The rollups recomputed from the events themselves: (day, metric, key, currency)
    -> (count, amount). Pure; the tests and :func:`rebuild` use it."""
    totals: dict[tuple[dt.date, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for name, data, at in events:
        day = day_of(counted_at(data, at), tz)
        for item in contributions(name, data):
            row = totals[(day, item.metric, item.key, item.currency)]
            row[0] += item.count
            row[1] += item.amount_minor
    return {key: (count, amount) for key, (count, amount) in totals.items()}


def stored(session: Session, workspace_id: int) -> Totals:
    rows = session.execute(
        select(
            InsightDaily.day,
            InsightDaily.metric,
            InsightDaily.key,
            InsightDaily.currency,
            InsightDaily.count,
            InsightDaily.amount_minor,
        ).where(InsightDaily.workspace_id == workspace_id)
    ).all()
    return {(r.day, r.metric, r.key, r.currency): (r.count, r.amount_minor) for r in rows}


def rebuild(session: Session, workspace_id: int) -> int:
    """Recount a workspace's rollups from its event log (after a timezone change, or to
    repair them); returns how many rows were written."""
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    names = list(METRICS)
    events = session.execute(
        select(DomainEvent.id, DomainEvent.name, DomainEvent.data, DomainEvent.occurred_at).where(
            DomainEvent.workspace_id == workspace_id, DomainEvent.name.in_(names)
        )
    ).all()
    session.execute(delete(InsightDaily).where(InsightDaily.workspace_id == workspace_id))
    session.execute(delete(InsightApplied).where(InsightApplied.workspace_id == workspace_id))
    totals = from_scratch(
        ((e.name, e.data or {}, e.occurred_at) for e in events), workspace.timezone
    )
    for (day, metric, key, currency), (count, amount) in totals.items():
        session.add(
            InsightDaily(
                workspace_id=workspace_id,
                day=day,
                metric=metric,
                key=key,
                currency=currency,
                count=count,
                amount_minor=amount,
            )
        )
    for event in events:
        session.add(InsightApplied(event_id=event.id, workspace_id=workspace_id))
    session.flush()
    return len(totals)
