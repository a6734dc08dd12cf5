"""Cancel flows → Results from real sessions: the daily counts follow each ending, the
page shows them per flow, version, reason and offer, the customers' words, who cancelled
outside Backstop, and the CSV has every session."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func, select

from app.accounts.models import Workspace
from app.extensions import db
from app.models import utcnow
from app.retain import analytics
from app.retain.models import RetainOfferStat, RetainStat
from workers.sweeper import sweep_once

from .. import factories as f
from .test_cancel_pages import start


def three_sessions(web, shop) -> None:
    saved, cancelled, left = (shop.subscribe("pm_card_visa") for _ in range(3))
    path = start(web, shop, saved)
    web.get(path)
    web.post(path, data={"action": "answer", "step": "survey", "reason": "too_expensive"})
    web.get(path)
    web.post(path, data={"action": "accept", "step": "offer_discount"})
    path = start(web, shop, cancelled)
    web.get(path)
    web.post(
        path,
        data={
            "action": "answer",
            "step": "survey",
            "reason": "other",
            "reason_text": "Too many emails",
        },
    )
    web.get(path)
    web.post(
        path, data={"action": "feedback", "step": "feedback", "feedback": "Nice product though"}
    )
    web.post(path, data={"action": "cancel"})
    path = start(web, shop, left)
    web.get(path)
    sweep_once(utcnow() + dt.timedelta(hours=25))


def test_counts_follow_each_ending(web, cancel_shop) -> None:
    workspace_id = cancel_shop.workspace.id
    three_sessions(web, cancel_shop)
    counts = dict(
        db.session.execute(
            select(RetainStat.outcome, func.sum(RetainStat.sessions)).group_by(RetainStat.outcome)
        ).all()
    )
    assert counts == {"saved": 1, "cancelled": 1, "abandoned": 1}
    shown = db.session.execute(select(func.sum(RetainOfferStat.shown))).scalar_one()
    assert shown == 1
    results = analytics.results(db.session, workspace_id, since=utcnow().date())
    assert (results.total.sessions, results.total.saved) == (3, 1)
    assert results.total.saved_mrr == {"usd": 2900}
    [flow] = results.flows
    assert flow.flow.id == cancel_shop.flow.id and flow.figures.save_rate == 1 / 3
    reasons = {label: fig.sessions for label, fig in results.reasons}
    assert reasons == {"It's too expensive": 1, "Something else": 1, "No reason given": 1}
    [offer] = results.offers
    assert (offer.description, offer.shown, offer.accepted) == ("25 % off for 3 months", 1, 1)


def test_the_page_and_the_csv(web, cancel_shop) -> None:
    workspace_id = cancel_shop.workspace.id
    three_sessions(web, cancel_shop)
    owner = f.member(db.session.get(Workspace, workspace_id), "owner")
    db.session.commit()
    f.login(web, owner)
    page = web.get("/cancel-flows/results").get_data(as_text=True)
    assert "Cancel flow results" in page and "29.00 USD" in page
    assert "“Too many emails”" in page and "“Nice product though”" in page
    assert "25 % off for 3 months" in page
    export = web.get("/cancel-flows/results.csv?days=90", buffered=True)
    assert export.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert sorted(r["outcome"] for r in rows) == ["abandoned", "cancelled", "saved"]
    assert {r["reason_text"] for r in rows} >= {"Too many emails"}


def test_results_are_the_workspaces_own(web, cancel_shop) -> None:
    three_sessions(web, cancel_shop)
    other = f.workspace()
    results = analytics.results(db.session, other.id, since=utcnow().date())
    assert results.total.sessions == 0 and results.flows == [] and results.offers == []
    assert analytics.comments(db.session, other.id, since=utcnow().date()) == []


def test_the_flows_list_flags_cancels_outside_backstop(web, cancel_shop) -> None:
    workspace_id = cancel_shop.workspace.id
    sub = cancel_shop.subscribe("pm_card_visa")
    cancel_shop.client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    cancel_shop.catch_up()
    owner = f.member(db.session.get(Workspace, workspace_id), "owner")
    db.session.commit()
    f.login(web, owner)
    page = web.get("/cancel-flows").get_data(as_text=True)
    assert "1 customer cancelled outside Backstop in the last 30 days" in page
    results = web.get("/cancel-flows/results").get_data(as_text=True)
    assert sub.customer in results
