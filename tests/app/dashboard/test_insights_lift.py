"""The home dashboard's lift and return over HTTP: recovered with Backstop against the
baseline applied to the period's failures, per currency; what it says without a
baseline; the monthly cost form (saved, refused with nothing saved, viewers refused) and
the return against it, never across currencies."""

from __future__ import annotations

import datetime as dt
from html import unescape

from sqlalchemy import select

from app.events import services as events
from app.extensions import db
from app.insights.models import InsightBaseline, InsightSettings
from app.models import utcnow

from .. import factories as f
from ..forms import csrf_token, submit

TIMES = "\N{MULTIPLICATION SIGN}"
IMPORTED_ON = dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)


def emit(ws, name: str, **data) -> None:
    at = utcnow() - dt.timedelta(days=1)
    events.emit(db.session, ws.id, name, subject="x:1", data=data, occurred_at=at)


def owner_of(web, name: str):
    user = f.user(f"{name.lower()}@example.com")
    ws = f.workspace(user, name)
    db.session.commit()
    f.login(web, user)
    return ws


def a_baseline(ws, currency: str = "usd", failed: int = 10, recovered: int = 4) -> None:
    db.session.add(
        InsightBaseline(
            workspace_id=ws.id,
            currency=currency,
            failed_count=failed,
            failed_minor=failed * 1000,
            recovered_count=recovered,
            recovered_minor=recovered * 1000,
            window_start_at=IMPORTED_ON - dt.timedelta(days=90),
            window_end_at=IMPORTED_ON - dt.timedelta(days=30),
            computed_at=IMPORTED_ON,
        )
    )


def a_period(ws) -> None:
    """3 renewals failed in USD (30.00), 2 recovered (20.00), one recovered in EUR."""
    for n in range(3):
        emit(ws, "recovery.campaign.started", decline_class="scheduled", amount_minor=1000,
             currency="usd", customer=f"cus_{n}")  # fmt: skip
    for n in range(2):
        emit(ws, "recovery.campaign.recovered", attribution="retry", recovered_minor=1000,
             currency="usd", customer=f"cus_{n}")  # fmt: skip
    emit(ws, "recovery.campaign.recovered", attribution="retry", recovered_minor=1500,
         currency="eur", customer="cus_e")  # fmt: skip
    emit(ws, "cancel.session.saved", reason="too_expensive", mrr_minor=4900, currency="usd")


def page(web, query: str = "") -> str:
    response = web.get(f"/dashboard{query}")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_recovered_with_backstop_against_the_baseline_applied_to_the_period(web, ctx) -> None:
    ws = owner_of(web, "Lifted")
    f.connection(ws)
    a_baseline(ws)
    a_period(ws)
    db.session.commit()
    html = page(web)
    lift = html[html.index('id="insights-lift"') : html.index('id="insights-roi"')]
    assert "Recovered with Backstop" in lift and "20.00 USD" in lift and "2 payments" in lift
    assert "Expected without Backstop" in lift and "12.00 USD" in lift  # 30.00 at 40%
    assert f"3 failed {TIMES} 40% \N{ALMOST EQUAL TO} 1.2 payments" in lift
    assert "+8.00 USD" in lift and "+0.8 payments" in lift
    assert (
        "Before Backstop, Stripe's retries and your customers paid back 40% of failed renewals"
        " within 30 days (10 failed in USD, from the 90 days imported on Apr 1, 2026); we apply"
        " that rate to the renewals that failed in this period." in lift
    )
    eur = page(web, "?currency=eur")
    eur_lift = eur[eur.index('id="insights-lift"') : eur.index('id="insights-roi"')]
    assert 'data-state="other_currency"' in eur_lift and "No baseline in EUR" in eur_lift
    assert "12.00 USD" not in eur_lift


def test_without_a_baseline_the_section_says_why(web, ctx) -> None:
    ws = owner_of(web, "Waiting")
    a_period(ws)
    db.session.commit()
    assert 'data-state="pending"' in page(web)  # not connected: no import yet
    conn = f.connection(ws)
    conn.import_status = "running"
    db.session.commit()
    html = page(web)
    assert 'data-state="pending"' in html and "once the import from Stripe is done" in html
    conn.import_status = "done"
    db.session.commit()
    assert 'data-state="not_computed"' in page(web)
    db.session.add(
        InsightBaseline(
            workspace_id=ws.id,
            currency="",
            window_start_at=IMPORTED_ON - dt.timedelta(days=90),
            window_end_at=IMPORTED_ON - dt.timedelta(days=30),
            computed_at=IMPORTED_ON,
        )
    )
    db.session.commit()
    html = page(web)
    assert 'data-state="nothing_failed"' in html and "no renewal failed" in html
    assert "Expected without Backstop" not in html


