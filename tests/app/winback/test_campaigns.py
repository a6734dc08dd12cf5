"""Win back against the sandbox: a cancel takes effect, the campaign plans its touches on
the subscription's test clock, the first goes 14 days later with a working link, and the
customer comes back in one tap (or by another path, credited or not); unsubscribes,
bounces and the merchant's pause stop it at once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import utcnow
from app.outbox import services as outbox
from app.outbox.models import OutboxMessage
from app.retain.models import CancelSession
from app.winback import comeback, links
from app.winback import settings as winback_settings
from app.winback.models import WinbackCampaign, WinbackLink, WinbackStep

from ..recovery.shop import Shop

LINK = re.compile(r"https?://\S+/come-back/([A-Za-z0-9_-]+)")


@pytest.fixture
def shop(ctx, sandbox_url) -> Shop:
    return Shop(sandbox_url)


def cancel_now(shop: Shop, sub, **details) -> None:
    shop.client.v1.subscriptions.cancel(sub.id, params=details or None)
    shop.catch_up()


def campaign_of(sub) -> WinbackCampaign:
    db.session.expire_all()
    return db.session.execute(
        select(WinbackCampaign).where(WinbackCampaign.subscription_stripe_id == sub.id)
    ).scalar_one()


def steps_of(campaign: WinbackCampaign) -> list[tuple[str, int, str, str | None]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(WinbackStep)
        .where(WinbackStep.campaign_id == campaign.id)
        .order_by(WinbackStep.kind.desc(), WinbackStep.number)
    ).scalars()
    return [(s.kind, s.number, s.status, s.outcome) for s in rows]


def mails(customer: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.customer_stripe_id == customer, OutboxMessage.template == "winback"
            )
            .order_by(OutboxMessage.id)
        ).scalars()
    )


def link_in(message: OutboxMessage) -> WinbackLink:
    token = LINK.search(message.body_text).group(1)
    found = links.find(db.session, token)
    assert found is not None
    return found


def live_subs(shop: Shop, customer: str) -> list:
    subs = shop.client.v1.subscriptions.list(params={"customer": customer, "status": "all"}).data
    return [s for s in subs if s.status in ("active", "trialing", "past_due")]


def test_a_cancel_opens_a_campaign_whose_first_touch_goes_14_days_later(shop: Shop) -> None:
    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, sub)
    campaign = campaign_of(sub)
    assert (campaign.kind, campaign.reason, campaign.state) == ("voluntary", "other", "active")
    assert campaign.mrr_minor == 2900 and campaign.plan_name == "Studio"
    assert steps_of(campaign) == [
        ("email", 1, "pending", None),
        ("email", 2, "pending", None),
        ("close", 0, "pending", None),
    ]
    touches = sorted((s for s in campaign.steps if s.kind == "email"), key=lambda s: s.number)
    assert touches[0].due_at - campaign.ended_at >= dt.timedelta(days=14)
    assert touches[0].due_at - campaign.ended_at < dt.timedelta(days=15)
    assert "14 days after the subscription ended" in touches[0].reason
    shop.advance(days=13)
    assert mails(sub.customer) == []
    shop.advance(days=2)
    sent = mails(sub.customer)
    assert len(sent) == 1 and sent[0].status == "sent"
    assert "/come-back/" in sent[0].body_text and "Studio" in sent[0].body_text
    assert steps_of(campaign)[0][3] == "sent"


def test_one_tap_restarts_the_old_price_with_the_card_on_file_and_wins(shop: Shop) -> None:
    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, sub)
    shop.advance(days=15)
    link = link_in(mails(sub.customer)[0])
    connection = shop.stripe_connection
    page = comeback.page(db.session, connection, link, now=utcnow())
    assert (page.state, page.mode, page.card.last4) == ("form", "restart", "4242")
    result = comeback.tap(db.session, connection, link, now=utcnow())
    db.session.commit()
    assert result.state == "back"
    live = live_subs(shop, sub.customer)
    assert len(live) == 1 and live[0]["items"]["data"][0]["price"]["id"] == shop.price
    again = comeback.tap(db.session, connection, link, now=utcnow())
    assert again.state == "used"
    shop.catch_up()
    assert len(live_subs(shop, sub.customer)) == 1  # a double tap made one subscription
    campaign = campaign_of(sub)
    assert (campaign.state, campaign.won_via, campaign.regained_mrr_minor) == ("won", "link", 2900)
    assert campaign.new_subscription_stripe_id == live[0].id
    assert campaign.won_step_id == link.step_id
    shop.advance(days=20)
    assert len(mails(sub.customer)) == 1  # the second touch never goes
    assert ("email", 2, "cancelled", "cancelled") in steps_of(campaign)


def test_the_subscribe_call_is_idempotent_per_link(shop: Shop) -> None:
    from app.stripe import winback as stripe_winback

    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, sub)
    campaign = campaign_of(sub)
    made = [
        stripe_winback.subscribe(
            shop.stripe_connection,
            customer_id=sub.customer,
            price_id=shop.price,
            quantity=1,
            payment_method_id=None,
            coupon_id=None,
            campaign_id=campaign.id,
            idempotency_key="winback-link:1:subscribe",
        )[0].id
        for _ in range(2)
    ]
    assert made[0] == made[1]


def test_the_reason_from_the_cancel_flow_picks_the_copy_and_the_offer(shop: Shop) -> None:
    winback_settings.save(
        db.session,
        shop.workspace.id,
        is_enabled=True,
        includes_involuntary=True,
        delays=[14, 14],
        copy={},
        offer_percent=25,
        offer_months=3,
        offer_to="too_expensive",
        price_id=None,
        attribution_days=30,
    )
    db.session.commit()
    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    db.session.add(
        CancelSession(
            workspace_id=shop.workspace.id,
            token_hash="x" * 64,
            customer_stripe_id=sub.customer,
            subscription_stripe_id=sub.id,
            expires_at=utcnow(),
            reason_key="budget",
            reason_label="Money is tight",
            outcome="cancelled",
        )
    )
    db.session.commit()
    cancel_now(shop, sub)
    campaign = campaign_of(sub)
    assert campaign.reason == "too_expensive" and "Money is tight" in campaign.reason_detail
    shop.advance(days=15)
    message = mails(sub.customer)[0]
    assert "25% off for 3 months" in message.body_text
    assert "better price" in message.subject
    result = comeback.tap(db.session, shop.stripe_connection, link_in(message), now=utcnow())
    db.session.commit()
    assert result.state == "back"
    new = live_subs(shop, sub.customer)[0]
    assert new.discounts, "the offer's coupon is on the new subscription"
    assert campaign_of(sub).offer_applied == "25% off for 3 months"


def test_stripe_feedback_and_non_payment_are_told_apart(shop: Shop) -> None:
    a = shop.subscribe("pm_card_visa")
    b = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    shop.catch_up()
    cancel_now(shop, a, cancellation_details={"feedback": "switched_service"})
    assert (campaign_of(a).kind, campaign_of(a).reason) == ("voluntary", "switched")
    shop.sandbox_settings(automatic_retries="default", subscription_after_retries="cancel")
    shop.advance(days=31)
    shop.advance(days=31)  # Stripe's retries ran out: it cancels for non-payment
    assert shop.client.v1.subscriptions.retrieve(b.id).status == "canceled"
    assert campaign_of(b).kind == "involuntary"


def test_a_lost_recovery_whose_subscription_stripe_keeps_is_won_back_by_paying(
    shop: Shop,
) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    shop.catch_up()
    shop.advance(days=31)
    shop.advance(days=31)  # our 30-day window ends: lost, the subscription stays past due
    assert shop.client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    campaign = campaign_of(sub)
    assert (campaign.kind, campaign.state) == ("involuntary", "active")
    shop.change_card(sub.id, "pm_card_visa")
    db.session.add(campaign)
    link, _token = links.issue(db.session, campaign, now=utcnow())
    db.session.commit()
    connection = shop.stripe_connection
    assert comeback.page(db.session, connection, link, now=utcnow()).mode == "pay"
    result = comeback.tap(db.session, connection, link, now=utcnow())
    db.session.commit()
    assert result.state == "back"
    shop.catch_up()
    assert shop.client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert (campaign_of(sub).state, campaign_of(sub).won_via) == ("won", "link")


def test_a_scheduled_cancel_not_yet_over_is_undone_by_the_tap(shop: Shop) -> None:
    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    campaign = WinbackCampaign(
        workspace_id=shop.workspace.id,
        customer_stripe_id=sub.customer,
        subscription_stripe_id=sub.id,
        kind="voluntary",
        reason="other",
        ended_at=shop.now,
    )
    db.session.add(campaign)
    db.session.flush()
    link, _token = links.issue(db.session, campaign, now=utcnow())
    db.session.commit()
    shop.client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    connection = shop.stripe_connection
    page = comeback.page(db.session, connection, link, now=utcnow())
    assert page.mode == "keep" and page.ends_at is not None
    assert comeback.tap(db.session, connection, link, now=utcnow()).state == "back"
    db.session.commit()
    assert shop.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    assert campaign_of(sub).won_via == "link"


def test_a_return_by_another_path_closes_the_campaign_credited_or_not(shop: Shop) -> None:
    early = shop.subscribe("pm_card_visa")
    later = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, early)
    cancel_now(shop, later)
    resubscribe = {"items": [{"price": shop.price}]}
    shop.client.v1.subscriptions.create(
        params={
            "customer": early.customer,
            "default_payment_method": early.default_payment_method,
            **resubscribe,
        }
    )
    shop.catch_up()
    first = campaign_of(early)
    assert (first.state, first.won_via) == ("returned", "other")
    assert all(status == "cancelled" for _k, _n, status, _o in steps_of(first))
    shop.advance(days=15)
    assert mails(early.customer) == [] and len(mails(later.customer)) == 1
    shop.client.v1.subscriptions.create(
        params={
            "customer": later.customer,
            "default_payment_method": later.default_payment_method,
            **resubscribe,
        }
    )
    shop.catch_up()
    second = campaign_of(later)
    assert (second.state, second.won_via, second.regained_mrr_minor) == ("won", "email", 2900)


def test_unsubscribe_and_the_merchant_pause_stop_campaigns_at_once(shop: Shop) -> None:
    a = shop.subscribe("pm_card_visa")
    b = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, a)
    cancel_now(shop, b)
    email = campaign_of(a).email
    outbox.suppress(db.session, shop.workspace.id, email, "unsubscribed", source="test")
    db.session.commit()
    assert (campaign_of(a).state, campaign_of(a).close_reason) == (
        "stopped",
        "the customer unsubscribed",
    )
    assert campaign_of(b).state == "active"
    winback_settings.set_paused(db.session, shop.workspace.id, True, by="me@x.test", now=utcnow())
    db.session.commit()
    assert campaign_of(b).state == "stopped"
    c = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, c)
    db.session.expire_all()
    assert (
        db.session.execute(
            select(WinbackCampaign).where(WinbackCampaign.subscription_stripe_id == c.id)
        ).scalar_one_or_none()
        is None
    )
    shop.advance(days=30)
    assert mails(a.customer) == mails(b.customer) == []


def test_a_customer_with_another_live_subscription_gets_no_campaign(shop: Shop) -> None:
    sub = shop.subscribe("pm_card_visa")
    shop.client.v1.subscriptions.create(
        params={
            "customer": sub.customer,
            "items": [{"price": shop.price}],
            "default_payment_method": sub.default_payment_method,
        }
    )
    shop.catch_up()
    cancel_now(shop, sub)
    db.session.expire_all()
    assert db.session.execute(select(WinbackCampaign)).scalars().all() == []


def test_overdue_touches_collapse_into_the_newest(shop: Shop) -> None:
    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, sub)
    campaign = campaign_of(sub)
    shop.client.v1.test_helpers.test_clocks.advance(
        shop.clock.id, params={"frozen_time": int((shop.now + dt.timedelta(days=40)).timestamp())}
    )
    shop.now += dt.timedelta(days=40)
    shop.catch_up()
    assert [m.status for m in mails(sub.customer)] == ["sent"]
    rows = steps_of(campaign)
    assert ("email", 1, "done", "skipped") in rows and ("email", 2, "done", "sent") in rows


def test_a_declined_card_on_file_asks_for_another_and_an_expired_link_offers_a_fresh_one(
    shop: Shop,
) -> None:
    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, sub)
    shop.advance(days=15)
    link = link_in(mails(sub.customer)[0])
    pm = shop.client.v1.payment_methods.attach(
        "pm_card_sandbox_visa_insufficient_funds_always", params={"customer": sub.customer}
    )
    shop.client.v1.customers.update(
        sub.customer, params={"invoice_settings": {"default_payment_method": pm.id}}
    )
    shop.client.v1.payment_methods.detach(
        shop.client.v1.subscriptions.retrieve(sub.id).default_payment_method
    )
    connection = shop.stripe_connection
    result = comeback.tap(db.session, connection, link, now=utcnow())
    db.session.commit()
    assert result.state == "declined" and result.client_secret
    assert link.subscription_stripe_id and link.used_at is None
    later = utcnow() + links.LINK_TTL + dt.timedelta(minutes=1)
    assert comeback.page(db.session, connection, link, now=later).state == "expired"
    assert comeback.send_fresh_link(db.session, connection, link, now=utcnow())
    db.session.commit()
    assert len(mails(sub.customer)) == 2


def test_an_open_the_provider_reports_is_counted_on_the_message_and_the_touch(shop: Shop) -> None:
    from app.outbox.views import apply
    from emails.notices import Notice

    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, sub)
    shop.advance(days=15)
    message = mails(sub.customer)[0]
    message.provider_id = "ses-1"
    db.session.commit()
    opened = Notice("open", (message.to_email,), "ses-1", False, "open")
    assert apply([opened, opened], "ses") == 1  # the first open only
    db.session.expire_all()
    step = db.session.get(WinbackStep, message.step_id)
    assert message.opened_at is not None and step.opened_at is not None
    assert outbox.suppression_for(db.session, shop.workspace.id, message.to_email) is None


def test_customers_who_left_in_the_last_30_days_are_found_on_connect(shop: Shop) -> None:
    from app.stripe import connection as stripe_connection

    long_ago, recent = shop.subscribe("pm_card_visa"), shop.subscribe("pm_card_visa")
    clocks = shop.client.v1.test_helpers.test_clocks

    def move(days: int) -> None:  # Backstop hears nothing: it is not connected yet
        at = shop.now + dt.timedelta(days=days)
        clocks.advance(shop.clock.id, params={"frozen_time": int(at.timestamp())})

    shop.client.v1.subscriptions.cancel(long_ago.id)
    move(20)
    shop.client.v1.subscriptions.cancel(
        recent.id, params={"cancellation_details": {"feedback": "unused"}}
    )
    move(36)
    connection = shop.stripe_connection
    stripe_connection.restart_import(db.session, connection)
    while stripe_connection.import_page(db.session, connection, now=int(shop.now.timestamp())):
        pass
    db.session.commit()
    db.session.expire_all()
    found = db.session.execute(select(WinbackCampaign)).scalars().all()
    assert [(c.subscription_stripe_id, c.reason) for c in found] == [(recent.id, "not_using")]


def test_a_stale_event_of_the_ended_subscription_is_not_a_return(shop: Shop) -> None:
    from app.winback import handlers

    sub = shop.subscribe("pm_card_visa")
    shop.catch_up()
    cancel_now(shop, sub)
    stale = shop.client.v1.subscriptions.retrieve(sub.id).to_dict()
    stale.update(status="active", ended_at=None, canceled_at=None)
    payload = {"type": "customer.subscription.updated", "data": {"object": stale}}
    handlers.subscription_billing(db.session, shop.stripe_connection, payload)
    db.session.commit()
    assert campaign_of(sub).state == "active"


def test_touches_go_at_ten_in_the_customers_timezone(shop: Shop) -> None:
    from app.times import zone

    sub = shop.subscribe("pm_card_visa", tz="America/New_York")
    shop.catch_up()
    cancel_now(shop, sub)
    campaign = campaign_of(sub)
    assert campaign.customer_tz == "America/New_York"
    first = next(s for s in campaign.steps if s.kind == "email" and s.number == 1)
    local = first.due_at.astimezone(zone("America/New_York"))
    assert (local.hour, local.minute) == (10, 0)
