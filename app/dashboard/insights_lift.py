"""The insights' lift and return: recovered with Backstop against what the merchant's
own rate before Backstop would have recovered of the same failures, and what Backstop
brought against what it costs. Built for the home dashboard's insights section
(``_insights_lift.html``), from the period's figures and ``app.insights.lift``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..insights import baseline as baseline_service
from ..insights import lift as rules
from ..insights.figures import Figures
from ..insights.models import InsightBaseline
from ..stripe import connection as connection_service


@dataclass(frozen=True)
class Baseline:
    """The baseline of the shown currency, as the method sentence needs it."""

    currency: str
    rate: float
    failed_count: int
    imported_on: dt.date
    days: int


def context(
    session: Session, workspace_id: int, read: Figures, currency: str | None
) -> dict[str, Any]:
    """The lift of the shown currency over the period, the state of the baseline when
    there is none to apply, and the return on the monthly cost."""
    rows = {r.currency: r for r in baseline_service.of_workspace(session, workspace_id)}
    row = rows.get(currency or "")
    state = _state(session, workspace_id, rows, row)
    lift = None
    if state == "ready" and currency and row is not None:
        failed, recovered = read.totals["failed"], read.totals["recovered"]
        lift = rules.lift(
            currency,
            recovered=(recovered.counts.get(currency, 0), recovered.amounts.get(currency, 0)),
            failed=(failed.counts.get(currency, 0), failed.amounts.get(currency, 0)),
            baseline=(row.failed_count, row.recovered_count),
        )
    return {
        "state": state,
        "currency": currency,
        "baseline": _baseline(row) if state == "ready" and row is not None else None,
        "lift": lift,
        **_returns(session, workspace_id, read),
    }


def _state(
    session: Session,
    workspace_id: int,
    rows: dict[str, InsightBaseline],
    row: InsightBaseline | None,
) -> str:
    """``ready``; ``pending`` (no import done yet); ``nothing_failed`` (the history had no
    failed renewal); ``other_currency`` (none in the shown currency)."""
    if not rows:
        connection = connection_service.of_workspace(session, workspace_id)
        done = connection is not None and connection.import_status == "done"
        return "not_computed" if done else "pending"
    if set(rows) == {""}:
        return "nothing_failed"
    if row is None or row.failed_count <= 0:
        return "other_currency"
    return "ready"


def _baseline(row: InsightBaseline) -> Baseline:
    return Baseline(
        row.currency,
        row.recovered_count / row.failed_count,
        row.failed_count,
        row.computed_at.date(),
        (row.window_end_at - row.window_start_at).days + baseline_service.WINDOW_DAYS,
    )


def _returns(session: Session, workspace_id: int, read: Figures) -> dict[str, Any]:
    settings = rules.settings_of(session, workspace_id)
    monthly = settings.monthly_cost_minor if settings else None
    cost_currency = settings.cost_currency if settings else None
    if monthly is None or not cost_currency:
        return {"cost": None, "cost_text": "", "returns": None, "uncompared": []}
    totals = read.totals
    returns = rules.Return(
        cost_currency,
        totals["recovered"].amounts.get(cost_currency, 0),
        totals["saved"].amounts.get(cost_currency, 0),
        totals["won_back"].amounts.get(cost_currency, 0),
        rules.period_cost(monthly, read.days),
    )
    others = set(read.currencies("recovered", "saved", "won_back")) - {cost_currency}
    return {
        "cost": (monthly, cost_currency),
        "cost_text": rules.cost_text(monthly, cost_currency),
        "returns": returns,
        "uncompared": sorted(others),
    }
