"""The dashboard's one transaction per request: GETs never write, refusals change nothing
and answer with their status, successful writes commit once after the view."""

from __future__ import annotations

from html import unescape

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import Invitation, Membership, Workspace
from app.dashboard.chrome import feature_blueprint, on_refusal, tab_of
from app.dunning.models import DunningSettings
from app.errors import Conflict, Refusal
from app.extensions import db
from app.outbox.models import OutboxMessage

from .. import factories as f
from ..forms import submit


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@chrome.example")
    ws = f.workspace(owner, "Chrome Shop")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner}


def count(model) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_get_never_writes(web, shop) -> None:
    # The Emails page makes the settings row to show its defaults: a GET rolls it back.
    assert web.get("/settings/emails").status_code == 200
    assert count(DunningSettings) == 0


def test_a_refused_invitation_changes_nothing_and_says_why(web, shop) -> None:
    response = submit(web, "/settings/team", {"email": "owner@chrome.example", "role": "admin"})
    assert response.status_code == 400
    assert "already a member of this workspace" in unescape(response.get_data(as_text=True))
    assert count(Invitation) == 0 and count(OutboxMessage) == 0


def test_an_invitation_is_stored_and_emailed_in_one_commit(web, shop) -> None:
    response = submit(web, "/settings/team", {"email": "new@chrome.example", "role": "viewer"})
    assert response.status_code == 302
    assert count(Invitation) == 1
    [message] = db.session.execute(select(OutboxMessage)).scalars()
    assert message.to_email == "new@chrome.example" and message.template == "invitation"


def test_the_last_owner_stays(web, shop) -> None:
    other = f.member(shop["ws"], "owner", "second@chrome.example")
    db.session.commit()
    mine = db.session.execute(
        select(Membership).where(Membership.user_id == shop["owner"].id)
    ).scalar_one()
    theirs = db.session.execute(
        select(Membership).where(Membership.user_id == other.id)
    ).scalar_one()
    assert (
        submit(web, f"/settings/team/{theirs.id}/remove", {}, page="/settings/team").status_code
        == 302
    )
    response = submit(web, f"/settings/team/{mine.id}/remove", {}, page="/settings/team")
    assert response.status_code == 409
    assert "A workspace keeps at least one owner." in unescape(response.get_data(as_text=True))
    assert count(Membership) == 1


def test_a_bad_workspace_timezone_is_refused(web, shop) -> None:
    data = {"name": "Renamed", "timezone": "Mars/Olympus", "brand_color": "#112233"}
    assert submit(web, "/settings/workspace", data).status_code == 400
    db.session.expire_all()
    assert db.session.get(Workspace, shop["ws"].id).name == "Chrome Shop"


@pytest.fixture
def probe(app, app_settings):
    """A fresh app with one extra dashboard feature whose views write, then refuse."""
    app = create_app(app_settings)
    bp = feature_blueprint("probe", __name__)

    def rename(to: str) -> None:
        from app.accounts.access import current_workspace

        current_workspace().name = to
        db.session.flush()

    @bp.post("/probe/ok")
    def ok():
        rename("Written")
        return "ok"

    @bp.post("/probe/conflict")
    def conflict():
        rename("Half written")
        raise Conflict("That clashes with something.")

    @bp.post("/probe/page")
    def page():
        on_refusal(lambda exc: render_template_string("own page: {{ e }}", e=exc.errors[0]))
        rename("Half written")
        raise Refusal("Not like that.")

    @bp.get("/probe/get")
    def get():
        rename("Written by a GET")
        return "ok"

    app.register_blueprint(bp)
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        owner = f.user("probe@chrome.example")
        ws = f.workspace(owner, "Probe Shop")
        db.session.commit()
        client = app.test_client()
        f.login(client, owner)
        yield client, ws.id
        db.session.remove()
        db.engine.dispose()  # this app's own pool: no connection left for the GC


def name_of(workspace_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Workspace, workspace_id).name


def test_a_refusal_without_a_page_gets_the_plain_one_at_its_status(probe) -> None:
    client, ws_id = probe
    response = client.post("/probe/conflict")
    assert response.status_code == 409
    assert "That clashes with something." in response.get_data(as_text=True)
    assert name_of(ws_id) == "Probe Shop"


def test_a_refusal_renders_the_views_own_page(probe) -> None:
    client, ws_id = probe
    response = client.post("/probe/page")
    assert (response.status_code, response.get_data(as_text=True)) == (
        400,
        "own page: Not like that.",
    )
    assert name_of(ws_id) == "Probe Shop"


def test_writes_commit_after_the_view_and_gets_roll_back(probe) -> None:
    client, ws_id = probe
    assert client.get("/probe/get").status_code == 200
    assert name_of(ws_id) == "Probe Shop"
    assert client.post("/probe/ok").status_code == 200
    assert name_of(ws_id) == "Written"


def test_a_campaign_lights_up_the_recovery_tab() -> None:
    assert tab_of("recovery.campaign") == "recovery.index"
    assert tab_of("customers.show") == "customers.index"
    assert tab_of("team.show") == "team.show"
