"""The dashboard's figures, read from the rollups (one grouped query per page) and,
for what is open now, from the open campaigns; never a scan of the raw rows.

Amounts stay per currency: a workspace billing in two currencies sees two figures.
Days are the workspace's (the rollups are bucketed in its timezone).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..events.models import DomainEvent
from ..recovery.models import IN_FLIGHT, Campaign
from ..times import zone
from .models import InsightDaily

PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
DEFAULT_PERIOD = "30"
#: The events the activity feed shows, newest first.
FEED = (
    "recovery.campaign.started",
    "recovery.campaign.recovered",
    "recovery.campaign.lost",
    "recovery.campaign.refunded",
    "cancel.session.saved",
    "cancel.session.cancelled",
    "winback.reactivated",
    "winback.returned",
)
SHOWN = (
    "failed",
    "failed_code",
    "recovered",
    "refunded",
    "lost",
    "saved",
    "cancelled",
    "won_back",
    "returned",
    "churned",
    "holdout_failed",
    "holdout_recovered",
    "holdout_lost",
    "treated_recovered",
    "treated_lost",
)


@dataclass(frozen=True)
class Bucket:
    start: dt.date
    label: str


def buckets(today: dt.date, days: int) -> tuple[list[Bucket], str]:
    """The chart's buckets for the last ``days`` days up to ``today``: days for up to
    90 days, weeks (starting Monday) beyond."""
    first = today - dt.timedelta(days=days - 1)
    if days <= 90:
        return [
            Bucket(first + dt.timedelta(days=i), (first + dt.timedelta(days=i)).strftime("%b %-d"))
            for i in range(days)
        ], "day"
    start = first - dt.timedelta(days=first.weekday())
    weeks = []
    while start <= today:
        weeks.append(Bucket(start, start.strftime("%b %-d")))
        start += dt.timedelta(days=7)
    return weeks, "week"


def bucket_of(day: dt.date, unit: str) -> dt.date:
    return day if unit == "day" else day - dt.timedelta(days=day.weekday())


@dataclass
class Money:
    """Counts and amounts per currency."""

    count: int = 0
    amounts: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    """How many of ``count`` were in each currency."""

    def add(self, count: int, currency: str, amount: int) -> None:
        self.count += count
        if currency:
            self.amounts[currency] = self.amounts.get(currency, 0) + amount
            self.counts[currency] = self.counts.get(currency, 0) + count


@dataclass
class Figures:
    days: int
    unit: str
    buckets: list[Bucket]
    totals: dict[str, Money]
    """Per metric over the period."""
    by_key: dict[str, dict[str, Money]]
    """Per metric and key (decline class, reason, attribution...)."""
    series: dict[tuple[str, str], dict[dt.date, int]]
    """(metric, currency) -> bucket start -> amount; (metric, "") -> counts."""

    def rate(self) -> float | None:
        """Recovered out of the campaigns that ended (recovered or lost) in the period."""
        done = self.totals["recovered"].count + self.totals["lost"].count
        return self.totals["recovered"].count / done if done else None

    def rate_by_bucket(self) -> list[float | None]:
        out = []
        for bucket in self.buckets:
            won = self.series.get(("recovered", ""), {}).get(bucket.start, 0)
            lost = self.series.get(("lost", ""), {}).get(bucket.start, 0)
            out.append(won / (won + lost) if won + lost else None)
        return out

    def currencies(self, *metrics: str) -> list[str]:
        found = {c for m in metrics for c in self.totals[m].amounts}
        return sorted(found)


def today_for(tz: str, now: dt.datetime) -> dt.date:
    return now.astimezone(zone(tz)).date()


#: The metrics drawn over time (the others are shown as totals only).
CHARTED = ("recovered", "refunded", "lost")


def read(session: Session, workspace_id: int, *, days: int, today: dt.date) -> Figures:
    """Every figure of the period from the rollups, summed in SQL to what the page shows:
    totals per metric, key and currency, and the charted metrics per day and currency
    (a year is a few hundred rows, whatever the workspace's size)."""
    shown, unit = buckets(today, days)
    first = today - dt.timedelta(days=days - 1)
    period = (
        (InsightDaily.workspace_id == workspace_id)
        & (InsightDaily.day >= first)
        & (InsightDaily.day <= today)
    )
    rows = session.execute(
        select(
            InsightDaily.metric,
            InsightDaily.key,
            InsightDaily.currency,
            func.sum(InsightDaily.count),
            func.sum(InsightDaily.amount_minor),
        )
        .where(period, InsightDaily.metric.in_(SHOWN))
        .group_by(InsightDaily.metric, InsightDaily.key, InsightDaily.currency)
    ).all()
    totals: dict[str, Money] = defaultdict(Money)
    by_key: dict[str, dict[str, Money]] = defaultdict(lambda: defaultdict(Money))
    for metric, key, currency, count, amount in rows:
        count, amount = int(count or 0), int(amount or 0)
        totals[metric].add(count, currency, amount)
        by_key[metric][key].add(count, currency, amount)
    daily = session.execute(
        select(
            InsightDaily.metric,
            InsightDaily.day,
            InsightDaily.currency,
            func.sum(InsightDaily.count),
            func.sum(InsightDaily.amount_minor),
        )
        .where(period, InsightDaily.metric.in_(CHARTED))
        .group_by(InsightDaily.metric, InsightDaily.day, InsightDaily.currency)
    ).all()
    series: dict[tuple[str, str], dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for metric, day, currency, count, amount in daily:
        start = bucket_of(day, unit)
        series[(metric, "")][start] += int(count or 0)
        if currency:
            series[(metric, currency)][start] += int(amount or 0)
    for metric in SHOWN:
        totals.setdefault(metric, Money())
    net_of_refunds(totals, by_key, series)
    return Figures(days, unit, shown, dict(totals), by_key, series)


def net_of_refunds(
    totals: dict[str, Money],
    by_key: dict[str, dict[str, Money]],
    series: dict[tuple[str, str], dict[dt.date, int]],
) -> None:
    """Take the refunds off the amounts recovered: in total, per attribution and per
    day (a refund counts on the day of the recovery it takes back). The counts stay:
    a refunded recovery was still recovered; ``refunded`` keeps what was taken back."""
    recovered = totals["recovered"].amounts
    for currency, amount in totals["refunded"].amounts.items():
        recovered[currency] = recovered.get(currency, 0) - amount
    for key, money in by_key.get("refunded", {}).items():
        mine = by_key["recovered"][key].amounts
        for currency, amount in money.amounts.items():
            mine[currency] = mine.get(currency, 0) - amount
    for (metric, currency), days in list(series.items()):
        if metric == "refunded" and currency:
            line = series[("recovered", currency)]
            for day, amount in days.items():
                line[day] = line.get(day, 0) - amount


def at_risk(session: Session, workspace_id: int) -> dict[str, tuple[int, int]]:
    """What the open campaigns are collecting now: currency -> (campaigns, amount)."""
    rows = session.execute(
        select(Campaign.currency, func.count(), func.sum(Campaign.amount_minor))
        .where(Campaign.workspace_id == workspace_id, Campaign.state == IN_FLIGHT)
        .group_by(Campaign.currency)
    ).all()
    return {currency: (int(n), int(total or 0)) for currency, n, total in rows}


def activity(session: Session, workspace_id: int, *, limit: int = 15) -> list[DomainEvent]:
    """The latest events across the three loops (newest first)."""
    return list(
        session.execute(
            select(DomainEvent)
            .where(DomainEvent.workspace_id == workspace_id, DomainEvent.name.in_(FEED))
            .order_by(DomainEvent.created_at.desc(), DomainEvent.id.desc())
            .limit(limit)
        ).scalars()
    )


def churn_by_month(
    session: Session, workspace_id: int, *, today: dt.date, months: int = 6
) -> list[tuple[dt.date, int, int]]:
    """(month, voluntary, involuntary) ended subscriptions for the last ``months``."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    first = dt.date(index // 12, index % 12 + 1, 1)
    rows = session.execute(
        select(InsightDaily.day, InsightDaily.key, func.sum(InsightDaily.count))
        .where(
            InsightDaily.workspace_id == workspace_id,
            InsightDaily.metric == "churned",
            InsightDaily.day >= first,
            InsightDaily.day <= today,
        )
        .group_by(InsightDaily.day, InsightDaily.key)
    ).all()
    per: dict[dt.date, list[int]] = {}
    month = first
    while month <= today:
        per[month] = [0, 0]
        month = (month + dt.timedelta(days=32)).replace(day=1)
    for day, key, count in rows:
        slot = per.setdefault(day.replace(day=1), [0, 0])
        slot[0 if key == "voluntary" else 1] += int(count or 0)
    return [(m, v, i) for m, (v, i) in sorted(per.items())]
