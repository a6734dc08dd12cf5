"""Disputes end to end on the sandbox: a dispute opened on a renewal is classified and
gets its evidence from our records, is submitted in one click and won on the test
clock; the automatic submission goes out before it is due; an unanswered one is lost
when it is past due; and the dispute-rate monitor counts and alerts once."""

from __future__ import annotations

import datetime as dt
import io
import json
import urllib.request

from pypdf import PdfReader
from sqlalchemy import select

from app.disputes import monitor, records, submitting
from app.disputes.models import Dispute, DisputeRateAlert, DisputeSubmission, SettledCharge
from app.events.models import DomainEvent
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.retain.models import CancelSession

from ..recovery.shop import PLATFORM_KEY, Shop


def _charge_of(shop: Shop, invoice_id: str) -> str:
    invoice = shop.client.v1.invoices.retrieve(invoice_id, params={"expand": ["payments"]})
    intents = [p.payment.payment_intent for p in invoice.payments.data]
    return next(
        c.id
        for pi in intents
        for c in shop.client.v1.charges.list(params={"payment_intent": pi}).data
        if c.status == "succeeded"
    )


def _dispute_charge(shop: Shop, charge_id: str, reason: str) -> None:
    shop.client.raw_request("post", f"/v1/test_helpers/charges/{charge_id}/dispute", reason=reason)


def _dispute(stripe_id: str | None = None) -> Dispute:
    db.session.expire_all()
    query = select(Dispute)
    if stripe_id:
        query = query.where(Dispute.stripe_id == stripe_id)
    return db.session.execute(query.order_by(Dispute.id.desc()).limit(1)).scalar_one()


def _events(name: str) -> list[DomainEvent]:
    return list(db.session.execute(select(DomainEvent).where(DomainEvent.name == name)).scalars())


def _file_bytes(shop: Shop, file_id: str) -> bytes:
    url = shop.client.v1.files.retrieve(file_id).url
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {PLATFORM_KEY}", "Stripe-Account": shop.account}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def test_renewal_dispute_is_assembled_submitted_and_won_on_the_clock(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    settings = records.settings_for(db.session, shop.workspace.id)
    settings.terms_url = "https://shop.example/terms"
    settings.cancellation_policy_url = "https://shop.example/cancel"
    db.session.commit()
    # A renewal fails, Backstop retries and emails, and the customer pays on a retry.
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds_recover1", email="ada@example.com")
    shop.catch_up()
    shop.advance(days=31)
    shop.advance(days=10)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered"
    # The customer once opened the cancel page and stayed.
    db.session.add(
        CancelSession(
            workspace_id=shop.workspace.id,
            token_hash="h" * 64,
            customer_stripe_id=sub.customer,
            subscription_stripe_id=sub.id,
            created_at=shop.now - dt.timedelta(days=5),
            expires_at=shop.now,
            opened_at=shop.now - dt.timedelta(days=5),
            outcome="abandoned",
            reason_label="Too expensive",
        )
    )
    db.session.commit()
    charge_id = _charge_of(shop, campaign.invoice_stripe_id)
    _dispute_charge(shop, charge_id, "subscription_canceled")
    shop.catch_up()

    dispute = _dispute()
    assert (dispute.status, dispute.reason, dispute.network) == (
        "needs_response",
        "subscription_canceled",
        "visa",
    )
    assert dispute.customer_stripe_id == sub.customer
    assert dispute.invoice_stripe_id == campaign.invoice_stripe_id
    assert dispute.test_clock == shop.clock.id
    assert dispute.signals["timing"] == "renewal"
    assert dispute.signals["cancel_attempt"] == "stayed"
    assert dispute.signals["support_contact"] == "unknown"
    assert dispute.likely_cause in ("friendly_fraud", "forgotten_subscription")
    assert dispute.recommended_action == "fight"
    fields = dispute.evidence
    assert fields["customer_email_address"] == "ada@example.com"
    assert "https://shop.example/cancel" in fields["cancellation_policy_disclosure"]
    assert "one-tap cancellation was offered" in fields["cancellation_rebuttal"]
    sent = (
        db.session.execute(
            select(OutboxMessage.subject).where(OutboxMessage.customer_stripe_id == sub.customer)
        )
        .scalars()
        .all()
    )
    assert sent and all(subject in fields["uncategorized_text"] for subject in sent)
    assert "payment attempt by" in fields["uncategorized_text"]
    assert all(len(v) <= 20_000 for v in fields.values())
    [created] = _events("dispute.created")
    assert created.data["dispute"] == dispute.stripe_id
    assert created.data["likely_cause"] == dispute.likely_cause

    submitting.submit(
        db.session,
        shop.stripe_connection,
        dispute,
        actor="owner@example.com",
        now=dt.datetime.now(dt.UTC),
    )
    db.session.commit()
    remote = shop.client.v1.disputes.retrieve(dispute.stripe_id)
    assert remote.status == "under_review"
    assert remote.evidence.customer_email_address == "ada@example.com"
    document = _file_bytes(shop, remote.evidence.uncategorized_file)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)
    assert "Dispute evidence" in text and sent[0][:30] in text
    assert _dispute().submitted_by == "owner@example.com"

    shop.advance(days=9)
    assert _dispute().status == "under_review"
    shop.advance(days=1)
    won = _dispute()
    assert won.status == "won" and won.closed_at is not None
    [closed] = _events("dispute.closed")
    assert closed.data["outcome"] == "won"
    shop.pump()  # the same events again change nothing
    assert len(_events("dispute.closed")) == 1


