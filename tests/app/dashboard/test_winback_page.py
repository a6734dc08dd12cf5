"""The Win back page over HTTP: figures that match the rows (per currency, per reason,
per email with its credit), the campaigns listed, the empty state, the pause switch;
and the campaigns with their steps on the customer's timeline."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.stripe import mirror
from app.winback import queries
from app.winback.models import WinbackCampaign, WinbackSettings, WinbackStep

from .. import factories as f
from ..forms import csrf_token

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@wbpage.example")
    ws = f.workspace(owner, "Return Shop")
    viewer = f.member(ws, "viewer", "viewer@wbpage.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


def html_of(web, url: str) -> str:
    response = web.get(url)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def sent(campaign, number: int, **kw):
    return f.winback_step(
        campaign,
        number,
        status="done",
        outcome="sent",
        executed_at=NOW - dt.timedelta(days=1),
        **kw,
    )


@pytest.fixture
def rows(shop):
    """Campaigns of the last 30 days, one older, and another workspace's."""
    ws = shop["ws"]
    a = f.winback_campaign(ws, "cus_a", touches_sent=2)
    a1 = sent(a, 1, opened_at=NOW, clicked_at=NOW)
    sent(a, 2, opened_at=NOW)
    a.state, a.won_via, a.won_step_id = "won", "link", a1.id
    a.regained_mrr_minor, a.regained_currency = 4900, "usd"
    b = f.winback_campaign(ws, "cus_b", reason="missing_feature", touches_sent=2)
    sent(b, 1)
    b2 = sent(b, 2, clicked_at=NOW)
    b.state, b.won_via, b.won_step_id = "won", "email", b2.id
    b.regained_mrr_minor, b.regained_currency = 2000, "usd"
    c = f.winback_campaign(ws, "cus_c", currency="eur", kind="involuntary", touches_sent=1)
    c1 = sent(c, 1)
    c.state, c.won_via, c.won_step_id = "won", "link", c1.id
    c.regained_mrr_minor, c.regained_currency = 3000, "eur"
    d = f.winback_campaign(ws, "cus_d", reason="not_using", touches_sent=1)
    sent(d, 1)
    d.state, d.regained_mrr_minor, d.regained_currency = "returned", 1500, "usd"
    e = f.winback_campaign(ws, "cus_e", reason="not_using")
    f.winback_step(e, 1)
    f.winback_step(e, 2)
    old = f.winback_campaign(ws, "cus_old", ended_at=NOW - dt.timedelta(days=60), touches_sent=1)
    sent(old, 1)
    old.state, old.won_step_id = "won", None
    old.regained_mrr_minor, old.regained_currency = 9900, "usd"
    other = f.workspace(f.user("other@wbpage.example"), "Other Shop")
    theirs = f.winback_campaign(other, "cus_theirs", touches_sent=1)
    sent(theirs, 1, opened_at=NOW, clicked_at=NOW)
    theirs.state, theirs.regained_mrr_minor, theirs.regained_currency = "won", 77700, "usd"
    db.session.commit()
    return {"a": a, "e": e, "other": other}


def test_the_figures_match_the_rows(shop, rows) -> None:
    since = NOW - dt.timedelta(days=30)
    figures = queries.figures(db.session, shop["ws"].id, since=since)
    assert (figures.started, figures.active_now) == (5, 1)
    assert (figures.touches_sent, figures.opens, figures.clicks) == (6, 2, 2)
    assert figures.won == 3 and figures.returned == 1
    assert figures.regained == [queries.Money(3000, "eur"), queries.Money(6900, "usd")]
    assert figures.returned_mrr == [queries.Money(1500, "usd")]
    year = queries.figures(db.session, shop["ws"].id, since=NOW - dt.timedelta(days=365))
    assert year.started == 6 and year.regained[-1] == queries.Money(16800, "usd")

    reasons = {r.key: r for r in queries.by_reason(db.session, shop["ws"].id, since=since)}
    assert list(reasons) == ["too_expensive", "missing_feature", "not_using", "payment_failed"]
    assert reasons["too_expensive"].won == 1
    assert reasons["too_expensive"].regained == [queries.Money(4900, "usd")]
    assert reasons["payment_failed"].campaigns == 1  # involuntary: its own copy key
    assert reasons["payment_failed"].regained == [queries.Money(3000, "eur")]
    assert (reasons["not_using"].campaigns, reasons["not_using"].won) == (2, 0)

    touches = {t.number: t for t in queries.by_touch(db.session, shop["ws"].id, since=since)}
    assert (touches[1].sent, touches[1].opens, touches[1].clicks) == (4, 1, 1)
    assert (touches[2].sent, touches[2].opens, touches[2].clicks) == (2, 1, 1)
    # Credited via won_step_id: a's and c's to the first email, b's to the second.
    assert touches[1].won == 2
    assert touches[1].regained == [queries.Money(3000, "eur"), queries.Money(4900, "usd")]
    assert touches[2].won == 1 and touches[2].regained == [queries.Money(2000, "usd")]


