"""Settings → Notifications: add a Slack or Discord channel, choose what it posts,
send a test, see a revoked URL; bad input is a 400 that changes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.extensions import db
from app.integrations import channels
from app.integrations.models import NotificationChannel

from .. import factories as f
from ..forms import csrf_token, submit
from ..integrations.helpers import emit


@pytest.fixture
def owner(web, ctx):
    user = f.user("owner@example.com")
    ws = f.workspace(user, "Acme")
    db.session.commit()
    f.login(web, user)
    return ws


def count() -> int:
    return db.session.execute(select(func.count()).select_from(NotificationChannel)).scalar_one()


def add(web, url: str, **extra):
    data = {"kind": "slack", "url": url, "posts": ["recovered", "high_value_failure"],
            "threshold_amount": "250", "threshold_currency": "usd", **extra}  # fmt: skip
    return submit(web, "/settings/notifications", data)


def test_add_a_slack_channel_and_send_a_test(web, owner, receiver) -> None:
    page = web.get("/settings/notifications").get_data(as_text=True)
    assert "No channel yet." in page and "Daily digest" in page
    assert add(web, receiver.url).status_code == 302
    row = db.session.execute(select(NotificationChannel)).scalar_one()
    assert row.posts == ["recovered", "high_value_failure"]
    assert (row.threshold_minor, row.threshold_currency) == (25000, "usd")
    assert channels.decrypt_url(row) == receiver.url and receiver.url not in row.url_enc
    page = web.get("/settings/notifications").get_data(as_text=True)
    assert receiver.url not in page and row.url_hint in page and "250.00" in page
    assert submit(web, f"/settings/notifications/{row.id}/test", {},
                  page="/settings/notifications").status_code == 302  # fmt: skip
    body = json.loads(receiver.requests[0]["body"])
    assert body["blocks"][0]["text"]["text"] == "Backstop is connected to Slack"
    assert "Delivered" in web.get("/settings/notifications").get_data(as_text=True)
    actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
    assert list(actions) == ["notifications.channel_added", "notifications.test_sent"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"kind": "teams"}, "Choose Slack or Discord."),
        ({"url": "https://192.168.1.1/x"}, "private address"),
        ({"threshold_amount": "lots"}, "must be a number"),
        ({"threshold_amount": ""}, "Say from what amount"),
        ({"posts": ["everything"]}, "Choose what to post"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(web, owner, receiver, extra, words) -> None:
    response = add(web, extra.pop("url", receiver.url), **extra)
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert count() == 0
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_forms_need_csrf_and_viewers_only_read(web, ctx, receiver) -> None:
    ws = f.workspace(f.user(), "Acme")
    row = channels.create(db.session, ws.id, kind="discord", url=receiver.url, posts=["saved"],
                          threshold=None, rules=channels.Rules(allow_loopback=True))  # fmt: skip
    viewer = f.member(ws, "viewer")
    db.session.commit()
    f.login(web, viewer)
    page = web.get("/settings/notifications").get_data(as_text=True)
    assert "Discord" in page and "Add a channel" not in page and "Send test message" not in page
    base = f"/settings/notifications/{row.id}"
    for url in ("/settings/notifications", base, f"{base}/test", f"{base}/delete"):
        assert web.post(url, data={"confirm": "1"}).status_code == 400  # no CSRF token
        token = csrf_token(web, "/settings/notifications")
        assert web.post(url, data={"csrf_token": token, "confirm": "1"}).status_code == 403
    assert count() == 1 and receiver.requests == []


def test_a_revoked_channel_says_so_and_a_new_url_brings_it_back(web, owner, receiver) -> None:
    assert add(web, receiver.url).status_code == 302
    receiver.status = 410
    emit(owner)
    page = web.get("/settings/notifications").get_data(as_text=True)
    assert "Revoked" in page and "no longer exists" in page and "HTTP 410" in page
    row = db.session.execute(select(NotificationChannel)).scalar_one()
    receiver.status = 200
    data = {"url": receiver.url, "posts": ["recovered"], "threshold_amount": "",
            "threshold_currency": ""}  # fmt: skip
    response = submit(
        web, f"/settings/notifications/{row.id}", data, page="/settings/notifications"
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(NotificationChannel, row.id).state == "active"
    emit(owner)
    assert len(receiver.requests) == 2


def test_remove_a_channel(web, owner, receiver) -> None:
    add(web, receiver.url)
    row = db.session.execute(select(NotificationChannel)).scalar_one()
    url = f"/settings/notifications/{row.id}/delete"
    assert submit(web, url, {}, page="/settings/notifications").status_code == 400
    assert submit(web, url, {"confirm": "1"}, page="/settings/notifications").status_code == 302
    assert count() == 0
