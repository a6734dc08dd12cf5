"""The back office's domain events: staff read the list (name, workspace, subject, times,
hand-overs, last error) and each event's payload, filter by name and state, within the
``?workspace_id=`` scope; nobody creates, edits or deletes one."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, select

from app.events.models import DomainEvent
from app.extensions import db
from app.models import utcnow

from ..app import factories as f
from ..app.forms import csrf_token
from .test_recovery_admin import make_campaign, staff

LIST = "/admin/domain-events/"


def domain_event(ws, name: str, subject: str, *, status: str = "done", **kw) -> DomainEvent:
    now = utcnow()
    row = DomainEvent(
        workspace_id=ws.id,
        name=name,
        subject=subject,
        data=kw.pop("data", {"amount_minor": 2900, "currency": "usd"}),
        occurred_at=now,
        created_at=now,
        due_at=now,
        status=status,
        attempts=kw.pop("attempts", 1),
        dispatched_at=now if status == "done" else None,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def events(ctx):
    ours, theirs = f.workspace(name="Ours"), f.workspace(name="Theirs")
    campaign = make_campaign(ours)
    recovered = domain_event(
        ours,
        "recovery.campaign.recovered",
        f"campaign:{campaign.id}",
        data={"campaign_id": campaign.id, "attribution": "card_update", "amount_minor": 2900},
    )
    failed = domain_event(
        ours,
        "dunning.email.sent",
        "message:40",
        status="failed",
        attempts=8,
        error="slack: ConnectionError: the hook did not answer",
    )
    secret = domain_event(theirs, "recovery.campaign.lost", "campaign:999999")
    db.session.commit()
    return {"ours": ours, "campaign": campaign, "recovered": recovered, "failed": failed} | {
        "theirs": theirs,
        "secret": secret,
    }


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("role", ["support", "admin"])
def test_staff_read_the_list_and_each_payload(web, events, role) -> None:
    staff(web, role)
    page = text(web.get(LIST))
    assert "List (3)" in page
    for shown in ("recovery.campaign.recovered", "dunning.email.sent", "recovery.campaign.lost"):
        assert shown in page
    assert "slack: ConnectionError: the hook did not answer" in page  # the last error
    assert ">ours</span></a>" in page and ">theirs</span></a>" in page  # workspaces by slug
    campaign = events["campaign"]
    assert f"<code>campaign:{campaign.id}</code></a>" in page
    details = text(web.get(f"{LIST}details/?id={events['recovered'].id}"))
    assert '"attribution": "card_update"' in details and '"amount_minor": 2900' in details
    assert "Handed over" in details and "Hand-overs" in details
    link = f"/admin/recovery-campaigns/details/?id={campaign.id}&workspace_id={events['ours'].id}"
    assert link in html.unescape(details)


@pytest.mark.parametrize("role", ["support", "admin"])
def test_nobody_creates_edits_or_deletes_one(web, events, role) -> None:
    staff(web, role)
    row = events["recovered"]
    page = text(web.get(LIST))
    for control in ('name="action"', "/new/", "/edit/", "/delete/", 'name="rowid"'):
        assert control not in page, control
    # Flask-Admin sends admins back to the list; support meets the write rule's 403.
    assert web.get(f"{LIST}new/").status_code in (302, 403)
    assert web.get(f"{LIST}edit/?id={row.id}").status_code in (302, 403)
    token = csrf_token(web, "/admin/")
    for url, form in (
        (f"{LIST}new/", {"name": "forged", "subject": "campaign:1", "workspace_id": "1"}),
        (f"{LIST}edit/?id={row.id}", {"name": "forged"}),
        (f"{LIST}delete/", {"id": str(row.id)}),
        (f"{LIST}action/", {"action": "delete", "rowid": str(row.id)}),
    ):
        response = web.post(url, data={"csrf_token": token, **form})
        assert response.status_code in (302, 403), url
    db.session.expire_all()
    assert db.session.get(DomainEvent, row.id).name == "recovery.campaign.recovered"
    assert db.session.execute(select(func.count()).select_from(DomainEvent)).scalar_one() == 3


def test_merchants_and_strangers_never_see_them(web, events) -> None:
    anonymous = web.get(LIST)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    merchant = f.user()
    db.session.commit()
    f.login(web, merchant)
    assert web.get(LIST).status_code == 403
    assert web.get(f"{LIST}details/?id={events['secret'].id}").status_code == 403


def test_filters_by_name_and_state(web, events) -> None:
    staff(web, "support")
    by_state = text(web.get(f"{LIST}?flt0_state_equals=failed"))
    assert "List (1)" in by_state and "dunning.email.sent" in by_state
    by_name = text(web.get(f"{LIST}?flt0_name_equals=recovery.campaign.lost"))
    assert "List (1)" in by_name and "recovery.campaign.lost" in by_name
    family = text(web.get(f"{LIST}?flt0_name_contains=recovery.campaign"))
    assert "List (2)" in family
    both = text(web.get(f"{LIST}?flt0_name_contains=recovery&flt1_state_equals=done"))
    assert "List (2)" in both
    found = text(web.get(f"{LIST}?search=message:40"))
    assert "List (1)" in found
    home = text(web.get("/admin/"))
    assert "Domain events that gave up" in home
    assert f"{LIST}?flt0_state_equals=failed" in home


def test_the_workspace_scope_holds_for_list_details_and_counts(web, app, events) -> None:
    ours, secret = events["ours"], events["secret"]
    staff(web, "admin")
    scope = f"?workspace_id={ours.id}"
    page = text(web.get(LIST + scope))
    assert "List (2)" in page and "Only records of workspace" in page
    assert "recovery.campaign.lost" not in page
    outside = web.get(f"{LIST}details/?id={secret.id}&workspace_id={ours.id}")
    assert outside.status_code == 302  # Flask-Admin: "record does not exist"
    assert web.get(f"{LIST}?workspace_id=abc").status_code == 400
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "domain_events")
    with app.test_request_context(LIST + scope):
        assert view.get_one(str(events["recovered"].id)).id == events["recovered"].id
        assert view.get_one(str(secret.id)) is None
        assert view.get_count_query().scalar() == 2
    workspace_page = text(web.get(f"/admin/workspaces/details/?id={ours.id}"))
    assert f"{LIST}?workspace_id={ours.id}" in workspace_page


def test_times_are_shown_in_utc(web, events) -> None:
    row = events["failed"]
    row.created_at = dt.datetime(2026, 6, 1, 9, 30, 5, tzinfo=dt.UTC)
    db.session.commit()
    staff(web, "support")
    assert "2026-06-01 09:30:05 UTC" in text(web.get(LIST))
