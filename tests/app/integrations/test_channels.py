"""Slack and Discord: what each choice posts (rich messages with dashboard links), the
high-value threshold, a revoked URL (stop, mark it, email the owners), the daily digest
once a day."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from app.disputes.services import CREATED
from app.extensions import db
from app.insights.models import InsightDaily
from app.integrations import channels, digest, messages
from app.integrations.models import NotificationChannel
from app.outbox.models import OutboxMessage
from app.stripe import mirror

from .. import factories as f
from .helpers import LOCAL, RECOVERED, channel, deliveries, emit, endpoint, use_clock


def shop():
    ws = f.workspace(f.user("owner@example.com"), "Acme")
    mirror.upsert(
        db.session,
        ws.id,
        {"id": "cus_1", "object": "customer", "name": "Jordan Lee", "email": "j@example.com"},
        1,
    )
    return ws


def test_a_recovery_posts_slack_blocks_with_a_link_to_the_campaign(ctx, receiver) -> None:
    ws = shop()
    channel(ws, receiver.url, "slack", ["recovered"])
    db.session.commit()
    emit(ws)
    emit(ws, "cancel.session.saved", {"customer": "cus_1", "mrr_minor": 900, "currency": "usd"})
    [request] = receiver.requests  # the save was not chosen
    body = json.loads(request["body"])
    assert body["text"].startswith("Payment recovered: 49.00 USD")
    header, section, _fields, actions = body["blocks"]
    assert header["text"]["text"] == "Payment recovered: 49.00 USD"
    assert (
        "Jordan Lee" in section["text"]["text"] and "a retry by Backstop" in section["text"]["text"]
    )
    assert actions["elements"][0]["url"] == "http://localhost/recovery/campaigns/7"


def test_discord_gets_an_embed(ctx, receiver) -> None:
    ws = shop()
    channel(ws, receiver.url, "discord", ["saved"])
    db.session.commit()
    emit(
        ws,
        "cancel.session.saved",
        {
            "customer": "cus_1",
            "mrr_minor": 900,
            "currency": "usd",
            "offer": "25% off for 3 months",
            "reason": "too_expensive",
        },
    )
    [embed] = json.loads(receiver.requests[0]["body"])["embeds"]
    assert embed["title"] == "Customer saved: 9.00 USD a month"
    assert "Jordan Lee clicked cancel, then took 25% off for 3 months" in embed["description"]
    assert embed["url"] == "http://localhost/customers/cus_1"
    assert {"name": "Reason given", "value": "too expensive", "inline": True} in embed["fields"]


def test_only_failures_at_or_above_the_threshold_in_its_currency_post(ctx, receiver) -> None:
    ws = shop()
    channel(ws, receiver.url, "slack", ["high_value_failure"], threshold=(10000, "usd"))
    db.session.commit()
    started = {**RECOVERED, "attribution": None}
    emit(ws, "recovery.campaign.started", {**started, "amount_minor": 9999})
    emit(ws, "recovery.campaign.started", {**started, "amount_minor": 20000, "currency": "eur"})
    emit(ws, "recovery.campaign.started", {**started, "amount_minor": 10000})
    [request] = receiver.requests
    assert json.loads(request["body"])["text"].startswith("Payment failed: 100.00 USD")


def test_a_revoked_url_stops_is_shown_and_emails_the_owners(ctx, receiver, monkeypatch) -> None:
    use_clock(monkeypatch)
    ws = shop()
    row = channel(ws, receiver.url, "slack", ["recovered"])
    db.session.commit()
    receiver.status = 404
    emit(ws)
    db.session.expire_all()
    row = db.session.get(NotificationChannel, row.id)
    assert row.state == "revoked" and "HTTP 404" in row.revoked_detail
    [delivery] = deliveries()
    assert delivery.status == "failed"  # not retried
    [mail] = db.session.execute(select(OutboxMessage)).scalars().all()
    assert mail.template == "notification_revoked" and "Slack" in mail.subject
    receiver.status = 200
    emit(ws)
    assert len(receiver.requests) == 1 and len(deliveries()) == 1
    # A new URL brings it back.
    channels.update_channel(db.session, row, url=receiver.url, posts=["recovered"],
                            threshold=None, rules=LOCAL)  # fmt: skip
    db.session.commit()
    emit(ws)
    assert len(receiver.requests) == 2


def test_a_500_from_slack_is_retried_not_revoked(ctx, receiver, monkeypatch) -> None:
    use_clock(monkeypatch)
    ws = shop()
    row = channel(ws, receiver.url, "slack", ["recovered"])
    db.session.commit()
    receiver.status = 500
    emit(ws)
    [delivery] = deliveries()
    assert delivery.status == "pending"
    assert db.session.get(NotificationChannel, row.id).state == "active"


@pytest.mark.parametrize(
    ("kind", "status", "body", "revoked"),
    [
        ("slack", 404, "no_service", True),
        ("slack", 410, "channel_is_archived", True),
        ("slack", 403, "invalid_token", True),
        ("slack", 400, "invalid_payload", False),
        ("slack", 500, "", False),
        ("slack", 429, "rate limited", False),
        ("discord", 404, '{"message": "Unknown Webhook", "code": 10015}', True),
        ("discord", 401, '{"message": "Invalid Webhook Token", "code": 50027}', True),
        ("discord", 429, '{"message": "You are being rate limited."}', False),
        ("discord", 502, "", False),
        ("slack", None, None, False),
    ],
)
def test_what_counts_as_revoked(kind, status, body, revoked) -> None:
    assert messages.is_revoked(kind, status, body) is revoked


def test_the_digest_posts_yesterday_once_a_day_from_the_morning(ctx, receiver) -> None:
    ws = shop()
    ws.timezone = "Europe/Paris"
    channel(ws, receiver.url, "slack", ["digest"])
    channel(ws, receiver.url, "discord", ["recovered"])  # did not choose the digest
    db.session.add(
        InsightDaily(
            workspace_id=ws.id,
            day=dt.date(2026, 12, 5),
            metric="recovered",
            key="retry",
            currency="usd",
            count=2,
            amount_minor=9800,
        )
    )
    db.session.commit()
    assert digest.workspaces_with_digest(db.session) == [ws.id]
    early = dt.datetime(2026, 12, 6, 6, 59, tzinfo=dt.UTC)  # 07:59 in Paris
    args = {"base_url": "http://localhost", "lease": dt.timedelta(minutes=5)}
    assert digest.send(db.session, ws, now=early, **args) == []
    morning = dt.datetime(2026, 12, 6, 7, 0, tzinfo=dt.UTC)
    assert len(digest.send(db.session, ws, now=morning, **args)) == 1
    db.session.commit()
    assert digest.send(db.session, ws, now=morning + dt.timedelta(hours=5), **args) == []
    db.session.commit()
    [request] = receiver.requests
    text = json.loads(request["body"])["text"]
    assert text.startswith("Acme: Saturday December 5, 2026")
    assert "recovered 2 (98.00 USD)" in text
    assert len(digest.send(db.session, ws, now=morning + dt.timedelta(days=1), **args)) == 1


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [("500", "usd", (50000, "usd")), ("1,000.5", "EUR", (100050, "eur")), ("", "usd", None),
     ("700", "jpy", (700, "jpy")), ("7.5", "jpy", str), ("abc", "usd", str), ("5", "us", str)],
)  # fmt: skip
def test_thresholds_are_read_in_minor_units(amount, currency, expected) -> None:
    got = channels.parse_threshold(amount, currency)
    assert isinstance(got, str) if expected is str else got == expected


def test_only_slack_and_discord_urls_outside_development() -> None:
    strict = channels.Rules(allow_loopback=False)
    assert channels.check("slack", "https://hooks.slack.com/services/T0/B0/x", ["recovered"],
                          None, strict) == []  # fmt: skip
    assert channels.check("discord", "https://discord.com/api/webhooks/1/x", [], None, strict) == []
    [error] = channels.check("slack", "https://example.com/services/x", [], None, strict)
    assert "not a Slack incoming-webhook URL" in error
    [error] = channels.check("discord", "http://127.0.0.1:9/x", [], None, strict)
    assert "https" in error
    errors = channels.check("slack", "https://hooks.slack.com/services/x", ["high_value_failure"],
                            None, strict)  # fmt: skip
    assert errors == ["Say from what amount a failed payment counts as high-value."]


def test_a_dispute_the_disputes_loop_opens_posts_and_is_sent_to_endpoints(ctx, receiver) -> None:
    """``dispute.created`` as app/disputes emits it reaches a Slack channel that chose
    disputes and an endpoint subscribed to it, as a ``dispute`` object."""
    ws = shop()
    channel(ws, receiver.url, "slack", ["dispute"])
    endpoint(ws, receiver.url, ["dispute.created"])
    db.session.commit()
    data = {
        "dispute": "dp_1", "charge": "ch_1", "customer": "cus_1", "amount": 4900,
        "currency": "usd", "reason": "subscription_canceled", "status": "needs_response",
        "network": "visa", "likely_cause": "forgotten_subscription",
        "recommended_action": "fight", "due_by": "2027-01-22T23:59:59+00:00",
    }  # fmt: skip
    emit(ws, CREATED, data)
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    [slack] = [b for b in bodies if "blocks" in b]
    assert slack["text"].startswith("Dispute opened: 49.00 USD")
    assert "forgotten subscription" in json.dumps(slack) and "2027-01-22" in json.dumps(slack)
    [hook] = [b for b in bodies if "type" in b]
    assert hook["type"] == CREATED and hook["data"]["object"]["object"] == "dispute"
    assert hook["data"]["object"]["id"] == "dp_1" and hook["data"]["object"]["amount"] == 4900


def test_a_dispute_rate_alert_posts_the_counts_and_the_threshold(ctx, receiver) -> None:
    ws = shop()
    channel(ws, receiver.url, "discord", ["dispute_rate"])
    db.session.commit()
    data = {"month": "2026-11", "network": "visa", "level": "visa_vdmp", "disputes": 12,
            "settled": 1304, "rate": "0.92%", "threshold": "0.9% (Visa's VDMP)"}  # fmt: skip
    emit(ws, "dispute.rate_alert", data)
    emit(ws, "dispute.created", {"customer": "cus_1", "amount": 100, "currency": "usd"})
    [request] = receiver.requests  # the dispute itself was not chosen
    [embed] = json.loads(request["body"])["embeds"]
    assert embed["title"] == "Dispute rate 0.92% on Visa in 2026-11"
    assert "12 disputes against 1304 settled Visa payments" in embed["description"]
    assert embed["url"].endswith("/disputes/monitor")
