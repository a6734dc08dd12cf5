"""The LTV of recovered customers: the survival curve's laws, a textbook Kaplan-Meier
case, the projection, and a year on the sandbox where recovered customers renew, one
leaves, and the estimate follows."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.insights import lifetime, ltv
from app.insights.models import InsightLtv

from .. import factories as f
from ..recovery.shop import Shop

MEMBERS = st.lists(
    st.builds(
        ltv.Member,
        currency=st.sampled_from(["usd", "eur"]),
        age_months=st.floats(0, 40, allow_nan=False),
        ended=st.booleans(),
        monthly_minor=st.integers(0, 10**6),
        realized_minor=st.integers(0, 10**7),
        months_paid=st.integers(0, 40),
    ),
    max_size=40,
)


@given(members=MEMBERS, horizon=st.integers(1, 36))
def test_the_curve_starts_whole_never_rises_and_stays_a_share(members, horizon) -> None:
    curve, observed = ltv.survival_curve(members, horizon)
    assert len(curve) == horizon + 1 and curve[0] == 1.0
    assert all(0.0 <= s <= 1.0 for s in curve)
    assert all(a >= b for a, b in itertools.pairwise(curve))
    assert 0 <= observed <= horizon


@given(members=MEMBERS)
def test_the_estimate_adds_up_per_currency_and_never_projects_the_gone(members) -> None:
    out = ltv.estimate(members)
    for currency, e in out.items():
        mine = [m for m in members if m.currency == currency]
        assert e.customers == len(mine)
        assert e.realized_minor == sum(m.realized_minor for m in mine)
        assert e.still_subscribed == sum(not m.ended for m in mine)
        # Nobody pays more than their price for every month left to the horizon.
        most = sum(
            m.monthly_minor * max(0, ltv.HORIZON_MONTHS - math.floor(m.age_months))
            for m in mine
            if not m.ended
        )
        assert 0 <= e.projected_minor <= most + len(mine)
    assert set(out) == {m.currency for m in members}


def test_a_textbook_kaplan_meier() -> None:
    members = [
        ltv.Member("usd", 0.5, True, 1000, 0, 0),
        ltv.Member("usd", 1.5, False, 1000, 1000, 1),
        ltv.Member("usd", 2.5, True, 1000, 2000, 2),
        ltv.Member("usd", 3.5, False, 1000, 3000, 3),
    ]
    curve, observed = ltv.survival_curve(members, horizon=6)
    assert observed == 4  # someone was still followed in month 4
    assert curve[:5] == pytest.approx([1.0, 0.75, 0.75, 0.375, 0.375])
    # Past the data, the average hazard: 2 churns in 8 months followed.
    assert curve[5] == pytest.approx(0.375 * 0.75) and curve[6] == pytest.approx(0.375 * 0.75**2)
    # Still there at 3.5 months: months 4, 5, 6 at S(k) / S(3).
    ahead = ltv.expected_months_ahead(curve, 3.5)
    assert ahead == pytest.approx(1 + 0.75 + 0.75**2)
    assert ltv.expected_months_ahead(curve, 6.2) == 0.0


def test_with_no_churn_everyone_pays_to_the_horizon() -> None:
    [e] = ltv.estimate([ltv.Member("eur", 2.2, False, 2900, 5800, 2)]).values()
    assert e.curve == [1.0] * (ltv.HORIZON_MONTHS + 1)
    assert e.projected_minor == 2900 * (ltv.HORIZON_MONTHS - 2)
    assert e.total_minor == 5800 + e.projected_minor and e.median_months is None


def test_recovered_customers_are_followed_on_the_sandbox(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    stays = shop.subscribe("pm_card_sandbox_insufficient_funds_recover1")
    leaves = shop.subscribe("pm_card_sandbox_insufficient_funds_recover1")
    shop.subscribe("pm_card_visa")  # never failed: not a recovered customer
    shop.advance(days=31)
    shop.advance(days=10)
    assert shop.campaign(stays.id).state == shop.campaign(leaves.id).state == "recovered"
    shop.advance(days=31)
    shop.advance(days=31)  # two renewals paid since the recovery
    shop.client.v1.subscriptions.cancel(leaves.id)
    shop.catch_up()

    estimates = lifetime.compute(db.session, shop.workspace.id, now=shop.now)
    e = estimates["usd"]
    assert (e.customers, e.still_subscribed) == (2, 1)
    assert e.realized_minor == 4 * 2900 and e.months_paid == 4
    assert 0 < e.curve[ltv.HORIZON_MONTHS] < 1  # one of two left: churn seen
    assert 0 < e.projected_minor < 2900 * ltv.HORIZON_MONTHS
    rows = db.session.execute(
        select(InsightLtv).where(InsightLtv.workspace_id == shop.workspace.id)
    ).scalars()
    stored = {r.currency: r for r in rows}
    assert set(stored) == {"", "usd"} and stored[""].computed_at == shop.now
    assert stored["usd"].projected_minor == e.projected_minor
    # Computed again: replaced, not added.
    lifetime.compute(db.session, shop.workspace.id, now=shop.now)
    assert len(lifetime.of_workspace(db.session, shop.workspace.id)[1]) == 1


def test_a_computation_is_asked_for_once_until_it_runs_or_goes_stale(ctx) -> None:
    ws = f.workspace(name="Asked")
    now = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    assert lifetime.request(db.session, ws.id, now=now) is True
    assert lifetime.request(db.session, ws.id, now=now + dt.timedelta(minutes=5)) is False
    assert lifetime.request(db.session, ws.id, now=now + dt.timedelta(minutes=20)) is True
    lifetime.compute(db.session, ws.id, now=now + dt.timedelta(minutes=21))
    assert lifetime.request(db.session, ws.id, now=now + dt.timedelta(hours=5)) is False
    assert lifetime.request(db.session, ws.id, now=now + dt.timedelta(hours=25)) is True
    db.session.rollback()
