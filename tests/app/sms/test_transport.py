"""The transports: the outbox stores only; Twilio gets the text through its SDK (here
through the SDK's own HTTP-client injection, never the network), and its answers map
to sent, failed for good (a STOP it knows of opts the number out) or try again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response

from app.extensions import db
from app.sms import delivery, services
from app.sms.models import SmsOptOut
from app.sms.transport import OutboxTransport, Outgoing, SmsTransportError, TwilioTransport

from .. import factories as f
from .helpers import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, turn_on

PHONE = "+14155550134"


class StandIn(HttpClient):
    """Answers the SDK's requests the way Twilio's API would, and keeps them."""

    def __init__(self, status: int = 201, body: dict[str, Any] | None = None) -> None:
        super().__init__(logger=None, is_async=False)  # type: ignore[arg-type]
        self.status = status
        self.body = body or {"sid": "SM" + "a" * 32, "status": "queued"}
        self.requests: list[dict[str, Any]] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, **kw):
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        return Response(self.status, json.dumps(self.body))


def test_the_outbox_transport_gives_an_id_and_sends_nothing() -> None:
    text = Outgoing(to=PHONE, body="hi", sender=FROM_NUMBER)
    assert OutboxTransport().send(text).startswith("outbox-")


def test_twilio_gets_the_text_with_its_callback() -> None:
    http = StandIn()
    transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, http)
    text = Outgoing(to=PHONE, body="hi", sender=FROM_NUMBER, status_callback="https://x/cb")
    assert transport.send(text) == "SM" + "a" * 32
    [sent] = http.requests
    assert sent["method"] == "POST" and sent["uri"].endswith(
        f"/Accounts/{ACCOUNT_SID}/Messages.json"
    )
    assert sent["auth"] == (ACCOUNT_SID, AUTH_TOKEN)
    assert sent["data"] == {
        "To": PHONE,
        "From": FROM_NUMBER,
        "Body": "hi",
        "StatusCallback": "https://x/cb",
    }


def test_a_messaging_service_is_the_sender_when_set() -> None:
    http = StandIn()
    TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, http).send(
        Outgoing(to=PHONE, body="hi", sender="MG" + "b" * 32)
    )
    assert http.requests[0]["data"]["MessagingServiceSid"] == "MG" + "b" * 32


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (401, True), (429, False), (503, False)]
)
def test_twilios_errors(status, permanent) -> None:
    http = StandIn(status, {"code": 21211, "message": "nope", "status": status})
    with pytest.raises(SmsTransportError) as caught:
        TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, http).send(
            Outgoing(to=PHONE, body="hi", sender=FROM_NUMBER)
        )
    assert caught.value.permanent is permanent


def _queued(ctx):
    ws = f.workspace(name="Studio")
    db.session.commit()
    row = turn_on(ws.id)
    message = services.store(db.session, row, purpose="test", to=PHONE, body="hi", month="2026-07")
    return row, message


def test_a_number_twilio_knows_as_stopped_fails_and_is_opted_out(ctx) -> None:
    row, message = _queued(ctx)
    http = StandIn(400, {"code": 21610, "message": "unsubscribed recipient", "status": 400})
    assert delivery.begin(db.session, message, now=message.created_at)
    transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, http)
    assert delivery.hand_over(db.session, message, transport, now=message.created_at) == "failed"
    assert db.session.query(SmsOptOut).one().source == "twilio"
    assert http.requests[0]["data"]["StatusCallback"].endswith(
        f"/webhooks/twilio/{row.webhook_token}/status"
    )


def test_a_temporary_failure_puts_the_text_back_in_the_queue(ctx) -> None:
    _row, message = _queued(ctx)
    assert delivery.begin(db.session, message, now=message.created_at)
    transport = TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, StandIn(503, {"code": 20500}))
    with pytest.raises(SmsTransportError):
        delivery.hand_over(db.session, message, transport, now=message.created_at)
    assert message.status == "queued" and message.attempts == 1


def test_a_text_already_handed_over_is_never_handed_over_again(ctx) -> None:
    _row, message = _queued(ctx)
    assert delivery.begin(db.session, message, now=message.created_at)
    assert message.status == "sending"
    assert not delivery.begin(db.session, message, now=message.created_at)


def test_a_stopped_number_blocks_the_text_when_stored(ctx) -> None:
    row, _ = _queued(ctx)
    services.opt_out(db.session, row.workspace_id, "+14155550199", source="reply")
    blocked = services.store(
        db.session, row, purpose="test", to="+14155550199", body="hi", month="2026-07"
    )
    assert blocked.status == "blocked" and "STOP" in blocked.error