def stored(ws) -> InsightSettings | None:
    db.session.expire_all()
    return db.session.execute(
        select(InsightSettings).where(InsightSettings.workspace_id == ws.id)
    ).scalar_one_or_none()


def test_the_monthly_cost_gives_the_return_in_its_currency_only(web, ctx) -> None:
    ws = owner_of(web, "Paying")
    a_period(ws)
    db.session.commit()
    assert 'id="roi-empty"' in page(web)
    form = {"amount": "10.00", "currency": "USD", "period": "30"}
    saved = submit(web, "/dashboard/insights/cost", form, page="/dashboard")
    assert saved.status_code == 302 and saved.location.endswith("#insights-roi")
    row = stored(ws)
    assert row is not None and (row.monthly_cost_minor, row.cost_currency) == (1000, "usd")
    html = page(web)
    roi = html[html.index('id="insights-roi"') : html.index('id="money-chart"')]
    assert "9.86 USD" in roi  # 10.00 a month for 30 days
    assert "20.00 USD" in roi and "49.00 USD" in roi and "69.00 USD" in roi
    assert f"7.0{TIMES}" in roi  # 69.00 / 9.86
    assert "Figures in EUR are not compared with your cost in USD" in roi
    assert "15.00 EUR" not in roi
    assert 'name="amount" inputmode="decimal" size="10" value="10.00"' in roi
    year = page(web, "?period=365")
    assert "120.00 USD" in year[year.index('id="insights-roi"') :]
    submit(web, "/dashboard/insights/cost", {"amount": "", "currency": "usd"}, page="/dashboard")
    assert stored(ws).monthly_cost_minor is None
    assert 'id="roi-empty"' in page(web)


def test_a_bad_cost_is_refused_with_its_error_and_nothing_saved(web, ctx) -> None:
    ws = owner_of(web, "Typo")
    a_period(ws)
    db.session.commit()
    submit(web, "/dashboard/insights/cost", {"amount": "25", "currency": "eur"}, page="/dashboard")
    for amount, currency, error in [
        ("abc", "usd", "must be a number"),
        ("-5", "usd", "must be above 0"),
        ("1.234", "usd", "at most 2 decimal digits"),
        ("10.5", "jpy", "at most 0 decimal digits"),
        ("10", "us", "three-letter code"),
        ("99999999999", "usd", "must be above 0 and at most"),
    ]:
        response = submit(web, "/dashboard/insights/cost", {"amount": amount, "currency": currency},
                          page="/dashboard")  # fmt: skip
        assert response.status_code == 400, (amount, currency)
        html = unescape(response.get_data(as_text=True))
        assert 'id="cost-errors"' in html and error in html and "Nothing was saved." in html
        assert f'value="{amount}"' in html  # what was typed, shown back
        row = stored(ws)
        assert (row.monthly_cost_minor, row.cost_currency) == (2500, "eur")


def test_a_viewer_sees_the_return_but_cannot_set_the_cost(web, ctx) -> None:
    ws = f.workspace(f.user("boss@example.com"), "Watched")
    viewer = f.member(ws, "viewer", "viewer@example.com")
    a_period(ws)
    db.session.commit()
    f.login(web, viewer)
    html = page(web)
    assert 'id="insights-roi"' in html and 'id="cost-form"' not in html
    token = csrf_token(web, "/dashboard")
    response = web.post(
        "/dashboard/insights/cost", data={"amount": "10", "currency": "usd", "csrf_token": token}
    )
    assert response.status_code == 403
    assert stored(ws) is None


def test_a_period_without_failures_has_nothing_to_compare(web, ctx) -> None:
    ws = owner_of(web, "Calm")
    f.connection(ws)
    a_baseline(ws)
    emit(ws, "cancel.session.saved", reason="too_expensive", mrr_minor=4900, currency="usd")
    db.session.commit()
    html = page(web)
    assert 'data-state="no_failures"' in html and "Expected without Backstop" not in html