def test_the_page_shows_the_figures_and_campaigns(web, shop, rows) -> None:
    html = html_of(web, "/winback")
    assert "Where your email provider reports opens" in html
    assert '<span class="value" data-currency="usd">69.00 USD</span>' in html
    assert '<span class="value" data-currency="eur">30.00 EUR</span>' in html
    assert "15.00 USD MRR" in html  # returned: shown, not claimed
    assert '<tr data-touch="1"><td>First win-back email</td>' in html
    assert '<tr data-reason="payment_failed"><td>Payment failed (involuntary)</td>' in html
    assert 'href="/customers/cus_a"' in html
    assert "Casey Customer" in html
    assert "777.00" not in html and "cus_theirs" not in html  # another workspace's
    year = html_of(web, "/winback?days=365")
    assert "168.00 USD" in year
    assert html_of(web, "/winback?days=bogus")  # an unknown period falls back to 30 days


def test_the_empty_page_says_what_to_do(web, shop) -> None:
    html = html_of(web, "/winback")
    assert "Win-back starts by itself when a subscription ends" in html
    assert 'href="/settings/winback"' in html


def test_pausing_stops_every_active_campaign_and_resume_starts_again(web, shop, rows) -> None:
    token = csrf_token(web, "/winback")
    response = web.post("/winback/pause", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    e = db.session.get(WinbackCampaign, rows["e"].id)
    assert e.state == "stopped" and "paused by owner@wbpage.example" in e.close_reason
    steps = db.session.execute(select(WinbackStep).where(WinbackStep.campaign_id == e.id))
    assert {s.status for s in steps.scalars()} == {"cancelled"}
    config = db.session.execute(
        select(WinbackSettings).where(WinbackSettings.workspace_id == shop["ws"].id)
    ).scalar_one()
    assert config.is_paused and config.paused_by == "owner@wbpage.example"
    assert db.session.get(WinbackCampaign, rows["a"].id).state == "won"  # closed ones stay
    audit = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert "winback.paused" in audit
    assert "Win-back is paused." in html_of(web, "/winback")
    assert web.post("/winback/resume", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(WinbackSettings, config.id).is_paused
    assert "winback.resumed" in db.session.execute(select(AuditEntry.action)).scalars().all()


def test_a_viewer_cannot_pause(web, shop, rows) -> None:
    f.login(web, shop["viewer"])
    html = html_of(web, "/winback")
    assert "Pause win-back" not in html
    token = csrf_token(web, "/winback")
    assert web.post("/winback/pause", data={"csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert db.session.get(WinbackCampaign, rows["e"].id).state == "active"


def test_the_customer_timeline_shows_each_campaign_and_its_steps(web, shop, rows) -> None:
    mirror.upsert(
        db.session,
        shop["ws"].id,
        {"id": "cus_a", "object": "customer", "name": "Casey", "email": "cus_a@example.com"},
        1,
    )
    a = db.session.get(WinbackCampaign, rows["a"].id)
    a.close_reason = "came back through the win-back link"
    db.session.commit()
    html = html_of(web, "/customers/cus_a")
    assert f'data-winback="{a.id}" data-state="won"' in html
    assert "Won back" in html
    assert "Came back through the win-back link" in html
    assert "Regained: <strong>49.00 USD</strong> MRR, through the win-back email's link" in html
    assert "(credited to the first win-back email)" in html
    assert "First win-back email" in html and "Second win-back email" in html
    assert "Why now:</span> Touch 1: 14 days after" in html
    assert "Opened " in html and "Clicked " in html
    assert '<span class="pill sent">Sent</span>' in html


def test_a_campaign_under_way_shows_its_planned_emails(web, shop, rows) -> None:
    mirror.upsert(db.session, shop["ws"].id, {"id": "cus_e", "object": "customer"}, 1)
    db.session.commit()
    html = html_of(web, "/customers/cus_e")
    assert 'data-state="active"' in html and "Under way" in html
    assert html.count('<span class="pill planned">Planned</span>') == 2
    assert "cus_a" not in html
