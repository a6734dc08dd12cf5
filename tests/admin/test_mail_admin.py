"""The back office's mail views: admins resend (audited; the suppression list still
wins), lift a suppression and re-check a send domain; support only reads."""

from __future__ import annotations

import datetime as dt

import pytest
from moto import mock_aws
from sqlalchemy import select

from app.extensions import db
from app.outbox import domains
from app.outbox import services as outbox
from app.outbox.models import OutboxMessage, SendDomain, Suppression

from ..app import factories as f
from .test_admin import audit_actions, post_action, staff


@pytest.fixture
def sent(ctx):
    ws = f.workspace(name="Mail Co")
    message = outbox.send(
        db.session,
        template="card_update_link",
        to="jo@example.com",
        context={"brand": {"name": "Mail Co"}, "button_url": "https://x/u", "link_days": 21},
        from_email="Mail Co <billing@mail.example>",
        workspace_id=ws.id,
    )
    db.session.commit()
    return ws, message


def messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_admin_resends_a_message_as_it_was_and_it_is_audited(web, sent) -> None:
    _ws, original = sent
    staff(web, "admin")
    assert post_action(web, "outbox", "resend", original.id).status_code == 302
    first, copy = messages()
    assert copy.resent_from_id == first.id and copy.body_html == first.body_html
    assert copy.headers == first.headers and copy.status == "sent"
    assert audit_actions() == ["outbox_message.resend"]


def test_a_resend_to_a_suppressed_address_is_stored_blocked(web, sent) -> None:
    ws, original = sent
    outbox.suppress(db.session, ws.id, "jo@example.com", "bounced", source="ses")
    db.session.commit()
    staff(web, "admin")
    post_action(web, "outbox", "resend", original.id)
    assert [m.status for m in messages()] == ["sent", "blocked"]


def test_support_reads_the_mail_views_but_cannot_act(web, sent) -> None:
    ws, original = sent
    outbox.suppress(db.session, ws.id, "jo@example.com", "unsubscribed", source="one-click")
    db.session.add(SendDomain(workspace_id=ws.id, domain="mail.mailco.example"))
    db.session.commit()
    staff(web, "support")
    for url in ("/admin/outbox/", "/admin/email-suppressions/", "/admin/send-domains/"):
        assert web.get(url).status_code == 200, url
    assert "mail.mailco.example" in web.get("/admin/send-domains/").get_data(as_text=True)
    assert post_action(web, "outbox", "resend", original.id).status_code == 403
    row = db.session.execute(select(Suppression)).scalar_one()
    assert post_action(web, "email-suppressions", "delete", row.id).status_code == 403
    assert len(messages()) == 1 and audit_actions() == []


def test_admin_lifts_a_suppression(web, sent) -> None:
    ws, _ = sent
    row = outbox.suppress(db.session, ws.id, "jo@example.com", "complained", source="resend")
    db.session.commit()
    staff(web, "admin")
    post_action(web, "email-suppressions", "delete", row.id)
    assert db.session.execute(select(Suppression)).first() is None
    assert audit_actions() == ["email_suppression.delete"]


def test_admin_verifies_a_send_domain(web, sent, monkeypatch) -> None:
    ws, _ = sent
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        with web.application.app_context():
            client = domains.ses_client(web.application.config["BACKSTOP"])
            row = domains.add(
                db.session,
                ws.id,
                "mail.mailco.example",
                from_local="billing",
                client=client,
                now=dt.datetime.now(dt.UTC),
            )
            db.session.commit()
            row_id = row.id
        staff(web, "admin")
        post_action(web, "send-domains", "verify", row_id)
    db.session.expire_all()
    assert db.session.get(SendDomain, row_id).status == "verified"
    assert audit_actions() == ["send_domain.verify"]
