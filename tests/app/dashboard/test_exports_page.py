"""The Exports page over HTTP: owners and admins start an export (built at once here,
tasks run eagerly), bad input is a 400 that creates nothing, viewers cannot start one
but may download, another workspace's export is a 404, the poll's JSON, and the
monthly summary switch."""

from __future__ import annotations

import datetime as dt
from html import unescape

from sqlalchemy import func, select

from app.extensions import db
from app.insights import summary
from app.insights.models import InsightExport
from app.recovery.models import Campaign

from .. import factories as f
from ..forms import csrf_token


def owner_of(web, name: str = "Exporter"):
    user = f.user(f"{name.lower()}@example.com")
    ws = f.workspace(user, name)
    db.session.commit()
    f.login(web, user)
    return ws


def a_campaign(ws, n: int = 1) -> None:
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    db.session.add(
        Campaign(workspace_id=ws.id, invoice_stripe_id=f"in_{n}", customer_stripe_id=f"cus_{n}",
                 amount_minor=4900, currency="usd", decline_class="scheduled", opened_at=opened,
                 last_failure_at=opened, window_ends_at=opened + dt.timedelta(days=30))
    )  # fmt: skip
    db.session.commit()


def start(web, **data):
    today = dt.datetime.now(dt.UTC).date()
    form = {
        "kind": "recovery",
        "first": (today - dt.timedelta(days=89)).isoformat(),
        "last": today.isoformat(),
        **data,
        "csrf_token": csrf_token(web, "/exports"),
    }
    return web.post("/exports", data=form)


def exports_count() -> int:
    return db.session.execute(select(func.count()).select_from(InsightExport)).scalar_one()


def test_the_page_is_linked_from_the_nav_and_defaults_to_the_last_90_days(web, ctx) -> None:
    owner_of(web)
    html = unescape(web.get("/exports").get_data(as_text=True))
    today = dt.datetime.now(dt.UTC).date()
    assert 'href="/exports"' in html
    assert f'value="{(today - dt.timedelta(days=89)).isoformat()}"' in html
    assert "No exports yet." in html


def test_an_owner_starts_an_export_and_downloads_the_csv(web, ctx) -> None:
    ws = owner_of(web)
    a_campaign(ws)
    response = start(web)
    assert response.status_code == 302
    row = db.session.execute(select(InsightExport)).scalar_one()
    assert row.status == "done" and row.rows_written == 1 and row.workspace_id == ws.id
    html = web.get("/exports").get_data(as_text=True)
    assert f"/exports/{row.id}/download" in html
    download = web.get(f"/exports/{row.id}/download")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="recovery-')
    assert download.get_data(as_text=True).startswith("Campaign ID,")


def test_bad_input_is_a_400_and_creates_nothing(web, ctx) -> None:
    owner_of(web)
    for data in ({"first": "2026-11-20", "last": "2026-11-01"}, {"kind": "payouts"},
                 {"first": "2023-01-01", "last": "2026-11-20"}):  # fmt: skip
        response = start(web, **data)
        assert response.status_code == 400
        assert 'id="export-errors"' in response.get_data(as_text=True)
    assert exports_count() == 0


def test_a_viewer_cannot_start_one_but_may_download(web, ctx) -> None:
    ws = owner_of(web)
    a_campaign(ws)
    start(web)
    row = db.session.execute(select(InsightExport)).scalar_one()
    viewer = f.member(ws, "viewer")
    db.session.commit()
    f.login(web, viewer)
    assert 'id="export-form"' not in web.get("/exports").get_data(as_text=True)
    token = csrf_token(web, "/exports")
    assert web.post("/exports", data={"csrf_token": token, "kind": "recovery"}).status_code == 403
    assert exports_count() == 1
    assert web.get(f"/exports/{row.id}/download").status_code == 200


def test_another_workspaces_export_is_not_found(web, ctx) -> None:
    theirs = owner_of(web, "Theirs")
    a_campaign(theirs)
    start(web)
    row = db.session.execute(select(InsightExport)).scalar_one()
    owner_of(web, "Mine")
    assert web.get(f"/exports/{row.id}/download").status_code == 404
    token = csrf_token(web, "/exports")
    assert web.post(f"/exports/{row.id}/restart", data={"csrf_token": token}).status_code == 404
    assert web.get("/exports/status").get_json() == {"exports": []}


def test_the_poll_reports_progress_and_a_stalled_export_starts_again(web, ctx) -> None:
    ws = owner_of(web)
    gone = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)  # its worker died
    row = InsightExport(workspace_id=ws.id, kind="cancel", first_day=dt.date(2026, 1, 1),
                        last_day=dt.date(2026, 1, 31), status="running", rows_written=250,
                        total_rows=1000, lease_until=gone)  # fmt: skip
    db.session.add(row)
    db.session.commit()
    status = web.get("/exports/status").get_json()["exports"][0]
    assert status["percent"] == 25 and status["stale"] and status["status"] == "running"
    html = web.get("/exports").get_data(as_text=True)
    assert "Stalled" in html and "Start again" in html
    token = csrf_token(web, "/exports")
    assert web.post(f"/exports/{row.id}/restart", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(InsightExport, row.id).status == "done"  # built again at once


def test_the_monthly_summary_switch(web, ctx) -> None:
    ws = owner_of(web)
    assert summary.is_enabled(db.session, ws.id)
    token = csrf_token(web, "/exports")
    assert web.post("/exports/summary", data={"csrf_token": token}).status_code == 302
    assert not summary.is_enabled(db.session, ws.id)
    web.post("/exports/summary", data={"csrf_token": token, "monthly_summary": "1"})
    assert summary.is_enabled(db.session, ws.id)


def test_the_overview_links_to_exports(web, ctx) -> None:
    owner_of(web)
    assert 'href="/exports"' in web.get("/dashboard").get_data(as_text=True)
