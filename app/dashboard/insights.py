"""The home dashboard's insights: what Backstop recovered, saved and won back, in charts
with their tables, read from ``app.insights.figures`` (the rollups). Builds the page's
context; the overview view renders it under the set-up checklist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..insights import charts, figures
from ..insights.figures import Figures
from ..money import format_money
from ..winback.policy import REASON_LABELS
from . import insights_holdout, insights_lift, insights_ltv
from .labels import LABELS

CLASSES = ("immediate", "scheduled", "customer_action", "no_recovery")
#: The activity feed in the merchant's words.
FEED_TEXT = {
    "recovery.campaign.started": "A renewal payment failed",
    "recovery.campaign.recovered": "Payment recovered",
    "recovery.campaign.lost": "Payment lost",
    "recovery.campaign.refunded": "Recovered payment refunded",
    "cancel.session.saved": "Customer saved from cancelling",
    "cancel.session.cancelled": "Customer cancelled through the flow",
    "winback.reactivated": "Customer won back",
    "winback.returned": "Customer came back on their own",
}


@dataclass(frozen=True)
class FeedItem:
    at: dt.datetime
    text: str
    detail: str
    customer: str | None
    tone: str


def period_of(value: str | None) -> str:
    return value if value in figures.PERIODS else figures.DEFAULT_PERIOD


def context(
    session: Session,
    workspace: Workspace,
    *,
    period: str,
    currency: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Everything the insights section shows, for the period (days) asked for."""
    days = figures.PERIODS[period_of(period)]
    today = figures.today_for(workspace.timezone, now)
    read = figures.read(session, workspace.id, days=days, today=today)
    currencies = read.currencies("recovered", "lost", "failed")
    shown = currency if currency in currencies else _main_currency(read, currencies)
    return {
        "period": period_of(period),
        "periods": list(figures.PERIODS),
        "figures": read,
        "rate": read.rate(),
        "at_risk": figures.at_risk(session, workspace.id),
        "currencies": currencies,
        "currency": shown,
        "money_chart": _money_chart(read, shown) if shown else None,
        "rate_chart": _rate_chart(read),
        "mix_chart": _mix_chart(read),
        "top_codes": _top_codes(read),
        "churn_chart": _churn_chart(session, workspace.id, today),
        "feed": [_feed_item(e) for e in figures.activity(session, workspace.id)],
        "has_data": any(read.totals[m].count for m in read.totals),
        "lift": insights_lift.context(session, workspace.id, read, shown),
        "holdout": insights_holdout.context(session, workspace.id, read),
        "ltv": insights_ltv.context(session, workspace.id, workspace.timezone, now=now),
    }


def _main_currency(read: Figures, currencies: list[str]) -> str | None:
    if not currencies:
        return None
    volume = {
        c: sum(read.totals[m].amounts.get(c, 0) for m in ("recovered", "lost", "failed"))
        for c in currencies
    }
    return max(currencies, key=lambda c: (volume[c], c))


def _buckets(read: Figures) -> list[charts.Bucket]:
    fmt = "Week of %b %-d" if read.unit == "week" else "%b %-d"
    return [charts.Bucket(b.start.isoformat(), b.start.strftime(fmt)) for b in read.buckets]


def _values(read: Figures, metric: str, currency: str) -> list[int]:
    per = read.series.get((metric, currency), {})
    return [per.get(b.start, 0) for b in read.buckets]


def _money_chart(read: Figures, currency: str) -> charts.Chart:
    return charts.bar_chart(
        [
            charts.Series("Recovered", "good", _values(read, "recovered", currency)),
            charts.Series("Lost", "bad", _values(read, "lost", currency)),
        ],
        _buckets(read),
        title=f"Recovered and lost payments in {currency.upper()}, per {read.unit}",
        money_currency=currency,
        stacked=False,
        bucket_heading=read.unit.capitalize(),
    )


def _rate_chart(read: Figures) -> charts.Chart:
    rates = [None if r is None else round(r * 100, 1) for r in read.rate_by_bucket()]
    return charts.line_chart(
        [charts.RateSeries("Recovery rate", "good", rates)],
        _buckets(read),
        title=f"Recovery rate per {read.unit}",
        none_text="nothing ended",
        bucket_heading=read.unit.capitalize(),
    )


def _mix_chart(read: Figures) -> charts.Chart:
    by_class = read.by_key.get("failed", {})
    slices = [
        charts.Slice(LABELS["class"][c], by_class[c].count, f"series-{i}")
        for i, c in enumerate(CLASSES, start=1)
        if c in by_class and by_class[c].count
    ]
    return charts.donut_chart(
        slices,
        title="Failed payments by kind of decline",
        total_label="failed",
        label_heading="Kind of decline",
        value_heading="Failed payments",
        empty_text="No failed payment",
    )


def _top_codes(read: Figures, limit: int = 8) -> list[tuple[str, int]]:
    by_code = read.by_key.get("failed_code", {})
    ranked = sorted(((k or "unknown", m.count) for k, m in by_code.items()), key=lambda r: -r[1])
    return ranked[:limit]


def _churn_chart(session: Session, workspace_id: int, today: dt.date) -> charts.Chart:
    months = figures.churn_by_month(session, workspace_id, today=today)
    buckets = [charts.Bucket(m.isoformat(), m.strftime("%b %Y")) for m, _v, _i in months]
    return charts.bar_chart(
        [
            charts.Series("Chose to leave", "neutral", [v for _m, v, _i in months]),
            charts.Series("Payment failed", "bad", [i for _m, _v, i in months]),
        ],
        buckets,
        title="Subscriptions that ended per month",
        money_currency=None,
        bucket_heading="Month",
    )


def _feed_item(event: Any) -> FeedItem:
    data = event.data or {}
    name = event.name
    if name.startswith("recovery."):
        amount = (
            data.get("refunded_minor")
            or data.get("recovered_minor")
            or data.get("amount_minor")
            or 0
        )
        detail = format_money(int(amount), data.get("currency"))
        if data.get("attribution"):
            detail += f" · {LABELS['attribution'].get(data['attribution'], data['attribution'])}"
    elif name.startswith("cancel."):
        detail = format_money(int(data.get("mrr_minor") or 0), data.get("currency")) + " a month"
        if data.get("reason"):
            detail += f" · {str(data['reason']).replace('_', ' ')}"
    else:
        regained = int(data.get("regained_mrr_minor") or 0)
        currency = data.get("regained_currency") or data.get("currency")
        detail = format_money(regained, currency) + " a month"
        detail += f" · {REASON_LABELS.get(str(data.get('reason')), 'other')}"
    tone = "good" if name.endswith(("recovered", "saved", "reactivated")) else "neutral"
    if name.endswith(("lost", "cancelled")):
        tone = "bad"
    return FeedItem(
        event.occurred_at, FEED_TEXT.get(name, name), detail, data.get("customer"), tone
    )
