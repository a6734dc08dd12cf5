"""The dashboard's figures read from the rollups: per currency, bucketed by day or week
in the workspace's timezone, and consistent with the raw rows they summarise."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.events import services as events
from app.extensions import db
from app.insights import figures
from app.recovery.models import Campaign

from .. import factories as f
from ..recovery.shop import START, Shop

TODAY = dt.date(2026, 3, 31)


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def emit(workspace, name: str, when: dt.datetime, **data) -> None:
    events.emit(db.session, workspace.id, name, subject="x:1", data=data, occurred_at=when)


def test_totals_rate_and_buckets_per_currency(ctx) -> None:
    ws = f.workspace(name="Figures")
    emit(
        ws,
        "recovery.campaign.recovered",
        at(30),
        attribution="retry",
        recovered_minor=2900,
        currency="usd",
    )
    emit(
        ws,
        "recovery.campaign.recovered",
        at(29),
        attribution="card_update",
        recovered_minor=1000,
        currency="eur",
    )
    emit(
        ws,
        "recovery.campaign.lost",
        at(29),
        decline_class="scheduled",
        amount_minor=4900,
        currency="usd",
    )
    emit(
        ws,
        "recovery.campaign.lost",
        at(1),
        decline_class="scheduled",
        amount_minor=100,
        currency="usd",
    )
    emit(ws, "cancel.session.saved", at(15), reason="too_expensive", mrr_minor=2900, currency="usd")
    emit(ws, "winback.reactivated", at(20), reason="other", regained_mrr_minor=1500, currency="usd")
    db.session.commit()  # the hand-overs run after the commit
    week = figures.read(db.session, ws.id, days=7, today=TODAY)
    assert week.totals["recovered"].count == 2
    assert week.totals["recovered"].amounts == {"usd": 2900, "eur": 1000}  # never summed across
    assert week.totals["lost"].amounts == {"usd": 4900}  # the 1st is outside the week
    assert week.rate() == 2 / 3
    assert [b.start for b in week.buckets][-1] == TODAY and week.unit == "day"
    assert week.series[("recovered", "usd")][dt.date(2026, 3, 30)] == 2900
    month = figures.read(db.session, ws.id, days=30, today=TODAY)
    assert month.totals["saved"].amounts == {"usd": 2900} and month.totals["won_back"].count == 1
    assert month.totals["lost"].count == 1  # March 1 is 31 days back
    year = figures.read(db.session, ws.id, days=365, today=TODAY)
    assert year.unit == "week" and all(b.start.weekday() == 0 for b in year.buckets)
    assert year.totals["lost"].count == 2
    assert sum(year.series[("lost", "")].values()) == 2
    rates = week.rate_by_bucket()
    # None where nothing ended: the chart draws no zero there.
    assert rates[-3] == 0.5 and rates[-2] == 1.0 and rates[0] is None


def test_churn_by_month_splits_voluntary_and_involuntary(ctx) -> None:
    ws = f.workspace(name="Churn")
    emit(ws, "subscription.ended", at(3), kind="voluntary", mrr_minor=100, currency="usd")
    emit(ws, "subscription.ended", at(4), kind="involuntary", mrr_minor=100, currency="usd")
    emit(ws, "subscription.ended", at(5), kind="voluntary", mrr_minor=100, currency="usd")
    db.session.commit()
    months = figures.churn_by_month(db.session, ws.id, today=TODAY, months=3)
    assert months[-1] == (dt.date(2026, 3, 1), 2, 1)
    assert [m for m, _v, _i in months] == [
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    ]


def test_figures_match_the_campaigns_of_a_real_month(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    for card in (
        "pm_card_visa",
        "pm_card_sandbox_insufficient_funds",
        "pm_card_sandbox_insufficient_funds_recover1",
    ):
        shop.subscribe(card)
    shop.advance(days=31)
    shop.advance(days=31)
    today = figures.today_for("UTC", shop.now)
    read = figures.read(db.session, shop.workspace.id, days=90, today=today)
    for state in ("recovered", "lost"):
        raw = db.session.execute(
            select(func.count())
            .select_from(Campaign)
            .where(Campaign.workspace_id == shop.workspace.id, Campaign.state == state)
        ).scalar_one()
        assert read.totals[state].count == raw, state
    opened = db.session.execute(
        select(func.count()).select_from(Campaign).where(Campaign.workspace_id == shop.workspace.id)
    ).scalar_one()
    assert read.totals["failed"].count == opened >= 2
    assert figures.at_risk(db.session, shop.workspace.id) == {
        c.currency: (1, c.amount_minor)
        for c in db.session.execute(
            select(Campaign).where(
                Campaign.workspace_id == shop.workspace.id, Campaign.state == "in_flight"
            )
        ).scalars()
    }
    assert shop.now > START
