"""Dunning against the sandbox: a failed renewal plans its touches beside the retries,
each goes at 10:00 local with copy for the decline and its own card-update link, and
the card-update page's service pays the invoice under the caps."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.dunning import card_update, config, links
from app.dunning.models import CardUpdateLink
from app.extensions import db
from app.outbox import services as outbox
from app.outbox.models import OutboxMessage, SendDomain
from app.recovery.models import Campaign

from ..recovery.shop import START, Shop


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url)


def renew(shop: Shop) -> None:
    shop.advance(to=START + dt.timedelta(days=30, hours=2))


def reach(shop: Shop, step) -> None:
    """Move the clock to the step's moment (it may be due already: then just sweep)."""
    if step.due_at > shop.now:
        shop.advance(to=step.due_at)
    else:
        shop.catch_up()


def messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def confirmed_setup(shop: Shop, customer: str, card: str = "pm_card_visa") -> str:
    intent = shop.client.v1.setup_intents.create(
        params={"customer": customer, "payment_method_types": ["card"], "usage": "off_session"}
    )
    return shop.client.v1.setup_intents.confirm(intent.id, params={"payment_method": card}).id


def test_a_failed_renewal_plans_the_standard_touches_at_ten_local(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", tz="Europe/Paris")
    renew(shop)
    campaign = shop.campaign(sub.id)
    touches = shop.steps(campaign, "email")
    assert [s.touch for s in touches] == ["d0", "d3", "d7", "d14"]
    failed_local = campaign.opened_at.astimezone(ZoneInfo("Europe/Paris"))
    for step in touches:
        local = step.due_at.astimezone(ZoneInfo("Europe/Paris"))
        assert (local.hour, local.minute) == (10, 0)
        assert step.due_at >= campaign.opened_at and step.status == "pending"
        assert (local.date() - failed_local.date()).days >= int(step.touch[1:])
    assert messages() == []


def test_the_d0_touch_is_sent_with_its_own_link_and_unsubscribe_headers(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", email="jo@example.com")
    renew(shop)
    campaign = shop.campaign(sub.id)
    d0 = shop.steps(campaign, "email")[0]
    reach(shop, d0)
    [message] = messages()
    assert message.status == "sent" and message.transport == "outbox"
    assert message.to_email == "jo@example.com" and message.campaign_id == campaign.id
    assert "lack of funds" in message.body_text and "lack of funds" in message.body_html
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.headers["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")
    d0 = shop.steps(campaign, "email")[0]
    assert (d0.status, d0.outcome) == ("done", "sent")
    [link] = db.session.execute(select(CardUpdateLink)).scalars().all()
    assert link.step_id == d0.id and link.invoice_stripe_id == campaign.invoice_stripe_id
    assert link.expires_at - link.created_at == dt.timedelta(days=21)


def test_a_new_card_on_the_page_pays_at_once_and_stops_the_touches(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    reach(shop, shop.steps(campaign, "email")[0])
    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    connection = shop.stripe_connection
    now = dt.datetime.now(dt.UTC)
    assert card_update.page_state(db.session, connection, link, now=now) == card_update.FORM
    setup = confirmed_setup(shop, sub.customer)
    result = card_update.complete(db.session, connection, link, setup_intent_id=setup, now=now)
    db.session.commit()
    assert result.state == card_update.PAID, result
    shop.catch_up()
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "card_update"
    left = [(s.touch, s.status) for s in shop.steps(campaign, "email")]
    assert left == [("d0", "done"), ("d3", "cancelled"), ("d7", "cancelled"), ("d14", "cancelled")]
    sub_now = shop.client.v1.subscriptions.retrieve(sub.id)
    assert sub_now.default_payment_method != sub.default_payment_method  # set where it failed
    link = db.session.get(CardUpdateLink, link.id)
    assert link.used_at is not None and link.outcome == "paid"
    assert card_update.page_state(db.session, connection, link, now=now) == card_update.USED


def test_a_card_declined_on_the_page_leaves_the_link_usable(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    reach(shop, shop.steps(campaign, "email")[0])
    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    now = dt.datetime.now(dt.UTC)
    setup = confirmed_setup(shop, sub.customer, "pm_card_chargeCustomerFail")
    result = card_update.complete(
        db.session, shop.stripe_connection, link, setup_intent_id=setup, now=now
    )
    db.session.commit()
    assert result.state == card_update.DECLINED and result.client_secret  # a fresh SetupIntent
    assert links.is_usable(db.session.get(CardUpdateLink, link.id), now)
    assert shop.campaign(sub.id).state == "in_flight"


def test_an_invoice_paid_meanwhile_shows_already_paid(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    reach(shop, shop.steps(campaign, "email")[0])
    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    shop.catch_up()
    now = dt.datetime.now(dt.UTC)
    state = card_update.page_state(db.session, shop.stripe_connection, link, now=now)
    assert state == card_update.ALREADY_PAID
    assert shop.campaign(sub.id).state == "recovered"


def test_links_expire_after_21_days(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    reach(shop, shop.steps(campaign, "email")[0])
    link = db.session.execute(select(CardUpdateLink)).scalar_one()
    later = link.created_at + dt.timedelta(days=21)
    state = card_update.page_state(db.session, shop.stripe_connection, link, now=later)
    assert state == card_update.EXPIRED
    assert card_update.send_fresh_link(db.session, link, now=later)
    db.session.commit()
    fresh = messages()[-1]
    assert fresh.template == "card_update_link" and fresh.status == "sent"


def test_copy_follows_the_decline(shop) -> None:
    expired = shop.subscribe("pm_card_sandbox_visa_expired_card")
    stolen = shop.subscribe("pm_card_sandbox_visa_stolen_card")
    renew(shop)
    for sub in (expired, stolen):
        reach(shop, shop.steps(shop.campaign(sub.id), "email")[0])
    bodies = {m.campaign_id: m.body_text for m in messages()}
    assert "has expired" in bodies[shop.campaign(expired.id).id]
    assert "Please use another card" in bodies[shop.campaign(stolen.id).id]


def test_a_suppressed_address_is_never_sent_to(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", email="gone@example.com")
    outbox.suppress(
        db.session, shop.workspace.id, "Gone@Example.com", "unsubscribed", source="test"
    )
    db.session.commit()
    renew(shop)
    campaign = shop.campaign(sub.id)
    reach(shop, shop.steps(campaign, "email")[0])
    [message] = messages()
    assert message.status == "blocked" and "suppression list" in message.error
    assert shop.steps(campaign, "email")[0].outcome == "blocked"


def test_an_unverified_send_domain_blocks_with_a_reason(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    db.session.add(SendDomain(workspace_id=shop.workspace.id, domain="mail.shop.example"))
    db.session.commit()
    renew(shop)
    reach(shop, shop.steps(shop.campaign(sub.id), "email")[0])
    [message] = messages()
    assert message.status == "blocked" and "mail.shop.example is not verified" in message.error
    assert "billing@mail.shop.example" in message.from_email


def test_the_short_sequence_and_the_extended_pause(shop) -> None:
    config.save(
        db.session,
        shop.workspace.id,
        sequence="extended",
        from_name="Shop Billing",
        reply_to="help@shop.example",
        copy={"d0": {"subject": "Hey {name}, {amount} is due", "message": ""}},
        pause_days=30,
    )
    db.session.commit()
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    touches = shop.steps(campaign, "email")
    assert [s.touch for s in touches] == ["d0", "d3", "d7", "d14", "d21", "d30"]
    assert touches[-1].due_at < campaign.window_ends_at
    reach(shop, touches[0])
    [first] = messages()
    assert first.subject == "Hey there, $29.00 is due"
    assert first.reply_to == "help@shop.example" and first.from_email.startswith("Shop Billing")
    reach(shop, touches[-1])
    last = messages()[-1]
    assert "paused until" in last.body_text
    paused = shop.client.v1.subscriptions.retrieve(sub.id).pause_collection
    assert paused is not None and paused.behavior == "keep_as_draft"
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign is not None


def test_a_failure_seen_late_plans_its_overdue_touches_due_now(shop) -> None:
    from app.dunning import planning

    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    for step in shop.steps(campaign, "email"):
        db.session.delete(step)
    db.session.commit()
    later = campaign.opened_at + dt.timedelta(days=5)  # d0 and d3 are long past
    written = planning.plan_for(
        db.session, shop.campaign(sub.id), now=later, late="the failure was seen only now"
    )
    assert [s.touch for s in written] == ["d0", "d3", "d7", "d14"]
    assert [s.due_at for s in written[:2]] == [later, later]
    assert all(s.due_at > later for s in written[2:])
    assert "overdue when planned (the failure was seen only now)" in written[1].reason
    assert "overdue" not in written[2].reason
