"""The insights' LTV calculator: what recovered customers paid since their recovery and
what they are expected to pay, with the survival curve it is projected from. Read from
``insight_ltv`` (kept by a worker, :mod:`app.insights.lifetime`); never computed here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..insights import charts, lifetime, ltv
from ..insights.models import InsightLtv


@dataclass(frozen=True)
class Row:
    estimate: InsightLtv
    chart: charts.Chart | None
    median_months: int | None
    retained_12: float | None


def context(session: Session, workspace_id: int, tz: str, *, now: dt.datetime) -> dict[str, Any]:
    marker, rows = lifetime.of_workspace(session, workspace_id)
    computed_at = marker.computed_at if marker else None
    queued = bool(
        marker
        and marker.requested_at
        and (computed_at is None or marker.requested_at > computed_at)
        and now - marker.requested_at < lifetime.STALE
    )
    return {
        "rows": [_row(r) for r in rows if r.customers],
        "computed_at": computed_at,
        "is_stale": computed_at is None or now - computed_at >= lifetime.STALE,
        "is_queued": queued,
        "is_sampled": bool(marker and marker.is_sampled),
        "limit": lifetime.LIMIT,
        "tz": tz,
    }


def _row(row: InsightLtv) -> Row:
    curve = list(row.curve or [])
    median = ltv.median_month(curve)
    retained = curve[12] if len(curve) > 12 else None
    return Row(row, _chart(row, curve) if len(curve) > 1 else None, median, retained)


def _chart(row: InsightLtv, curve: list[float]) -> charts.Chart:
    months = range(len(curve))  # every month: an even time axis
    observed = [round(curve[m] * 100, 1) if m <= row.observed_months else None for m in months]
    projected = [round(curve[m] * 100, 1) if m >= row.observed_months else None for m in months]
    return charts.line_chart(
        [
            charts.RateSeries("Still subscribed (seen)", "good", observed),
            charts.RateSeries("Projected", "neutral", projected),
        ],
        [charts.Bucket(str(m), f"{m} mo") for m in months],
        title=f"Recovered customers in {row.currency.upper()} still subscribed, months after",
        none_text="—",
        bucket_heading="Months after the recovery",
    )
