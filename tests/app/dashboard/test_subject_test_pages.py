"""Subject A/B tests over HTTP: a B subject saved on Settings → Emails starts a test,
the touch shows its results and verdict, promoting a subject (owners and admins, with
CSRF) keeps it alone and moves the test to the finished ones; bad input changes nothing;
the campaign page says which subject went."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.dunning import config, subject_tests
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.recovery.models import Campaign, Step

from .. import factories as f
from ..forms import csrf_token, submit

PAGE = "/settings/emails"
FORM = {"sequence": "standard", "from_name": "", "reply_to": "", "pause_days": ""}


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@ab.example")
    ws = f.workspace(owner, "AB Shop")
    viewer = f.member(ws, "viewer", "viewer@ab.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _start(web, subject_b: str = "{name}, one tap fixes it") -> None:
    data = {**FORM, "copy-d0-subject": "Payment failed", "copy-d0-subject_b": subject_b}
    assert submit(web, PAGE, data).status_code == 302


def _ended(ws, test, arm: str, state: str, n: int) -> Campaign:
    now = dt.datetime.now(dt.UTC)
    campaign = Campaign(
        workspace_id=ws.id,
        invoice_stripe_id=f"in_{arm}_{state}_{n}",
        customer_stripe_id="cus_1",
        amount_minor=4900,
        currency="usd",
        decline_class="scheduled",
        state=state,
        opened_at=now,
        last_failure_at=now,
        window_ends_at=now + dt.timedelta(days=30),
    )
    db.session.add(campaign)
    db.session.flush()
    step = Step(
        workspace_id=ws.id,
        campaign_id=campaign.id,
        kind="email",
        touch="d0",
        due_at=now,
        reason="r",
        status="done",
        outcome="sent",
        subject_test_id=test.id,
        subject_arm=arm,
    )
    db.session.add(step)
    db.session.flush()
    return campaign


def test_a_b_subject_starts_a_test_shown_with_its_results(web, shop) -> None:
    ws = shop["ws"]
    _start(web)
    test = subject_tests.running(db.session, ws.id)["d0"]
    for n in range(40):
        _ended(ws, test, "a", "recovered" if n < 12 else "lost", n)
        _ended(ws, test, "b", "recovered" if n < 30 else "lost", n)
    db.session.commit()
    html = text(web.get(PAGE))
    panel = html[html.index('id="subject-test-d0"') :]
    panel = panel[: panel.index("</fieldset>")]
    assert 'value="{name}, one tap fixes it"' in html
    assert "A/B test running" in panel
    assert '<tr data-arm="a"><td><strong>A</strong></td><td>Payment failed</td>' in panel
    assert '>40</td><td class="num">12</td><td class="num">30 %</td>' in panel
    assert '>40</td><td class="num">30</td><td class="num">75 %</td>' in panel
    assert "B is better: 45.0 points more recovered" in panel
    assert "Keep subject B only" in panel
    f.login(web, shop["viewer"])
    assert "Keep subject B only" not in text(web.get(PAGE))  # viewers only look


def test_promoting_the_winner_keeps_it_alone_and_the_results_stay(web, shop) -> None:
    ws = shop["ws"]
    _start(web)
    test = subject_tests.running(db.session, ws.id)["d0"]
    _ended(ws, test, "b", "recovered", 1)
    db.session.commit()
    url = f"/settings/emails/subject-tests/{test.id}/promote"
    assert web.post(url, data={"arm": "b"}).status_code == 400  # no CSRF token
    response = submit(web, url, {"arm": "b"}, page=PAGE)
    assert response.status_code == 302 and response.location.endswith("#touch-d0")
    db.session.expire_all()
    stored = config.settings_for(db.session, ws.id).copy
    assert stored["d0"] == {"subject": "{name}, one tap fixes it", "message": ""}
    html = text(web.get(PAGE))
    assert 'id="subject-test-d0"' not in html
    finished = html[html.index('id="finished-subject-tests"') :]
    assert '{name}, one tap fixes it <span class="pill recovered">kept</span>' in finished
    assert "B promoted by owner@ab.example" in finished and "1 of 1" in finished
    again = submit(web, url, {"arm": "a"}, page=PAGE)
    assert again.status_code == 409 and "ended already" in text(again)
    [entry] = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "dunning.subject_promoted")
    ).scalars()
    assert entry.details["arm"] == "b" and entry.target_id == str(test.id)


def test_bad_promotions_change_nothing(web, shop) -> None:
    ws = shop["ws"]
    _start(web)
    test = subject_tests.running(db.session, ws.id)["d0"]
    url = f"/settings/emails/subject-tests/{test.id}/promote"
    bad = submit(web, url, {"arm": "c"}, page=PAGE)
    assert bad.status_code == 400 and "Choose subject A or subject B" in text(bad)
    missing = submit(web, "/settings/emails/subject-tests/99999/promote", {"arm": "a"}, page=PAGE)
    assert missing.status_code == 404
    f.login(web, shop["viewer"])
    token = csrf_token(web, PAGE)
    assert web.post(url, data={"arm": "b", "csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert subject_tests.running(db.session, ws.id)["d0"].id == test.id
    assert config.settings_for(db.session, ws.id).copy["d0"]["subject_b"]


def test_a_b_subject_with_an_unknown_placeholder_is_a_400(web, shop) -> None:
    data = {**FORM, "copy-d3-subject_b": "Hey {nickname}"}
    response = submit(web, PAGE, data)
    assert response.status_code == 400
    html = text(response)
    assert "D3: subject B: unknown placeholder {nickname}" in html
    assert 'value="Hey {nickname}"' in html
    assert subject_tests.running(db.session, shop["ws"].id) == {}


def test_the_campaign_page_says_which_subject_went(web, shop) -> None:
    ws = shop["ws"]
    _start(web)
    test = subject_tests.running(db.session, ws.id)["d0"]
    campaign = _ended(ws, test, "b", "lost", 1)
    step = campaign.steps[0]
    db.session.add(
        OutboxMessage(
            workspace_id=ws.id,
            template="dunning",
            to_email="c@example.com",
            from_email="x@example.com",
            subject="Jo, one tap fixes it",
            body_text="t",
            body_html="h",
            status="sent",
            campaign_id=campaign.id,
            step_id=step.id,
        )
    )
    db.session.commit()
    html = text(web.get(f"/recovery/campaigns/{campaign.id}"))
    arms = html[html.index('id="subject-arms"') :]
    assert "d0: subject B" in arms[:300] and "“Jo, one tap fixes it”" in arms[:300]
