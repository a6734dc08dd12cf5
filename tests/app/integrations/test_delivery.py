"""Outbound webhooks end to end on the embedded stack: an event becomes one signed
delivery per endpoint that wants it; a 500 or a timeout is retried from the schedule,
a 2xx never; three days of failures disable the endpoint and email its owners."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.integrations import backoff, catalogue, endpoints, fanout, transport
from app.integrations.models import WebhookEndpoint
from app.outbox.models import OutboxMessage
from workers.sweeper import sweep_once

from .. import factories as f
from .helpers import attempts, deliveries, emit, endpoint, use_clock
from .test_signing import reference_verify


def shop():
    owner = f.user("owner@example.com")
    ws = f.workspace(owner, "Acme")
    f.member(ws, "viewer", "viewer@example.com")
    return ws


def test_an_event_reaches_each_endpoint_that_wants_it_signed(ctx, receiver) -> None:
    ws = shop()
    wants = endpoint(ws, receiver.url, ["recovery.campaign.recovered"])
    endpoint(ws, receiver.url + "/other", ["cancel.session.saved"])
    db.session.commit()
    event = emit(ws)
    emit(ws, "recovery.campaign.started")  # wanted by neither
    [request] = receiver.requests
    secret = endpoints.secret(db.session.get(WebhookEndpoint, wants.id))
    header = request["headers"]["Backstop-Signature"]
    body = reference_verify(request["body"].encode(), header, secret, now=int(header[2:12]))
    assert body["id"] == catalogue.event_id(event.id) == request["headers"]["Backstop-Event-Id"]
    assert body["type"] == "recovery.campaign.recovered" and body["workspace"] == ws.slug
    assert body["data"]["object"]["recovered_amount"] == 4900
    assert body["data"]["object"]["state"] == "recovered"
    [delivery] = deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    [attempt] = attempts(delivery)
    assert attempt.is_success and attempt.response_status == 200
    assert attempt.request_headers["Backstop-Signature"] == header


def test_a_second_hand_over_makes_no_second_delivery(ctx, receiver) -> None:
    ws = shop()
    endpoint(ws, receiver.url)
    db.session.commit()
    event = emit(ws)
    again = fanout.fan_out(db.session, event, fanout.context(), now=dt.datetime.now(dt.UTC))
    db.session.commit()
    assert again == [] and len(deliveries()) == 1 and len(receiver.requests) == 1


def test_a_500_is_retried_from_the_schedule_and_a_2xx_never(ctx, receiver, monkeypatch) -> None:
    clock = use_clock(monkeypatch)
    ws = shop()
    endpoint(ws, receiver.url)
    db.session.commit()
    receiver.status = 500
    emit(ws)
    [delivery] = deliveries()
    assert delivery.status == "pending" and delivery.last_status == 500
    assert clock.now + dt.timedelta(seconds=30) <= delivery.due_at <= clock.now + backoff.BASE
    assert sweep_once(clock.now) == 0  # not due yet
    receiver.status = 200
    clock.now = delivery.due_at
    assert sweep_once(clock.now) == 1
    [delivery] = deliveries()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [a.response_status for a in attempts(delivery)] == [500, 200]
    first, second = (r["body"] for r in receiver.requests)
    assert first == second  # the same event, byte for byte
    assert sweep_once(clock.advance(days=4)) == 0 and len(receiver.requests) == 2


def test_a_429_waits_as_long_as_its_retry_after_asks(ctx, receiver, monkeypatch) -> None:
    clock = use_clock(monkeypatch)
    ws = shop()
    endpoint(ws, receiver.url)
    db.session.commit()
    receiver.status, receiver.headers = 429, {"Retry-After": "600"}
    emit(ws)
    [delivery] = deliveries()
    assert (delivery.status, delivery.last_status) == ("pending", 429)
    assert delivery.due_at == clock.now + dt.timedelta(seconds=600)  # not the minute's backoff
    assert sweep_once(clock.now + dt.timedelta(seconds=599)) == 0


def test_a_timeout_is_retried(ctx, receiver, monkeypatch) -> None:
    use_clock(monkeypatch)
    ws = shop()
    endpoint(ws, receiver.url)
    db.session.commit()

    def slow(*args, **kwargs):
        return transport.Answer(None, None, 5000, "no answer within 5 s")

    monkeypatch.setattr(transport, "post", slow)
    emit(ws)
    [delivery] = deliveries()
    assert delivery.status == "pending" and delivery.last_error == "no answer within 5 s"
    assert attempts(delivery)[0].error == "no answer within 5 s"


def test_three_days_of_failures_disable_the_endpoint_and_email_the_owners(
    ctx, receiver, monkeypatch
) -> None:
    clock = use_clock(monkeypatch)
    ws = shop()
    hook = endpoint(ws, receiver.url)
    db.session.commit()
    receiver.status = 503
    started = clock.now
    emit(ws)
    for _ in range(60):
        [delivery] = deliveries()
        if delivery.status != "pending":
            break
        clock.now = delivery.due_at
        sweep_once(clock.now)
    assert delivery.status == "failed"
    assert clock.now - started == backoff.WINDOW  # tried until the very end, not before
    db.session.expire_all()
    hook = db.session.get(WebhookEndpoint, hook.id)
    assert not hook.is_enabled and "3 days" in hook.disabled_reason
    mail = db.session.execute(select(OutboxMessage)).scalars().all()
    assert [(m.template, m.to_email) for m in mail] == [("webhook_disabled", "owner@example.com")]
    assert receiver.url in mail[0].body_text and "3 days" in mail[0].subject
    action = db.session.execute(select(AuditEntry.action)).scalar_one()
    assert action == "webhooks.endpoint_disabled"
    count = len(receiver.requests)
    emit(ws)  # a disabled endpoint gets nothing more
    assert len(receiver.requests) == count and len(deliveries()) == 1


def test_a_success_in_between_resets_the_failure_streak(ctx, receiver, monkeypatch) -> None:
    clock = use_clock(monkeypatch)
    ws = shop()
    hook = endpoint(ws, receiver.url)
    db.session.commit()
    receiver.status = 500
    emit(ws)
    assert db.session.get(WebhookEndpoint, hook.id).failing_since is not None
    receiver.status = 200
    clock.advance(days=2)
    emit(ws)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, hook.id).failing_since is None
    receiver.status = 500
    clock.advance(days=2)
    [old, _new] = deliveries()
    clock.now = old.due_at
    sweep_once(clock.now)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, hook.id).is_enabled  # 2 days of failures only


def test_rotation_signs_with_both_secrets_for_a_day(ctx, receiver, monkeypatch) -> None:
    clock = use_clock(monkeypatch)
    ws = shop()
    hook = endpoint(ws, receiver.url)
    old = endpoints.secret(hook)
    endpoints.rotate(db.session, hook, now=clock.now)
    new = endpoints.secret(hook)
    db.session.commit()
    assert new != old
    assert endpoints.signing_secrets(hook, clock.now) == [new, old]
    emit(ws)
    request = receiver.requests[-1]
    header = request["headers"]["Backstop-Signature"]
    t = int(header.split(",")[0][2:])
    for secret in (old, new):
        reference_verify(request["body"].encode(), header, secret, now=t)
    later = clock.now + endpoints.ROTATION_OVERLAP
    assert endpoints.signing_secrets(hook, later) == [new]


def test_no_redirect_is_followed(ctx, receiver) -> None:
    receiver.status = 302
    answer = transport.post(receiver.url, b"{}", {}, timeout=2, allow_loopback=True,
                            require_https=False)  # fmt: skip
    assert (answer.status == 302 and not answer.ok) or answer.error
    assert "redirects are not followed" in (answer.error or "")
    assert len(receiver.requests) == 1


def test_a_delivery_whose_tries_never_got_recorded_is_given_up(ctx, receiver, monkeypatch) -> None:
    clock = use_clock(monkeypatch)
    ws = shop()
    endpoint(ws, receiver.url)
    db.session.commit()
    receiver.status = 500
    emit(ws)
    [delivery] = deliveries()
    # The worker died mid-post on every later try: the row sits running under a lease.
    delivery.status, delivery.lease_until = "running", clock.now
    db.session.commit()
    clock.advance(days=3, hours=2)
    assert sweep_once(clock.now) == 1
    [delivery] = deliveries()
    assert delivery.status == "failed" and "gave up" in delivery.last_error
    assert len(receiver.requests) == 1  # not posted again
