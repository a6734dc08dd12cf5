"""Managing flows on the database: templates, publishing, approvals, traffic, archive."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.errors import Conflict, Refusal
from app.extensions import db
from app.retain import flows
from app.retain.flows import ApprovalNeeded

from .. import factories as f

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.fixture
def ws(ctx):
    workspace = f.workspace()
    db.session.commit()
    return workspace


def make(ws, template="saas_standard"):
    return flows.create_from_template(
        db.session,
        ws.id,
        template,
        actor_id=None,
        actor_label="owner@example.com",
        support_email="help@x.example",
    )


def audit_actions() -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def test_a_complete_template_publishes_version_1_at_full_traffic(ws) -> None:
    flow = make(ws)
    [version] = flows.versions_of(db.session, flow)
    assert (version.number, version.weight, version.definition) == (1, 100, flow.draft)
    assert flow.is_default and flows.has_published_flow(db.session, ws.id)
    assert audit_actions() == ["retain.flow.publish"]


def test_a_template_with_a_call_starts_as_a_draft(ws) -> None:
    flow = make(ws, "agency_pro_service")
    assert flows.versions_of(db.session, flow) == []
    assert not flows.has_published_flow(db.session, ws.id)
    with pytest.raises(Refusal, match="offer_call: The link must start"):
        flows.publish(db.session, flow, actor_id=None, actor_label="x")


def test_only_the_first_flow_is_the_default(ws) -> None:
    first, second = make(ws), make(ws, "pause_instead")
    assert first.is_default and not second.is_default
    flows.set_targeting(db.session, second, is_default=True, price_ids=[], share_percent=100)
    assert second.is_default and not first.is_default


def test_unknown_templates_are_refused(ws) -> None:
    with pytest.raises(Refusal):
        make(ws, "nope")


def test_a_republish_snapshots_the_draft_and_takes_the_traffic(ws) -> None:
    flow = make(ws)
    draft = copy.deepcopy(flow.draft)
    draft["steps"][0]["title"] = "Why are you leaving?"
    assert flows.save_draft(db.session, flow, draft) == []
    v2 = flows.publish(db.session, flow, actor_id=None, actor_label="x")
    v1, _ = flows.versions_of(db.session, flow)
    assert (v1.weight, v2.weight, v2.number) == (0, 100, 2)
    assert v1.definition["steps"][0]["title"] != v2.definition["steps"][0]["title"]
    flows.set_weights(db.session, flow, {1: 50, 2: 50})
    assert [v.weight for v in flows.versions_of(db.session, flow)] == [50, 50]
    with pytest.raises(Refusal, match="add up to 90"):
        flows.set_weights(db.session, flow, {1: 40, 2: 50})
    with pytest.raises(Refusal, match="no version 3"):
        flows.set_weights(db.session, flow, {3: 100})


def test_generous_offers_wait_for_an_owners_approval(ws) -> None:
    owner = f.member(ws, "owner")
    flow = make(ws)
    draft = copy.deepcopy(flow.draft)
    draft["steps"][1]["offer"]["percent_off"] = 70
    flows.save_draft(db.session, flow, draft)
    with pytest.raises(ApprovalNeeded, match="70 % off is more than 50 %"):
        flows.publish(db.session, flow, actor_id=None, actor_label="x")
    admin = f.member(ws, "admin")
    with pytest.raises(Refusal, match="Only an owner"):
        flows.approve(
            db.session, flow, actor_id=admin.id, actor_label="a", actor_role="admin", now=NOW
        )
    flows.approve(db.session, flow, actor_id=owner.id, actor_label="o", actor_role="owner", now=NOW)
    version = flows.publish(db.session, flow, actor_id=owner.id, actor_label="o")
    assert version.number == 2
    # Any later edit needs approving again.
    draft = copy.deepcopy(flow.draft)
    draft["steps"][0]["title"] = "Changed"
    flows.save_draft(db.session, flow, draft)
    with pytest.raises(ApprovalNeeded):
        flows.publish(db.session, flow, actor_id=None, actor_label="x")
    assert audit_actions() == ["retain.flow.publish", "retain.flow.approve", "retain.flow.publish"]


def test_approving_nothing_generous_is_a_conflict(ws) -> None:
    owner = f.member(ws, "owner")
    with pytest.raises(Conflict):
        flows.approve(
            db.session, make(ws), actor_id=owner.id, actor_label="o", actor_role="owner", now=NOW
        )


def test_an_archived_flow_routes_nobody_and_cannot_be_edited(ws) -> None:
    owner = f.member(ws, "owner")
    flow = make(ws)
    assert flows.route(db.session, ws.id, price_ids=set(), customer_id="cus_1") is not None
    flows.archive(db.session, flow, actor_id=owner.id, actor_label="o", now=NOW)
    assert flows.route(db.session, ws.id, price_ids=set(), customer_id="cus_1") is None
    assert not flows.has_published_flow(db.session, ws.id)
    with pytest.raises(Conflict):
        flows.save_draft(db.session, flow, flow.draft)
    assert audit_actions()[-1] == "retain.flow.archive"


def test_routing_follows_targeting(ws) -> None:
    default = make(ws)
    annual = make(ws, "pause_instead")
    flows.set_targeting(
        db.session, annual, is_default=False, price_ids=["price_annual"], share_percent=100
    )
    assert (
        flows.route(db.session, ws.id, price_ids={"price_annual"}, customer_id="c").flow_id
        == annual.id
    )
    assert (
        flows.route(db.session, ws.id, price_ids={"price_month"}, customer_id="c").flow_id
        == default.id
    )
    with pytest.raises(Refusal):
        flows.set_targeting(db.session, annual, is_default=False, price_ids=[], share_percent=0)


def test_flows_are_scoped_to_their_workspace(ws) -> None:
    flow = make(ws)
    other = f.workspace()
    assert flows.get(db.session, other.id, flow.id) is None
    assert flows.route(db.session, other.id, price_ids=set(), customer_id="c") is None


def test_a_second_flow_reaches_nobody_until_it_is_targeted(ws) -> None:
    default, second = make(ws), make(ws, "pause_instead")
    routed = {
        flows.route(db.session, ws.id, price_ids=set(), customer_id=f"c{i}").flow_id
        for i in range(50)
    }
    assert routed == {default.id}
    flows.set_targeting(db.session, second, is_default=False, price_ids=[], share_percent=50)
    routed = {
        flows.route(db.session, ws.id, price_ids=set(), customer_id=f"c{i}").flow_id
        for i in range(50)
    }
    assert routed == {default.id, second.id}


def test_archiving_the_default_hands_it_to_the_oldest_flow_left(ws) -> None:
    owner = f.member(ws, "owner")
    default, second = make(ws), make(ws, "pause_instead")
    flows.archive(db.session, default, actor_id=owner.id, actor_label="o", now=NOW)
    assert second.is_default and flows.has_published_flow(db.session, ws.id)