def test_automatic_submission_goes_out_before_the_due_date(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    settings = records.settings_for(db.session, shop.workspace.id)
    settings.is_auto_submit = True
    settings.auto_submit_hours = 36
    db.session.commit()
    shop.subscribe("pm_card_createDispute")
    shop.catch_up()
    dispute = _dispute()
    assert dispute.signals["timing"] == "first_charge"
    assert dispute.likely_cause == "true_fraud" and dispute.recommended_action == "accept"
    row = db.session.execute(select(DisputeSubmission)).scalar_one()
    assert row.due_at == dispute.due_by - dt.timedelta(hours=36)
    assert row.test_clock == shop.clock.id

    shop.advance(days=5)
    assert _dispute().submitted_at is None
    shop.advance(days=0.5)
    submitted = _dispute()
    assert submitted.submitted_by == "automatic submission"
    assert submitted.status == "under_review"
    db.session.expire_all()
    assert db.session.get(DisputeSubmission, row.id).outcome == "submitted"
    shop.advance(days=10)
    assert _dispute().status == "won"


def test_unanswered_dispute_is_lost_when_past_due(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    shop.subscribe("pm_card_createDispute")
    shop.catch_up()
    assert _dispute().status == "needs_response"
    shop.advance(days=7)
    lost = _dispute()
    assert (lost.status, lost.is_past_due) == ("lost", True)
    assert [e.data["outcome"] for e in _events("dispute.closed")] == ["lost"]


def test_monitor_counts_settled_charges_and_alerts_once_a_month(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    for _ in range(3):
        shop.subscribe("pm_card_visa")
    shop.catch_up()
    month = monitor.month_of(shop.now)
    assert db.session.query(SettledCharge).count() == 3
    shop.pump()
    assert db.session.query(SettledCharge).count() == 3  # the same events twice count once
    shop.subscribe("pm_card_createDispute")
    shop.catch_up()
    [visa] = [
        r for r in monitor.rates(db.session, shop.workspace.id, until=month) if r.month == month
    ]
    assert (visa.network, visa.disputes, visa.settled, visa.rate) == ("visa", 1, 4, "25.00 %")
    alerts = db.session.execute(select(DisputeRateAlert.level)).scalars().all()
    assert sorted(alerts) == ["visa_vdmp", "warn"]
    [event] = [e for e in _events("dispute.rate_alert") if e.data["level"] == "visa_vdmp"]
    assert event.data["rate"] == "25.00 %"
    owner_mail = (
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.template == "dispute_rate_alert")
        )
        .scalars()
        .all()
    )
    assert len(owner_mail) == 2 and "25.00 %" in owner_mail[0].subject
    shop.subscribe("pm_card_createDispute")
    shop.catch_up()
    assert db.session.query(DisputeRateAlert).count() == 2  # once per month and threshold
    assert json.dumps(event.data)
