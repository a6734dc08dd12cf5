"""The campaign page's pause button: owners and admins hold one campaign (its planned
retries are cancelled, a payment still closes it) and resume it (planned from now);
viewers see no button and may not post; a closed campaign has nothing to pause."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.recovery.models import Campaign, Step

from .. import factories as f
from ..forms import submit
from ..recovery.test_operations import open_campaign


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@pause.example")
    ws = f.workspace(owner, "Pause Shop")
    viewer = f.member(ws, "viewer", "viewer@pause.example")
    campaign = open_campaign(ws)
    db.session.commit()
    return {"ws": ws, "owner": owner, "viewer": viewer, "campaign": campaign}


def page(web, campaign: Campaign) -> str:
    return unescape(web.get(f"/recovery/campaigns/{campaign.id}").get_data(as_text=True))


def planned_retries(campaign: Campaign) -> int:
    db.session.expire_all()
    steps = select(Step).where(Step.campaign_id == campaign.id, Step.kind == "retry")
    return sum(1 for s in db.session.execute(steps).scalars() if s.status == "pending")


def test_an_admin_pauses_then_resumes_one_campaign(web, shop) -> None:
    campaign, url = shop["campaign"], f"/recovery/campaigns/{shop['campaign'].id}"
    f.login(web, shop["owner"])
    assert "Pause this campaign" in page(web, campaign) and planned_retries(campaign) == 1

    assert submit(web, f"{url}/pause", {}, page=url).status_code == 302
    db.session.expire_all()
    row = db.session.get(Campaign, campaign.id)
    assert row.is_paused and row.paused_by == "owner@pause.example" and row.is_open
    assert planned_retries(campaign) == 0
    shown = page(web, campaign)
    assert "This campaign was paused by owner@pause.example: no retries" in shown
    assert "Resume this campaign" in shown and "Pause this campaign" not in shown

    assert submit(web, f"{url}/resume", {}, page=url).status_code == 302
    db.session.expire_all()
    assert not db.session.get(Campaign, campaign.id).is_paused
    assert planned_retries(campaign) >= 1
    audit = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [(a.action, a.actor_label, a.target_id) for a in audit] == [
        ("recovery.campaign.pause", "owner@pause.example", str(campaign.id)),
        ("recovery.campaign.resume", "owner@pause.example", str(campaign.id)),
    ]


def test_pausing_twice_changes_nothing_more(web, shop) -> None:
    url = f"/recovery/campaigns/{shop['campaign'].id}"
    f.login(web, shop["owner"])
    submit(web, f"{url}/pause", {}, page=url)
    assert submit(web, f"{url}/pause", {}, page=url).status_code == 302
    details = db.session.execute(select(AuditEntry.details).order_by(AuditEntry.id)).scalars()
    assert [d["changed"] for d in details] == [True, False]


def test_a_viewer_sees_no_button_and_may_not_pause(web, shop) -> None:
    campaign = shop["campaign"]
    f.login(web, shop["viewer"])
    assert "Pause this campaign" not in page(web, campaign)
    url = f"/recovery/campaigns/{campaign.id}"
    assert submit(web, f"{url}/pause", {}, page=url).status_code == 403
    db.session.expire_all()
    assert not db.session.get(Campaign, campaign.id).is_paused


def test_a_closed_campaign_has_nothing_to_pause(web, shop) -> None:
    ws = shop["ws"]
    closed = open_campaign(ws, state="recovered")
    db.session.commit()
    f.login(web, shop["owner"])
    assert "Pause this campaign" not in page(web, closed)
    url = f"/recovery/campaigns/{closed.id}"
    response = submit(web, f"{url}/pause", {}, page=url)
    assert response.status_code == 409
    assert "nothing to pause" in unescape(response.get_data(as_text=True))
    assert not db.session.execute(select(AuditEntry)).first()


def test_another_workspaces_campaign_is_a_404(web, shop) -> None:
    other = f.workspace(f.user("other@pause.example"), "Other")
    theirs = open_campaign(other)
    db.session.commit()
    f.login(web, shop["owner"])
    url = f"/recovery/campaigns/{shop['campaign'].id}"
    assert submit(web, f"/recovery/campaigns/{theirs.id}/pause", {}, page=url).status_code == 404
    db.session.expire_all()
    assert not db.session.get(Campaign, theirs.id).is_paused
