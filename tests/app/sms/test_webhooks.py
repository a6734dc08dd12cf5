"""Twilio's calls to us: a reply is believed only with a valid signature (403 and
nothing stored otherwise); STOP opts out, START opts back in, HELP answers with the
merchant's contact in TwiML; delivery reports move a text forward, never back, and
only within its own workspace."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.sms import services
from app.sms.models import SmsMessage, SmsOptOut

from .. import factories as f
from .helpers import ACCOUNT_SID, reply, texts, turn_on, twilio_post

PHONE = "+14155550134"


def counts() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.execute(select(func.count(SmsMessage.id))).scalar_one(),
        db.session.execute(select(func.count(SmsOptOut.id))).scalar_one(),
    )


def setup(ctx):
    ws = f.workspace(name="Studio Yoga")
    db.session.commit()
    return turn_on(ws.id)


def test_a_bad_signature_is_refused_and_changes_nothing(web, ctx) -> None:
    row = setup(ctx)
    params = {"From": PHONE, "Body": "STOP", "AccountSid": ACCOUNT_SID}
    wrong = twilio_post(web, row.webhook_token, params, secret="x" * 32)
    unsigned = web.post(f"/webhooks/twilio/{row.webhook_token}", data=params)
    assert wrong.status_code == 403 and unsigned.status_code == 403
    assert counts() == (0, 0)


def test_an_unknown_token_is_404(web, ctx) -> None:
    setup(ctx)
    assert reply(web, "no-such-token", PHONE, "STOP").status_code == 404
    assert counts() == (0, 0)


def test_another_twilio_account_is_refused(web, ctx) -> None:
    row = setup(ctx)
    answer = reply(web, row.webhook_token, PHONE, "STOP", AccountSid="AC" + "9" * 32)
    assert answer.status_code == 403 and counts() == (0, 0)


def test_stop_then_start(web, ctx) -> None:
    row = setup(ctx)
    assert reply(web, row.webhook_token, PHONE, "UNSUBSCRIBE").status_code == 200
    again = reply(web, row.webhook_token, PHONE, "stop")  # twice: still one entry
    assert again.status_code == 200 and b"<Message>" not in again.data
    assert counts() == (2, 1)
    inbound_1, _ = texts("inbound")
    assert inbound_1.body == "UNSUBSCRIBE" and inbound_1.status == "received"
    assert reply(web, row.webhook_token, PHONE, "START").status_code == 200
    assert counts() == (3, 0)


def test_help_answers_with_the_support_contact(web, ctx) -> None:
    row = setup(ctx)
    answer = reply(web, row.webhook_token, PHONE, "HELP")
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    assert b"<Message>Studio Yoga: for help with your billing, contact help@shop.example." in (
        answer.data
    )
    [help_reply] = texts()
    assert help_reply.purpose == "help" and help_reply.transport == "twiml"
    assert help_reply.to_number == PHONE and help_reply.status == "sent"


def test_any_other_text_is_stored_and_not_answered(web, ctx) -> None:
    row = setup(ctx)
    answer = reply(web, row.webhook_token, PHONE, "I paid yesterday, check again")
    assert answer.status_code == 200 and b"<Message>" not in answer.data
    assert counts() == (1, 0)


def test_a_reply_without_a_number_is_400(web, ctx) -> None:
    row = setup(ctx)
    answer = twilio_post(web, row.webhook_token, {"Body": "STOP", "AccountSid": ACCOUNT_SID})
    assert answer.status_code == 400 and counts() == (0, 0)


def _sent_text(row, sid: str) -> SmsMessage:
    message = services.store(db.session, row, purpose="test", to=PHONE, body="hi", month="2026-07")
    services.mark_sent(message, sid, transport="twilio", now=message.created_at)
    db.session.commit()
    return message


def test_delivery_reports_move_forward_only(web, ctx) -> None:
    row = setup(ctx)
    message = _sent_text(row, "SM" + "1" * 32)
    report = {"MessageSid": message.provider_id, "AccountSid": ACCOUNT_SID}
    token = row.webhook_token
    ok = twilio_post(web, token, {**report, "MessageStatus": "delivered"}, path="/status")
    assert ok.status_code == 204
    late = twilio_post(web, token, {**report, "MessageStatus": "sent"}, path="/status")
    assert late.status_code == 204
    db.session.expire_all()
    assert db.session.get(SmsMessage, message.id).status == "delivered"


def test_a_failed_delivery_keeps_the_error(web, ctx) -> None:
    row = setup(ctx)
    message = _sent_text(row, "SM" + "2" * 32)
    params = {
        "MessageSid": message.provider_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": ACCOUNT_SID,
    }
    assert twilio_post(web, row.webhook_token, params, path="/status").status_code == 204
    db.session.expire_all()
    stored = db.session.get(SmsMessage, message.id)
    assert stored.status == "undelivered" and "30003" in stored.error


def test_a_report_cannot_reach_another_workspaces_text(web, ctx) -> None:
    mine = setup(ctx)
    other = f.workspace(name="Other")
    db.session.commit()
    theirs = turn_on(other.id)
    message = _sent_text(theirs, "SM" + "3" * 32)
    params = {
        "MessageSid": message.provider_id,
        "MessageStatus": "failed",
        "AccountSid": ACCOUNT_SID,
    }
    assert twilio_post(web, mine.webhook_token, params, path="/status").status_code == 204
    db.session.expire_all()
    assert db.session.get(SmsMessage, message.id).status == "sent"


def test_a_report_without_its_fields_is_400(web, ctx) -> None:
    row = setup(ctx)
    params = {"AccountSid": ACCOUNT_SID}
    assert twilio_post(web, row.webhook_token, params, path="/status").status_code == 400
