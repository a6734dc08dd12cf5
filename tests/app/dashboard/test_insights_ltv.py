"""The LTV calculator on the home dashboard: the estimate per currency with its curve
and method, the empty states, and asking for a computation (queued once, CSRF)."""

from __future__ import annotations

import datetime as dt
from html import unescape

from sqlalchemy import select

from app.events import services as events
from app.extensions import db
from app.insights import ltv
from app.insights.models import InsightLtv
from app.models import utcnow

from .. import factories as f
from ..forms import submit


def owner_of(web, name: str):
    """An owner signed in, with a recovery in the period (the insights show)."""
    user = f.user(f"{name.lower()}@example.com")
    ws = f.workspace(user, name)
    events.emit(db.session, ws.id, "recovery.campaign.recovered", subject="x:1",
                data={"attribution": "retry", "recovered_minor": 2900, "currency": "usd"},
                occurred_at=utcnow() - dt.timedelta(days=1))  # fmt: skip
    db.session.commit()
    f.login(web, user)
    return ws


def card(web) -> str:
    response = web.get("/dashboard")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    start = html.index('id="insights-ltv"')
    return html[start : html.index('id="mix-chart"', start)]


def test_the_estimate_with_its_curve_per_currency(web, ctx) -> None:
    ws = owner_of(web, "Lasting")
    now = utcnow()
    curve = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45] + [0.45 * 0.95**k for k in range(1, 19)]
    db.session.add_all(
        [
            InsightLtv(workspace_id=ws.id, currency="", curve=[], computed_at=now),
            InsightLtv(workspace_id=ws.id, currency="usd", customers=12, still_subscribed=7,
                       realized_minor=58000, months_paid=20, projected_minor=91000, curve=curve,
                       observed_months=6, horizon_months=ltv.HORIZON_MONTHS, computed_at=now),
            InsightLtv(workspace_id=ws.id, currency="eur", customers=1, still_subscribed=1,
                       realized_minor=2900, months_paid=1, projected_minor=60000,
                       curve=[1.0] * 25, observed_months=1, computed_at=now),
        ]
    )  # fmt: skip
    db.session.commit()
    html = card(web)
    assert "580.00 USD" in html and "910.00 USD" in html and "1,490.00 USD" in html
    assert "12 customers, 20 months paid" in html and "7 still subscribed" in html
    assert "half had left by month 5" in html
    assert "seen up to month 6" in html and "An estimate." in html
    assert "29.00 EUR" in html and "629.00 EUR" in html  # never added to USD
    assert "<svg" in html and "Months after the recovery" in html  # the curve and its table
    assert 'id="ltv-compute"' not in html  # fresh: nothing to ask for


def test_empty_states_and_asking_for_a_computation(web, ctx) -> None:
    ws = owner_of(web, "Fresh")
    html = card(web)
    assert "Not computed yet." in html and 'id="ltv-compute"' in html
    response = submit(web, "/dashboard/insights/ltv", {"period": "30"}, page="/dashboard")
    assert response.status_code == 302 and response.location.endswith("#insights-ltv")
    marker = db.session.execute(
        select(InsightLtv).where(InsightLtv.workspace_id == ws.id, InsightLtv.currency == "")
    ).scalar_one()
    # The task ran (eagerly here): nothing recovered to follow yet.
    assert marker.requested_at is not None and marker.computed_at >= marker.requested_at
    assert "No recovered customer to follow yet" in card(web)
    marker.computed_at = utcnow() - dt.timedelta(days=2)
    marker.requested_at = marker.computed_at - dt.timedelta(minutes=1)
    db.session.commit()
    assert "Recompute now" in card(web)
    marker.requested_at = utcnow()  # asked for, and a worker has not run it yet
    db.session.commit()
    html = card(web)
    assert "Being computed" in html and 'id="ltv-compute"' not in html


def test_asking_without_the_form_token_is_refused(web, ctx) -> None:
    ws = owner_of(web, "Forged")
    response = web.post("/dashboard/insights/ltv", data={})
    assert response.status_code == 400
    assert not db.session.execute(
        select(InsightLtv).where(InsightLtv.workspace_id == ws.id)
    ).first()
