"""The back office's cancel flows: staff read flows, versions and sessions within the
``?workspace_id=`` scope; nobody creates, edits or deletes them here."""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.models import utcnow
from app.retain import flows
from app.retain.models import CancelSession

from ..app import factories as f
from .test_recovery_admin import staff


@pytest.fixture
def retain(ctx):
    ours, theirs = f.workspace(name="Ours"), f.workspace(name="Theirs")
    flow = flows.create_from_template(
        db.session, ours.id, "saas_standard", actor_id=None, actor_label="t", support_email=None
    )
    [version] = flows.versions_of(db.session, flow)
    now = utcnow()
    session = CancelSession(
        workspace_id=ours.id,
        token_hash="a" * 64,
        customer_stripe_id="cus_admin1",
        subscription_stripe_id="sub_admin1",
        flow_id=flow.id,
        version_id=version.id,
        plan_name="Studio",
        amount_minor=2900,
        mrr_minor=2900,
        created_at=now,
        expires_at=now + dt.timedelta(hours=24),
        reason_label="It's too expensive",
        reason_text="private words",
        offer={"type": "discount", "percent_off": 25, "months": 3},
        outcome="saved",
    )
    db.session.add(session)
    db.session.commit()
    return {"ours": ours, "theirs": theirs, "flow": flow, "version": version, "session": session}


@pytest.mark.parametrize("role", ["support", "admin"])
def test_staff_read_flows_versions_and_sessions(web, retain, role) -> None:
    staff(web, role)
    flows_page = web.get("/admin/retain-flows/").get_data(as_text=True)
    assert "SaaS Standard" in flows_page
    versions = web.get("/admin/retain-versions/")
    assert versions.status_code == 200
    page = web.get("/admin/retain-sessions/").get_data(as_text=True)
    assert "cus_admin1" in page and "25 % off for 3 months" in page
    details = web.get(f"/admin/retain-sessions/details/?id={retain['session'].id}").get_data(
        as_text=True
    )
    assert "It&#39;s too expensive" in details and "private words" not in details


def test_the_workspace_scope_holds(web, retain) -> None:
    staff(web, "admin")
    theirs = retain["theirs"].id
    page = web.get(f"/admin/retain-sessions/?workspace_id={theirs}").get_data(as_text=True)
    assert "cus_admin1" not in page
    missing = web.get(
        f"/admin/retain-sessions/details/?id={retain['session'].id}&workspace_id={theirs}"
    )
    assert missing.status_code in (302, 404)


def test_nobody_edits_or_deletes_here(web, retain) -> None:
    staff(web, "admin")
    assert web.get(f"/admin/retain-flows/edit/?id={retain['flow'].id}").status_code in (
        302,
        403,
        404,
    )
    assert web.get("/admin/retain-sessions/new/").status_code in (302, 403, 404)
