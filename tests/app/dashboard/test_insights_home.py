"""The home dashboard's insights over HTTP: the empty state, figures from the rollups per
currency and period, the at-risk figure and the activity feed linking to customers, and
nothing of another workspace."""

from __future__ import annotations

import datetime as dt

from app.events import services as events
from app.extensions import db
from app.models import utcnow
from app.recovery.models import Campaign

from .. import factories as f


def emit(ws, name: str, days_ago: int = 1, **data) -> None:
    at = utcnow() - dt.timedelta(days=days_ago)
    events.emit(db.session, ws.id, name, subject="x:1", data=data, occurred_at=at)


def owner_of(web, name: str):
    user = f.user(f"{name.lower()}@example.com")
    ws = f.workspace(user, name)
    db.session.commit()
    f.login(web, user)
    return ws


def test_an_empty_workspace_says_how_figures_come(web, ctx) -> None:
    owner_of(web, "Empty")
    html = web.get("/dashboard").get_data(as_text=True)
    assert 'id="insights-empty"' in html and "Connect Stripe" in html


def test_figures_per_currency_and_period_with_a_feed(web, ctx) -> None:
    ws = owner_of(web, "Figures")
    other = f.workspace(f.user("other@example.com"), "Other")
    emit(
        ws,
        "recovery.campaign.started",
        decline_class="scheduled",
        decline_code="insufficient_funds",
        amount_minor=2900,
        currency="usd",
        customer="cus_a",
    )
    emit(
        ws,
        "recovery.campaign.recovered",
        attribution="retry",
        recovered_minor=2900,
        currency="usd",
        customer="cus_a",
    )
    emit(
        ws,
        "recovery.campaign.recovered",
        attribution="retry",
        recovered_minor=1500,
        currency="eur",
        customer="cus_b",
    )
    emit(
        ws,
        "recovery.campaign.lost",
        days_ago=40,
        decline_class="scheduled",
        amount_minor=900,
        currency="usd",
        customer="cus_c",
    )
    emit(
        ws,
        "cancel.session.saved",
        reason="too_expensive",
        mrr_minor=4900,
        currency="usd",
        customer="cus_d",
    )
    emit(
        other,
        "recovery.campaign.recovered",
        attribution="retry",
        recovered_minor=777700,
        currency="usd",
    )
    db.session.add(
        Campaign(
            workspace_id=ws.id,
            invoice_stripe_id="in_open",
            customer_stripe_id="cus_e",
            amount_minor=5000,
            currency="usd",
            decline_class="scheduled",
            state="in_flight",
            opened_at=utcnow(),
            last_failure_at=utcnow(),
            window_ends_at=utcnow() + dt.timedelta(days=30),
        )
    )
    db.session.commit()
    html = web.get("/dashboard").get_data(as_text=True)
    assert "29.00 USD" in html and "15.00 EUR" in html  # per currency, never summed
    assert "7,777.00" not in html  # nothing of the other workspace
    assert "100%" in html  # 2 recovered, the lost one is 40 days back
    assert "50.00 USD" in html  # at risk now
    assert "49.00 USD" in html  # saved MRR
    assert 'href="/customers/cus_a"' in html and "Payment recovered" in html
    assert "<svg" in html and 'class="chart-table"' in html and "insufficient_funds" in html
    assert 'aria-current="page">EUR' not in html and ">EUR</a>" in html  # a currency switch
    eur = web.get("/dashboard?currency=eur").get_data(as_text=True)
    assert "Recovered and lost payments in EUR" in eur
    quarter = web.get("/dashboard?period=90").get_data(as_text=True)
    assert "67%" in quarter  # 2 of 3 ended campaigns
    year = web.get("/dashboard?period=365&currency=nope").get_data(as_text=True)
    assert "per week" in year
    assert web.get("/dashboard?period=12345").status_code == 200  # the default period
