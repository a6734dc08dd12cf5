"""Settings → Webhooks: owners and admins add and change endpoints, reveal and rotate
secrets, send test events and resend deliveries; viewers read; bad input is a 400 that
changes nothing; every form needs its CSRF token; every change is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.extensions import db
from app.integrations import endpoints
from app.integrations.models import Delivery, WebhookEndpoint

from .. import factories as f
from ..forms import csrf_token, submit
from ..integrations.helpers import LOCAL, deliveries


@pytest.fixture
def owner(web, ctx):
    user = f.user("owner@example.com")
    ws = f.workspace(user, "Acme")
    db.session.commit()
    f.login(web, user)
    return ws


def endpoints_count() -> int:
    return db.session.execute(select(func.count()).select_from(WebhookEndpoint)).scalar_one()


def actions() -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def add(web, url: str, **extra):
    data = {
        "url": url,
        "description": "CRM",
        "all_events": "0",
        "event_types": ["recovery.campaign.recovered", "cancel.session.saved"],
        **extra,
    }
    return submit(web, "/settings/webhooks", data)


def test_an_owner_adds_an_endpoint(web, owner, receiver) -> None:
    page = web.get("/settings/webhooks").get_data(as_text=True)
    assert "No endpoints yet." in page and "Add an endpoint" in page
    assert 'href="/settings/webhooks"' in page  # in the settings navigation
    response = add(web, receiver.url)
    assert response.status_code == 302
    [row] = db.session.execute(select(WebhookEndpoint)).scalars().all()
    assert response.headers["Location"].endswith(f"/settings/webhooks/{row.id}")
    assert row.event_types == ["recovery.campaign.recovered", "cancel.session.saved"]
    assert endpoints.secret(row) not in row.secret_enc  # encrypted at rest
    assert actions() == ["webhooks.endpoint_added"]
    listing = web.get("/settings/webhooks").get_data(as_text=True)
    assert receiver.url in listing and "2 events" in listing


@pytest.mark.parametrize(
    ("url", "extra", "words"),
    [
        ("https://10.0.0.5/hook", {}, "private address"),
        ("https://169.254.169.254/latest", {}, "link-local"),
        ("not a url", {}, "must start with https"),
        ("https://hooks.example.com/x", {"event_types": []}, "Choose at least one event"),
        ("https://hooks.example.com/x", {"event_types": ["invoice.paid"]}, "does not send"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(web, owner, url, extra, words) -> None:
    response = add(web, url, **extra)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert words in page and "Nothing was changed." in page
    assert endpoints_count() == 0 and actions() == []


def test_every_form_needs_its_csrf_token(web, owner, receiver) -> None:
    add(web, receiver.url)
    row = db.session.execute(select(WebhookEndpoint)).scalar_one()
    base = f"/settings/webhooks/{row.id}"
    posts = ["/settings/webhooks", base, f"{base}/state", f"{base}/delete", f"{base}/secret",
             f"{base}/rotate", f"{base}/test"]  # fmt: skip
    for url in posts:
        response = web.post(url, data={"url": "https://x.example/y", "state": "off",
                                       "event_type": "recovery.campaign.recovered"})  # fmt: skip
        assert response.status_code == 400, url
    db.session.expire_all()
    assert endpoints_count() == 1 and row.is_enabled and actions() == ["webhooks.endpoint_added"]
    assert receiver.requests == []


def test_a_viewer_reads_but_cannot_change_or_see_the_secret(web, ctx, receiver) -> None:
    ws = f.workspace(f.user(), "Acme")
    row = endpoints.create(db.session, ws.id, url=receiver.url, event_types=["*"],
                           description="", rules=LOCAL)  # fmt: skip
    secret = endpoints.secret(row)
    viewer = f.member(ws, "viewer")
    db.session.commit()
    f.login(web, viewer)
    page = web.get(f"/settings/webhooks/{row.id}").get_data(as_text=True)
    assert receiver.url in page and secret not in page and secret[-4:] in page
    assert "Only owners and admins can see or rotate the secret." in page
    assert "Add an endpoint" not in web.get("/settings/webhooks").get_data(as_text=True)
    token = csrf_token(web, "/settings/webhooks")
    for url in (
        "/settings/webhooks",
        f"/settings/webhooks/{row.id}/secret",
        f"/settings/webhooks/{row.id}/rotate",
        f"/settings/webhooks/{row.id}/test",
    ):
        assert web.post(url, data={"csrf_token": token}).status_code == 403
    assert endpoints.secret(db.session.get(WebhookEndpoint, row.id)) == secret


def test_reveal_and_rotate_the_secret(web, owner, receiver) -> None:
    add(web, receiver.url)
    row = db.session.execute(select(WebhookEndpoint)).scalar_one()
    old = endpoints.secret(row)
    page = submit(
        web, f"/settings/webhooks/{row.id}/secret", {}, page=f"/settings/webhooks/{row.id}"
    )
    assert page.status_code == 200 and old in page.get_data(as_text=True)
    response = submit(web, f"/settings/webhooks/{row.id}/rotate", {"overlap": "1"},
                      page=f"/settings/webhooks/{row.id}")  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(WebhookEndpoint, row.id)
    assert endpoints.secret(row) != old and row.previous_secret_enc is not None
    assert "Rotation under way" in web.get(f"/settings/webhooks/{row.id}").get_data(as_text=True)
    assert actions()[-2:] == ["webhooks.secret_revealed", "webhooks.secret_rotated"]


def test_send_a_test_event_and_resend_a_failed_delivery(web, owner, receiver) -> None:
    add(web, receiver.url)
    row = db.session.execute(select(WebhookEndpoint)).scalar_one()
    receiver.status = 500
    response = submit(
        web,
        f"/settings/webhooks/{row.id}/test",
        {"event_type": "cancel.session.saved"},
        page=f"/settings/webhooks/{row.id}",
    )
    assert response.status_code == 302
    [delivery] = deliveries()
    assert (delivery.status, delivery.is_test) == ("failed", True)  # a test is tried once
    body = json.loads(receiver.requests[0]["body"])
    assert body["test"] is True and body["type"] == "cancel.session.saved"
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "HTTP 500" in page and "Backstop-Signature" in page and "Resend" in page
    receiver.status = 200
    url = f"/settings/webhooks/{row.id}/deliveries/{delivery.id}/resend"
    assert web.post(url).status_code == 400  # no CSRF token: nothing resent
    assert len(receiver.requests) == 1
    assert submit(web, url, {}, page=f"/settings/webhooks/{row.id}").status_code == 302
    [delivery] = deliveries()
    assert delivery.status == "delivered" and len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    page = web.get(f"/settings/webhooks/{row.id}/deliveries/{delivery.id}").get_data(as_text=True)
    assert page.count("HTTP 200") >= 1 and page.count("HTTP 500") >= 1
    log = web.get(f"/settings/webhooks/{row.id}?status=delivered").get_data(as_text=True)
    assert "cancel.session.saved" in log


def test_turn_off_edit_and_delete(web, owner, receiver) -> None:
    add(web, receiver.url)
    row = db.session.execute(select(WebhookEndpoint)).scalar_one()
    page = f"/settings/webhooks/{row.id}"
    assert submit(web, f"{page}/state", {"state": "sideways"}, page=page).status_code == 400
    assert submit(web, f"{page}/state", {"state": "off"}, page=page).status_code == 302
    db.session.expire_all()
    assert not db.session.get(WebhookEndpoint, row.id).is_enabled
    assert "Turn on" in web.get(page).get_data(as_text=True)
    data = {"event_type": "cancel.session.saved"}
    assert submit(web, f"{page}/test", data, page=page).status_code == 409
    data = {"url": receiver.url + "/v2", "all_events": "1"}
    assert submit(web, page, data).status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, row.id).event_types == ["*"]
    assert submit(web, f"{page}/delete", {}, page=page).status_code == 302
    assert endpoints_count() == 0
    assert db.session.execute(select(func.count()).select_from(Delivery)).scalar_one() == 0
    assert actions()[1:] == ["webhooks.endpoint_disabled", "webhooks.endpoint_changed",
                             "webhooks.endpoint_deleted"]  # fmt: skip
