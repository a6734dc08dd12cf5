"""The back office's Recover views: support reads campaigns, steps and attempts; admins
retry a campaign now or stop it, each audited; the ``?workspace_id=`` scope holds."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.models import utcnow
from app.money import format_money as money
from app.recovery.models import Campaign, ChargeAttempt, Step

from ..app import factories as f
from ..app.forms import csrf_token
from ..app.recovery.test_operations import open_campaign

LISTS = ("/admin/recovery-campaigns/", "/admin/recovery-steps/", "/admin/recovery-attempts/")


def staff(web, role: str):
    user = f.user(staff_role=role)
    db.session.commit()
    f.login(web, user)
    return user


def make_campaign(ws, **kw) -> Campaign:
    """An open campaign with its plan (see ``open_campaign``) and the failed renewal."""
    campaign = open_campaign(ws, **kw)
    db.session.add(
        ChargeAttempt(
            workspace_id=ws.id,
            campaign_id=campaign.id,
            invoice_stripe_id=campaign.invoice_stripe_id,
            charge_stripe_id=f"ch_test{campaign.id}",
            at=campaign.opened_at,
            source="stripe",
            succeeded=False,
            card_brand="visa",
            decline_code="insufficient_funds",
        )
    )
    db.session.flush()
    return campaign


@pytest.fixture
def shops(ctx):
    ours, theirs = f.workspace(name="Ours"), f.workspace(name="Theirs")
    mine, other = make_campaign(ours), make_campaign(theirs)
    db.session.commit()
    return ours, mine, theirs, other


def act(web, action: str, *ids: int, query: str = "", **form: str):
    token = csrf_token(web, "/admin/")
    return web.post(
        f"/admin/recovery-campaigns/action/{query}",
        data={"csrf_token": token, "action": action, "rowid": [str(i) for i in ids], **form},
    )


def audit() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


def steps(campaign: Campaign, kind: str = "retry") -> list[Step]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(Step).where(Step.campaign_id == campaign.id, Step.kind == kind).order_by(Step.id)
        ).scalars()
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- support reads, never acts -----------------------------------------------------------------


def test_support_sees_campaigns_steps_and_attempts(web, shops) -> None:
    _, mine, _, _ = shops
    staff(web, "support")
    for url, rows in zip(LISTS, (2, 4, 2), strict=True):
        page = web.get(url)
        assert page.status_code == 200, url
        assert f"List ({rows})" in text(page), url
    details = text(web.get(f"/admin/recovery-campaigns/details/?id={mine.id}"))
    assert mine.invoice_stripe_id in details and "29.00 USD" in details
    assert "insufficient_funds: +3d" in details  # the timeline, with each step's reason
    assert "the 30-day recovery window ends" in details
    assert "read-only" in details
    step = steps(mine)[0]
    assert web.get(f"/admin/recovery-steps/details/?id={step.id}").status_code == 200


def test_support_sees_no_controls_and_cannot_act(web, shops) -> None:
    _, mine, _, _ = shops
    staff(web, "support")
    for url in (*LISTS, f"/admin/recovery-campaigns/details/?id={mine.id}"):
        page = text(web.get(url))
        for control in ('name="action"', 'value="retry_now"', 'value="stop"', "/edit/"):
            assert control not in page, (url, control)
    assert act(web, "retry_now", mine.id).status_code == 403
    assert act(web, "stop", mine.id, reason="no").status_code == 403
    db.session.expire_all()
    assert mine.state == "in_flight" and len(steps(mine)) == 1
    assert audit() == []


def test_nobody_edits_creates_or_deletes_recovery_rows(web, shops) -> None:
    _, mine, _, _ = shops
    staff(web, "admin")
    for url in (
        "/admin/recovery-campaigns/new/",
        f"/admin/recovery-campaigns/edit/?id={mine.id}",
        f"/admin/recovery-steps/edit/?id={steps(mine)[0].id}",
        "/admin/recovery-attempts/new/",
    ):
        assert web.get(url).status_code in (302, 403), url
    token = csrf_token(web, "/admin/")
    web.post("/admin/recovery-campaigns/delete/", data={"csrf_token": token, "id": str(mine.id)})
    assert db.session.get(Campaign, mine.id) is not None


# -- admins act, audited ------------------------------------------------------------------------


def test_admin_retries_now_and_it_is_audited(web, shops) -> None:
    ours, mine, _, _ = shops
    admin = staff(web, "admin")
    before = utcnow()
    response = act(web, "retry_now", mine.id)
    assert response.status_code == 302
    planned, staff_retry = steps(mine)
    assert staff_retry.status == "pending" and staff_retry.is_automatic
    assert staff_retry.reason == f"staff retry by {admin.email}"
    assert before - dt.timedelta(seconds=1) <= staff_retry.due_at <= utcnow()
    assert planned.status == "pending"  # the plan stays; the runner re-plans after the retry
    [entry] = audit()
    assert (entry.action, entry.actor_id, entry.actor_label) == (
        "recovery_campaign.retry_now",
        admin.id,
        admin.email,
    )
    assert (entry.target_type, entry.target_id, entry.workspace_id) == (
        "recovery_campaign",
        str(mine.id),
        ours.id,
    )
    assert entry.details["step_id"] == staff_retry.id


def test_a_refused_retry_says_why_and_changes_nothing(web, shops) -> None:
    _, mine, theirs, _ = shops
    closed = make_campaign(theirs, state="lost")
    db.session.commit()
    staff(web, "admin")
    act(web, "retry_now", mine.id)
    again = act(web, "retry_now", mine.id, closed.id)
    page = text(web.get(again.headers["Location"]))
    assert f"Campaign #{mine.id} already has a retry due now" in page
    assert f"Campaign #{closed.id} is lost: there is nothing to retry." in page
    assert len(steps(mine)) == 2 and len(steps(closed)) == 1
    assert [e.action for e in audit()] == ["recovery_campaign.retry_now"]


def test_admin_stops_a_campaign_with_a_reason(web, shops) -> None:
    ours, mine, _, _ = shops
    admin = staff(web, "admin")
    response = act(web, "stop", mine.id, reason="  merchant   asked by email ")
    assert response.status_code == 302
    db.session.expire_all()
    assert mine.state == "abandoned" and mine.closed_at is not None
    assert mine.close_reason == f"stopped by staff: merchant asked by email ({admin.email})"
    assert {s.status for s in steps(mine)} == {"cancelled"}
    assert steps(mine, "window_end")[0].status == "cancelled"
    [entry] = audit()
    assert (entry.action, entry.actor_id, entry.workspace_id) == (
        "recovery_campaign.stop",
        admin.id,
        ours.id,
    )
    assert entry.details["reason"] == "merchant   asked by email"
    again = act(web, "stop", mine.id)
    assert f"Campaign #{mine.id} is already abandoned." in text(web.get(again.headers["Location"]))
    assert len(audit()) == 1


def test_the_campaign_page_offers_both_actions_to_admins(web, shops) -> None:
    _, mine, _, _ = shops
    staff(web, "admin")
    url = f"/admin/recovery-campaigns/details/?id={mine.id}"
    page = web.get(url).get_data(as_text=True)
    assert 'value="retry_now"' in page and 'value="stop"' in page
    assert f'name="rowid" value="{mine.id}"' in page and 'name="reason"' in page
    # The page's own form works: the button posts back and lands on the page again.
    action = re.search(r'<form method="post" action="([^"]*/action/[^"]*)"', page).group(1)
    response = web.post(
        html.unescape(action),
        data={
            "csrf_token": csrf_token(web, url),
            "action": "stop",
            "rowid": str(mine.id),
            "url": url,
            "reason": "duplicate",
        },
    )
    assert response.headers["Location"].endswith(url)
    db.session.expire_all()
    assert mine.state == "abandoned"
    closed = web.get(url).get_data(as_text=True)
    assert 'value="retry_now"' not in closed and "closed: nothing to do" in closed


# -- lists: filters, search, scope ---------------------------------------------------------------


def test_filters_and_search(web, shops) -> None:
    _, mine, _, other = shops
    other.state, other.attribution = "recovered", "retry"
    db.session.commit()
    staff(web, "support")
    by_state = text(web.get("/admin/recovery-campaigns/?flt0_state_equals=recovered"))
    assert other.invoice_stripe_id in by_state and mine.invoice_stripe_id not in by_state
    by_attr = text(web.get("/admin/recovery-campaigns/?flt0_attribution_equals=retry"))
    assert "List (1)" in by_attr
    by_class = text(web.get("/admin/recovery-campaigns/?flt0_class_equals=no_recovery"))
    assert "List (0)" in by_class
    found = text(web.get(f"/admin/recovery-campaigns/?search={mine.customer_stripe_id}"))
    assert mine.invoice_stripe_id in found and other.invoice_stripe_id not in found
    found = text(web.get(f"/admin/recovery-campaigns/?search={other.invoice_stripe_id}"))
    assert "List (1)" in found
    windows = text(web.get("/admin/recovery-steps/?flt0_kind_equals=window_end"))
    assert "List (2)" in windows
    mine_only = text(web.get(f"/admin/recovery-steps/?flt0_campaign_equals={mine.id}"))
    assert "List (2)" in mine_only
    assert web.get("/admin/recovery-steps/?flt0_campaign_equals=abc").status_code == 200
    assert "List (0)" in text(web.get("/admin/recovery-steps/?flt0_status_equals=running"))
    assert "List (0)" in text(web.get("/admin/recovery-steps/?flt0_outcome_equals=paid"))
    assert "List (2)" in text(web.get("/admin/recovery-attempts/?flt0_by_equals=stripe"))


def test_workspace_scope_limits_lists_details_and_actions(web, app, shops) -> None:
    ours, mine, _, other = shops
    staff(web, "admin")
    scope = f"?workspace_id={ours.id}"
    for url in LISTS:
        page = text(web.get(url + scope))
        assert "List (" in page and "Only records of workspace" in page, url
        assert other.invoice_stripe_id not in page or url.endswith("recovery-steps/"), url
    campaigns = text(web.get("/admin/recovery-campaigns/" + scope))
    assert mine.invoice_stripe_id in campaigns and other.invoice_stripe_id not in campaigns
    assert "List (1)" in text(web.get("/admin/recovery-steps/" + scope + "&flt0_kind_equals=retry"))
    outside = web.get(f"/admin/recovery-campaigns/details/?id={other.id}&workspace_id={ours.id}")
    assert outside.status_code == 302
    act(web, "retry_now", other.id, query=scope)
    act(web, "stop", other.id, query=scope, reason="wrong shop")
    db.session.expire_all()
    assert other.state == "in_flight" and len(steps(other)) == 1 and audit() == []
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "recovery_campaigns")
    with app.test_request_context(f"/admin/recovery-campaigns/{scope}"):
        assert view.get_one(str(mine.id)).id == mine.id
        assert view.get_one(str(other.id)) is None
        assert view.get_count_query().scalar() == 1


def test_money_is_formatted_from_minor_units() -> None:
    assert money(2900, "usd") == "29.00 USD"
    assert money(5, "eur") == "0.05 EUR"
    assert money(123456789, "gbp") == "1,234,567.89 GBP"
    assert money(2900, "jpy") == "2,900 JPY"
