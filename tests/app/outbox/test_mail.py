"""Mail around the dunning loop: delivery through a transport, one-click unsubscribe,
bounce and complaint notices, the Emails and Send domain settings pages."""

from __future__ import annotations

import json
import time
from html import unescape

import pytest
from moto import mock_aws
from sqlalchemy import func, select

import emails
from app.dunning.models import DunningSettings
from app.extensions import db
from app.outbox import services as outbox
from app.outbox.models import OutboxMessage, SendDomain, Suppression
from emails.notices import sign_resend

from ...emails.test_notices import CERT, TOPIC, confirmation, notification, signed
from .. import factories as f
from ..forms import csrf_token, submit


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@mail.example")
    ws = f.workspace(owner, "Mail Shop")
    viewer = f.member(ws, "viewer", "viewer@mail.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


def send(ws, to: str = "jo@example.com") -> OutboxMessage:
    message = outbox.send(
        db.session,
        template="card_update_link",
        to=to,
        context={"brand": {"name": ws.name}, "button_url": "https://x/u", "link_days": 21},
        from_email="Shop <billing@shop.example>",
        workspace_id=ws.id,
    )
    db.session.commit()
    return db.session.get(OutboxMessage, message.id)


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


class Refusing:
    name = "resend"

    def __init__(self, permanent: bool) -> None:
        self.permanent = permanent

    def send(self, message):
        raise emails.TransportError("422 the from address is not allowed", permanent=self.permanent)


def test_a_message_is_delivered_after_commit_with_its_headers(shop) -> None:
    message = send(shop["ws"])
    assert message.status == "sent" and message.sent_at is not None
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message.headers["List-Unsubscribe"].strip("<>")
    assert link in message.body_text and link in message.body_html


def test_a_permanent_refusal_marks_the_message_failed_a_temporary_one_raises(shop) -> None:
    row = OutboxMessage(
        workspace_id=shop["ws"].id,
        template="t",
        to_email="a@b.c",
        from_email="x@y.z",
        subject="s",
        body_text="t",
        body_html="<p>h</p>",
        headers={},
        status="queued",
        attempts=0,
    )
    db.session.add(row)
    db.session.flush()
    with pytest.raises(emails.TransportError):
        outbox.deliver(db.session, row, Refusing(permanent=False))
    assert row.status == "queued" and row.attempts == 1 and "422" in row.error
    assert outbox.deliver(db.session, row, Refusing(permanent=True)) == "failed"
    assert row.attempts == 2


def test_one_click_unsubscribe_suppresses_and_later_sends_are_blocked(shop, web) -> None:
    message = send(shop["ws"], "Jo@Example.com")
    url = message.headers["List-Unsubscribe"].strip("<>").replace("http://localhost", "")
    response = web.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    [row] = db.session.execute(select(Suppression)).scalars().all()
    assert (row.email, row.reason, row.source) == ("jo@example.com", "unsubscribed", "one-click")
    assert web.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent
    assert count(Suppression) == 1
    assert "You're unsubscribed" in unescape(web.get(url).get_data(as_text=True))
    again = send(shop["ws"])
    assert again.status == "blocked" and "suppression list (unsubscribed)" in again.error


def test_an_unsubscribe_link_of_another_shape_is_404(web, shop) -> None:
    assert web.get("/unsubscribe/not-a-token").status_code == 404
    assert web.post("/unsubscribe/not-a-token", data={}).status_code == 404
    assert count(Suppression) == 0


def test_ses_bounces_and_complaints_suppress_in_the_sending_workspace(shop, web, app) -> None:
    message = send(shop["ws"], "gone@example.com")
    message.provider_id = "0100018f-ses-id"
    db.session.commit()
    app.extensions["backstop.sns_cert_fetcher"] = lambda url: CERT
    try:
        bounce = {
            "notificationType": "Bounce",
            "mail": {"messageId": "0100018f-ses-id"},
            "bounce": {
                "bounceType": "Permanent",
                "bouncedRecipients": [{"emailAddress": "gone@example.com"}],
            },
        }
        body = json.dumps(signed(notification(bounce))).encode()
        response = web.post("/webhooks/ses", data=body, content_type="text/plain")
        assert response.status_code == 200 and response.json["suppressed"] == 1
        tampered = signed(notification(bounce))
        tampered["Message"] = tampered["Message"].replace("gone@", "other@")
        bad = web.post("/webhooks/ses", data=json.dumps(tampered), content_type="text/plain")
        assert bad.status_code == 400
    finally:
        del app.extensions["backstop.sns_cert_fetcher"]
    [row] = db.session.execute(select(Suppression)).scalars().all()
    assert (row.reason, row.source, row.message_id) == ("bounced", "ses", message.id)


def test_pinned_sns_topics_refuse_others_and_confirm_their_own(shop, web, app, monkeypatch) -> None:
    settings = app.config["BACKSTOP"]
    pinned = type(settings)(**{**settings.__dict__, "sns_topic_arns": TOPIC})
    monkeypatch.setitem(app.config, "BACKSTOP", pinned)
    confirmed: list[str] = []
    monkeypatch.setitem(app.extensions, "backstop.sns_cert_fetcher", lambda url: CERT)
    monkeypatch.setitem(app.extensions, "backstop.sns_confirm", confirmed.append)
    stranger = signed({**confirmation(), "TopicArn": "arn:aws:sns:eu-west-1:999:other"})
    response = web.post("/webhooks/ses", data=json.dumps(stranger), content_type="text/plain")
    assert response.status_code == 400 and confirmed == []
    ours = signed(confirmation())
    response = web.post("/webhooks/ses", data=json.dumps(ours), content_type="text/plain")
    assert response.status_code == 200 and response.json["confirmed"] is True
    assert confirmed == [ours["SubscribeURL"]]


def test_resend_complaints_are_verified_then_suppress(shop, web, app, monkeypatch) -> None:
    secret = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHM="
    settings = app.config["BACKSTOP"]
    monkeypatch.setitem(
        app.config,
        "BACKSTOP",
        type(settings)(**{**settings.__dict__, "resend_webhook_secret": secret}),
    )
    message = send(shop["ws"], "angry@example.com")
    message.provider_id = "re_4ef9a417"
    db.session.commit()
    body = json.dumps(
        {
            "type": "email.complained",
            "data": {"email_id": "re_4ef9a417", "to": ["angry@example.com"]},
        }
    ).encode()
    now = int(time.time())
    headers = {
        "svix-id": "msg_1",
        "svix-timestamp": str(now),
        "svix-signature": sign_resend(body, msg_id="msg_1", timestamp=now, secret=secret),
    }
    assert web.post("/webhooks/resend", data=body, headers=headers).status_code == 200
    headers["svix-signature"] = "v1,AAAA"
    assert web.post("/webhooks/resend", data=body, headers=headers).status_code == 400
    [row] = db.session.execute(select(Suppression)).scalars().all()
    assert (row.reason, row.source) == ("complained", "resend")


# -- Settings → Emails ----------------------------------------------------------------------


def test_the_emails_page_saves_sequence_sender_and_copy(shop, web) -> None:
    html = unescape(web.get("/settings/emails").get_data(as_text=True))
    assert "Standard" in html and "d14" in html and "Preview" in html
    response = submit(
        web,
        "/settings/emails",
        {
            "sequence": "extended",
            "from_name": "Mail Shop Billing",
            "reply_to": "Help@Mail.example",
            "pause_days": "30",
            "copy-d3-subject": "{name}, {amount} is still due",
            "copy-d3-message": "",
        },
    )
    assert response.status_code == 302
    row = db.session.execute(select(DunningSettings)).scalar_one()
    assert (row.sequence, row.from_name, row.reply_to, row.pause_days) == (
        "extended",
        "Mail Shop Billing",
        "help@mail.example",
        30,
    )
    assert row.copy == {"d3": {"subject": "{name}, {amount} is still due", "message": ""}}


def test_bad_email_settings_say_everything_and_change_nothing(shop, web) -> None:
    response = submit(
        web,
        "/settings/emails",
        {
            "sequence": "short",
            "reply_to": "not an address",
            "pause_days": "45",
            "copy-d1-subject": "Hi {first}",
        },
    )
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "reply-to address" in html and "unknown placeholder {first}" in html
    assert "A pause lasts 14, 30 or 60 days" in html
    assert db.session.execute(select(DunningSettings)).scalar_one_or_none() is None


def test_viewers_see_the_settings_but_cannot_save(shop, web) -> None:
    token = csrf_token(web, "/settings/emails")
    f.login(web, shop["viewer"])
    assert web.get("/settings/emails").status_code == 200
    response = web.post("/settings/emails", data={"csrf_token": token, "sequence": "short"})
    assert response.status_code == 403


def test_the_preview_renders_the_touch_on_sample_data(shop, web) -> None:
    token = csrf_token(web, "/settings/emails")
    response = web.post(
        "/settings/emails/preview",
        json={
            "sequence": "standard",
            "touch": "d14",
            "variant": "authentication_required",
            "subject": "",
            "message": "Hello {name} from {merchant}",
        },
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert response.json["subject"].startswith("Last reminder")
    assert "Hello Jordan from Mail Shop" in response.json["html"]
    assert "Confirm the payment" in response.json["html"]
    for bad in ({"sequence": "weekly"}, {"sequence": "short", "touch": "d0"}, []):
        answer = web.post("/settings/emails/preview", json=bad, headers={"X-CSRFToken": token})
        assert answer.status_code == 400


# -- Settings → Send domain -----------------------------------------------------------------


@pytest.fixture
def ses(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_a_send_domain_gets_its_dkim_records_and_verifies(shop, web, ses) -> None:
    response = submit(
        web, "/settings/send-domain", {"domain": "Mail.Shop.Example", "from_local": "billing"}
    )
    assert response.status_code == 302
    row = db.session.execute(select(SendDomain)).scalar_one()
    assert row.domain == "mail.shop.example" and row.status == "pending"
    assert len(row.records) == 3 and all(r["type"] == "CNAME" for r in row.records)
    assert all(r["name"].endswith("._domainkey.mail.shop.example") for r in row.records)
    html = unescape(web.get("/settings/send-domain").get_data(as_text=True))
    assert "on hold until this domain is verified" in html and row.records[0]["value"] in html
    assert outbox.sender_for(db.session, shop["ws"].id, "Mail Shop").blocked
    submit(web, "/settings/send-domain/verify", {}, page="/settings/send-domain")
    db.session.expire_all()
    row = db.session.execute(select(SendDomain)).scalar_one()
    assert row.status == "verified" and row.verified_at is not None  # moto's SES verifies at once
    sender = outbox.sender_for(db.session, shop["ws"].id, "Mail Shop")
    assert sender.blocked is None and sender.from_addr == "Mail Shop <billing@mail.shop.example>"
    submit(web, "/settings/send-domain/remove", {}, page="/settings/send-domain")
    assert count(SendDomain) == 0


@pytest.mark.parametrize("typed", ["not a domain", "localhost", "http://x.example", "a@b.example"])
def test_a_bad_domain_is_refused_and_nothing_is_stored(shop, web, ses, typed) -> None:
    response = submit(web, "/settings/send-domain", {"domain": typed, "from_local": "billing"})
    assert response.status_code == 400
    assert count(SendDomain) == 0
