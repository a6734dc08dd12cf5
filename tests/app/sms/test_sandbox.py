"""SMS dunning end to end on the sandbox: a failed renewal of a customer with a phone and
consent gets texts between the emails, each with its own card-update link; STOP through
the signed inbound webhook ends the texts and not the emails; payment ends everything;
quiet hours move a text; the monthly cap skips one, saying why."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.dunning.models import CardUpdateLink
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.recovery import queries
from app.sms.models import SmsOptOut
from app.stripe import clocks

from ..recovery.shop import START, Shop
from .helpers import reply, texts, turn_on

PHONE = "+1 (415) 555-0134"
E164 = "+14155550134"


@pytest.fixture
def shop(ctx, web, sandbox_url):
    return Shop(sandbox_url)


def subscribe(shop: Shop, *, consent: str | None = "true", tz: str | None = None, phone=PHONE):
    metadata = {}
    if consent is not None:
        metadata["backstop_sms_consent"] = consent
    if tz:
        metadata["timezone"] = tz
    customer = shop.client.v1.customers.create(
        params={
            "email": "dana@example.com",
            "name": "Dana Reed",
            "phone": phone,
            "test_clock": shop.clock.id,
            "payment_method": "pm_card_sandbox_visa_insufficient_funds",
            "metadata": metadata,
        }
    )
    pm = shop.client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
    return shop.client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": shop.price}],
            "default_payment_method": pm.id,
        }
    )


def renew(shop: Shop) -> None:
    """The renewal's invoice is charged (and fails) an hour after it is made, at 10:00
    UTC: the first email goes then, and each message is due exactly when planned."""
    shop.advance(to=START + dt.timedelta(days=30, hours=1))


def reach(shop: Shop, step) -> None:
    if step.due_at > shop.now:
        shop.advance(to=step.due_at)
    else:
        shop.catch_up()


def emails() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def planned(shop: Shop, campaign) -> list[tuple[str, str, dt.datetime]]:
    steps = shop.steps(campaign, "email") + shop.steps(campaign, "sms")
    return sorted((s.due_at, s.kind, s.touch) for s in steps)


def test_texts_go_between_the_emails_stop_ends_them_and_payment_ends_everything(shop, web):
    settings = turn_on(shop.workspace.id)
    sub = subscribe(shop)
    renew(shop)
    campaign = shop.campaign(sub.id)
    plan = planned(shop, campaign)
    assert [(kind, touch) for _, kind, touch in plan] == [
        ("email", "d0"),
        ("sms", "d1"),
        ("email", "d3"),
        ("sms", "d5"),
        ("email", "d7"),
        ("email", "d14"),
    ]
    for at, _, _ in plan:  # all at 10:00, whole days apart: the 24-hour gap holds
        assert at.astimezone(ZoneInfo("UTC")).time() == dt.time(10, 0)
    d0, d3, d7, _ = shop.steps(campaign, "email")
    d1, d5 = shop.steps(campaign, "sms")

    reach(shop, d0)
    assert len(emails()) == 1 and texts() == []
    reach(shop, d1)
    [text] = texts()
    assert text.status == "sent" and text.transport == "outbox" and text.to_number == E164
    assert text.provider_id.startswith("outbox-") and text.campaign_id == campaign.id
    assert text.body.startswith(f"{shop.workspace.name}: $29.00 payment failed.")
    assert text.body.endswith("Reply STOP to opt out.") and "/update-card/" in text.body
    assert (text.segments, text.encoding) == (1, "gsm7")
    link = db.session.execute(
        select(CardUpdateLink).where(CardUpdateLink.step_id == text.step_id)
    ).scalar_one()
    assert link.purpose == "dunning" and link.invoice_stripe_id == campaign.invoice_stripe_id
    d1 = db.session.get(type(d1), d1.id)
    assert (d1.status, d1.outcome) == ("done", "sent")
    assert d1.outcome_detail.startswith(f"texted {E164}")

    # The customer replies STOP: the webhook (signed with the workspace's auth token)
    # puts the number on the STOP list and answers nothing (Twilio's opt-out does).
    answer = reply(web, settings.webhook_token, E164, "Stop")
    assert answer.status_code == 200 and b"<Message>" not in answer.data
    assert db.session.execute(select(SmsOptOut)).scalar_one().phone == E164

    reach(shop, d3)
    assert len(emails()) == 2  # emails continue
    reach(shop, d5)
    d5 = db.session.get(type(d5), d5.id)
    assert d5.outcome == "skipped" and "replied STOP" in d5.outcome_detail
    assert len(texts()) == 1
    reach(shop, d7)
    assert len(emails()) == 3

    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    shop.catch_up()
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered"
    assert shop.steps(campaign, "email")[-1].status == "cancelled"
    shop.advance(days=20)
    assert len(emails()) == 3 and len(texts()) == 1

    titles = [(e.kind, e.title) for e in queries.timeline(db.session, campaign) if e.kind == "sms"]
    assert titles == [("sms", "First reminder text"), ("sms", "Final reminder text")]


def test_a_payment_before_the_text_stops_it(shop):
    turn_on(shop.workspace.id)
    sub = subscribe(shop)
    renew(shop)
    campaign = shop.campaign(sub.id)
    reach(shop, shop.steps(campaign, "email")[0])
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    shop.catch_up()
    assert [s.status for s in shop.steps(shop.campaign(sub.id), "sms")] == ["cancelled"] * 2
    shop.advance(days=10)
    assert texts() == []


def test_no_consent_no_text_and_the_emails_go_on(shop):
    turn_on(shop.workspace.id)
    sub = subscribe(shop, consent=None)
    renew(shop)
    campaign = shop.campaign(sub.id)
    d1 = shop.steps(campaign, "sms")[0]
    reach(shop, d1)
    d1 = db.session.get(type(d1), d1.id)
    assert d1.outcome == "skipped" and "not agreed to texts" in d1.outcome_detail
    assert texts() == [] and len(emails()) == 1


def test_quiet_hours_in_the_customers_timezone_move_the_text(shop):
    # 21:00-11:00 quiet: the 10:00 text waits until 11:00 New York time.
    turn_on(shop.workspace.id, quiet_start_minute=21 * 60, quiet_end_minute=11 * 60)
    sub = subscribe(shop, tz="America/New_York")
    renew(shop)
    campaign = shop.campaign(sub.id)
    d1 = shop.steps(campaign, "sms")[0]
    new_york = ZoneInfo("America/New_York")
    assert d1.due_at.astimezone(new_york).hour == 10
    reach(shop, shop.steps(campaign, "email")[0])
    reach(shop, d1)
    assert texts() == []
    d1 = db.session.get(type(d1), d1.id)
    assert d1.status == "pending" and d1.due_at.astimezone(new_york).time() == dt.time(11, 0)
    assert "quiet hours 21:00-11:00 (America/New_York)" in d1.reason
    assert d1.outcome_detail.startswith("held: moved to 11:00")
    reach(shop, d1)
    assert len(texts()) == 1
    d1 = db.session.get(type(d1), d1.id)
    assert d1.outcome == "sent" and d1.executed_at.astimezone(new_york).hour == 11
    assert "moved to 11:00" in d1.reason  # the why-now stays on the timeline


def test_the_monthly_cap_skips_a_text_saying_why(shop):
    turn_on(shop.workspace.id, monthly_cap=1)
    sub = subscribe(shop)
    renew(shop)
    campaign = shop.campaign(sub.id)
    d1, d5 = shop.steps(campaign, "sms")
    for step in (shop.steps(campaign, "email")[0], d1, shop.steps(campaign, "email")[1], d5):
        reach(shop, step)
    assert len(texts()) == 1
    d5 = db.session.get(type(d5), d5.id)
    assert d5.outcome == "skipped" and "cap of 1 texts was reached" in d5.outcome_detail


def test_a_step_run_twice_writes_one_text(shop):
    turn_on(shop.workspace.id)
    sub = subscribe(shop)
    renew(shop)
    campaign = shop.campaign(sub.id)
    d1 = shop.steps(campaign, "sms")[0]
    reach(shop, d1)
    # Its lease ran out while another worker had it: claimed and run again.
    step = db.session.get(type(d1), d1.id)
    step.status, step.outcome = "pending", None
    db.session.commit()
    shop.catch_up()
    assert len(texts()) == 1
    step = db.session.get(type(d1), d1.id)
    assert (step.status, step.outcome) == ("done", "sent")
    assert clocks.now_of(db.session, campaign, dt.datetime.now(dt.UTC)) >= step.due_at


def test_the_customer_page_shows_the_texts_their_status_and_the_stop(shop, web):
    from .. import factories as f

    owner = f.member(shop.workspace, "owner", "owner@shop.example")
    db.session.commit()
    settings = turn_on(shop.workspace.id)
    sub = subscribe(shop)
    renew(shop)
    campaign = shop.campaign(sub.id)
    reach(shop, shop.steps(campaign, "email")[0])
    reach(shop, shop.steps(campaign, "sms")[0])
    reply(web, settings.webhook_token, E164, "STOP")
    f.login(web, owner)
    page = web.get(f"/customers/{campaign.customer_stripe_id}").get_data(as_text=True)
    assert 'id="customer-texts"' in page and "Reminder text" in page
    assert "$29.00 payment failed" in page and "They replied" in page
    assert 'id="texts-stopped"' in page
    timeline = web.get(f"/recovery/campaigns/{campaign.id}").get_data(as_text=True)
    assert "First reminder text" in timeline and f"texted {E164}" in timeline
