"""The holdout over HTTP: the setting under Retry policy (saved and audited, refused
with a 400 and nothing saved, viewers refused), and the measured lift on the home
dashboard's insights while a holdout is on or was."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.events import services as events
from app.extensions import db
from app.models import utcnow
from app.recovery import config

from .. import factories as f
from ..forms import submit

PAGE = "/settings/recovery"


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@holdout.example")
    ws = f.workspace(owner, "Control Co")
    viewer = f.member(ws, "viewer", "viewer@holdout.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_setting_is_off_by_default_and_says_what_it_costs(web, shop) -> None:
    html = text(web.get(PAGE))
    section = html[html.index('id="holdout"') :]
    assert "Measure the lift" in section
    assert "get no help from Backstop" in section
    assert 'name="percent"' in section and 'value="0"' in section
    # No campaign has seen Stripe retry: held-out payments would get no retries at all.
    assert 'id="holdout-no-stripe-retries"' in html


def test_an_owner_sets_the_share_audited_and_the_salt_is_made_once(web, shop) -> None:
    ws = shop["ws"]
    response = submit(web, f"{PAGE}/holdout", {"percent": "5"}, page=PAGE)
    assert response.status_code == 302
    db.session.expire_all()
    percent, salt = config.holdout_of(db.session, ws.id)
    assert percent == 5 and salt and len(salt) == 64
    assert salt not in text(web.get(PAGE))  # never shown
    submit(web, f"{PAGE}/holdout", {"percent": "0"}, page=PAGE)
    submit(web, f"{PAGE}/holdout", {"percent": "10"}, page=PAGE)
    db.session.expire_all()
    assert config.holdout_of(db.session, ws.id) == (10, salt)
    audits = db.session.execute(
        select(AuditEntry)
        .where(AuditEntry.action == "recovery.holdout_saved")
        .order_by(AuditEntry.id)
    ).scalars()
    assert [(a.details["was"], a.details["percent"]) for a in audits] == [(0, 5), (5, 0), (0, 10)]


@pytest.mark.parametrize("bad", ["21", "-3", "five", "", "2.5"])
def test_a_bad_share_is_a_400_and_changes_nothing(web, shop, bad) -> None:
    submit(web, f"{PAGE}/holdout", {"percent": "5"}, page=PAGE)
    response = submit(web, f"{PAGE}/holdout", {"percent": bad}, page=PAGE)
    assert response.status_code == 400
    assert 'id="holdout-errors"' in text(response)
    db.session.expire_all()
    assert config.holdout_of(db.session, shop["ws"].id)[0] == 5


def test_a_viewer_cannot_change_the_share(web, shop) -> None:
    f.login(web, shop["viewer"])
    response = submit(web, f"{PAGE}/holdout", {"percent": "5"}, page=PAGE)
    assert response.status_code == 403
    db.session.expire_all()
    assert config.holdout_of(db.session, shop["ws"].id)[0] == 0


def emit(ws, name: str, **data) -> None:
    at = utcnow() - dt.timedelta(days=1)
    events.emit(db.session, ws.id, name, subject="x:1", data=data, occurred_at=at)


def ended(ws, n: int, state: str, *, held: bool) -> None:
    for _ in range(n):
        facts = {"currency": "usd", "amount_minor": 1000, "decline_class": "scheduled"}
        facts |= {"is_holdout": held, "holdout_percent": 10}
        emit(ws, "recovery.campaign.started", **facts)
        if state == "recovered":
            facts |= {"attribution": "retry", "recovered_minor": 1000}
        emit(ws, f"recovery.campaign.{state}", **facts)


def dashboard(web) -> str:
    response = web.get("/dashboard")
    assert response.status_code == 200
    return text(response)


def test_no_holdout_section_without_a_holdout(web, shop) -> None:
    ended(shop["ws"], 3, "recovered", held=False)
    db.session.commit()
    assert 'id="insights-holdout"' not in dashboard(web)


def test_the_measured_lift_with_its_interval_and_how_far_from_significant(web, shop) -> None:
    ws = shop["ws"]
    config.save_holdout(db.session, ws.id, 10)
    ended(ws, 6, "recovered", held=False)
    ended(ws, 4, "lost", held=False)
    ended(ws, 1, "recovered", held=True)
    ended(ws, 2, "lost", held=True)
    db.session.commit()
    html = dashboard(web)
    section = html[html.index('id="insights-holdout"') :]
    assert "60.0%" in section and "6 recovered of 10 that ended" in section
    assert "33.3%" in section and "1 recovered of 3 that ended" in section
    assert "+26.7 pts" in section and "95 % interval" in section
    assert 'data-significant="no"' in section
    assert "more failed payments need to end" in section
    assert "Newcombe" in section and "80 % power" in section
    # The treated figures above keep meaning Backstop's campaigns only.
    stats = html[html.index('data-figure="recovered"') :]
    assert '<div class="value">6</div>' in stats[:400]


def test_a_significant_lift_says_so(web, shop) -> None:
    ws = shop["ws"]
    config.save_holdout(db.session, ws.id, 10)
    ended(ws, 56, "recovered", held=False)
    ended(ws, 14, "lost", held=False)
    ended(ws, 48, "recovered", held=True)
    ended(ws, 32, "lost", held=True)
    db.session.commit()
    section = dashboard(web)
    section = section[section.index('id="insights-holdout"') :]
    assert 'data-significant="yes"' in section and "+20.0 pts" in section
    assert "+5.2 to +33.4 pts" in section
