"""The back office's win back: staff read campaigns and their steps within the
``?workspace_id=`` scope; admin staff may stop a campaign (audited), support may not."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.models import utcnow
from app.winback.models import WinbackCampaign, WinbackStep

from ..app import factories as f
from .test_portal_admin import _act
from .test_recovery_admin import staff


@pytest.fixture
def winback(ctx):
    ours, theirs = f.workspace(name="Ours"), f.workspace(name="Theirs")
    now = utcnow()
    campaign = WinbackCampaign(
        workspace_id=ours.id,
        customer_stripe_id="cus_wb1",
        subscription_stripe_id="sub_wb1",
        kind="voluntary",
        reason="too_expensive",
        plan_name="Studio",
        mrr_minor=2900,
        ended_at=now,
    )
    db.session.add(campaign)
    db.session.flush()
    db.session.add(
        WinbackStep(
            workspace_id=ours.id,
            campaign_id=campaign.id,
            kind="email",
            number=1,
            due_at=now + dt.timedelta(days=14),
            reason="first win-back email: 14 days after the subscription ended",
        )
    )
    db.session.commit()
    return {"ours": ours, "theirs": theirs, "campaign": campaign}


@pytest.mark.parametrize("role", ["support", "admin"])
def test_staff_read_campaigns_and_steps(web, winback, role) -> None:
    staff(web, role)
    assert "cus_wb1" in web.get("/admin/winback-campaigns/").get_data(as_text=True)
    steps = web.get("/admin/winback-steps/").get_data(as_text=True)
    assert "pending" in steps
    theirs = winback["theirs"].id
    scoped = web.get(f"/admin/winback-campaigns/?workspace_id={theirs}").get_data(as_text=True)
    assert "cus_wb1" not in scoped


def test_admin_staff_stop_a_campaign_and_support_cannot(web, winback) -> None:
    campaign_id = winback["campaign"].id
    staff(web, "support")
    _act(web, "winback-campaigns", "stop", campaign_id)
    db.session.expire_all()
    assert db.session.get(WinbackCampaign, campaign_id).state == "active"
    staff(web, "admin")
    _act(web, "winback-campaigns", "stop", campaign_id)
    db.session.expire_all()
    assert db.session.get(WinbackCampaign, campaign_id).state == "stopped"
    assert db.session.execute(select(WinbackStep.status)).scalar_one() == "cancelled"
    actions = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert "winback_campaign.stop" in actions
