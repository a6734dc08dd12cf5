"""Campaigns against the sandbox: a renewal fails, Backstop plans, retries under the
caps on the clock's time, and closes the campaign the way the invoice ended."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from app.extensions import db
from app.recovery.models import Campaign, ChargeAttempt

from .shop import START, Shop

MONTH = dt.timedelta(days=30)


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url)


def renew(shop: Shop, after: dt.timedelta = dt.timedelta(hours=1)) -> None:
    """Past the first renewal: June 1 + a month, finalized and charged an hour later."""
    shop.advance(to=START + dt.timedelta(days=30, hours=1) + after)


def test_a_failed_renewal_opens_one_campaign_with_its_plan(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds", tz="America/New_York")
    renew(shop)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "in_flight"
    assert campaign.decline_code == "insufficient_funds"
    assert campaign.decline_class == "scheduled"
    assert campaign.card_brand == "visa" and campaign.card_fingerprint
    assert campaign.customer_tz == "America/New_York"
    assert campaign.amount_minor == 2900 and campaign.currency == "usd"
    planned = shop.steps(campaign)
    assert 1 <= len(planned) <= 4
    for step in planned:
        local = step.due_at.replace(tzinfo=dt.UTC).astimezone(
            __import__("zoneinfo").ZoneInfo("America/New_York")
        )
        assert (local.hour, local.minute) == (10, 0) and local.weekday() < 5
        assert step.reason
    [window] = shop.steps(campaign, "window_end")
    assert window.status == "pending"
    attempts = (
        db.session.execute(select(ChargeAttempt).order_by(ChargeAttempt.at, ChargeAttempt.id))
        .scalars()
        .all()
    )
    assert len(attempts) == 1 and attempts[0].source == "stripe"


def test_retries_run_on_the_clock_and_recover(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds_recover2")
    renew(shop)
    campaign = shop.campaign(sub.id)
    first = shop.steps(campaign)[0]
    shop.advance(to=first.due_at.replace(tzinfo=dt.UTC))
    first = db.session.get(type(first), first.id)
    assert first.outcome == "declined", first.outcome_detail
    second = next(s for s in shop.steps(campaign) if s.status == "pending")
    shop.advance(to=second.due_at.replace(tzinfo=dt.UTC))
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered", [
        (s.status, s.outcome, s.outcome_detail) for s in shop.steps(campaign)
    ]
    assert campaign.attribution == "retry"
    window = shop.steps(campaign, "window_end")[0]
    assert window.status == "cancelled"
    sources = sorted(a.source for a in db.session.execute(select(ChargeAttempt)).scalars())
    assert sources == ["backstop", "backstop", "stripe"]


def statuses(shop: Shop, campaign) -> list[tuple[str, str | None]]:
    return [(s.status, s.outcome) for s in shop.steps(campaign)]


def test_a_stolen_card_is_never_retried(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_stolen_card")
    renew(shop)
    campaign = shop.campaign(sub.id)
    assert campaign.decline_class == "no_recovery"
    assert shop.steps(campaign) == []
    shop.advance(days=30)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "lost" and "30 days" in campaign.close_reason
    assert db.session.execute(select(ChargeAttempt)).scalars().all()[0].source == "stripe"
    assert len(db.session.execute(select(ChargeAttempt)).scalars().all()) == 1


def test_an_expired_card_waits_for_a_new_one_then_one_polite_retry_recovers(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_expired_card")
    renew(shop)
    campaign = shop.campaign(sub.id)
    assert campaign.decline_class == "customer_action"
    assert shop.steps(campaign) == []
    shop.advance(days=2)
    changed_at = shop.now
    shop.change_card(sub.id, "pm_card_visa")
    shop.catch_up()
    [polite] = shop.steps(campaign)
    assert not polite.is_automatic
    assert polite.due_at >= changed_at + dt.timedelta(hours=24)
    assert polite.due_at.hour == 10 and polite.due_at.weekday() < 5
    shop.advance(to=polite.due_at)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "card_update"


def test_a_processing_error_gets_quick_retries_not_landed_at_ten(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_processing_error_recover3")
    renew(shop, after=dt.timedelta(minutes=1))
    campaign = shop.campaign(sub.id)
    assert campaign.decline_class == "immediate"
    for _ in range(5):
        pending = [s for s in shop.steps(campaign) if s.status == "pending"]
        if not pending:
            break
        shop.advance(to=pending[0].due_at)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "retry"
    assert campaign.auto_retries == 3
    times = sorted(a.at for a in db.session.execute(select(ChargeAttempt)).scalars())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == [dt.timedelta(minutes=10), dt.timedelta(hours=1), dt.timedelta(hours=4)]


def test_stripe_managed_retries_get_none_of_ours_and_are_counted(shop) -> None:
    shop.sandbox_settings(automatic_retries="default")
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds_recover2")
    renew(shop)
    campaign = shop.campaign(sub.id)
    assert campaign.is_stripe_managed and shop.steps(campaign) == []
    shop.advance(days=10)  # Stripe retries after 3 days, then 5 days later: paid
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "stripe_retry"
    attempts = (
        db.session.execute(select(ChargeAttempt).order_by(ChargeAttempt.at, ChargeAttempt.id))
        .scalars()
        .all()
    )
    assert [a.source for a in attempts] == ["stripe"] * 3
    assert [a.succeeded for a in attempts] == [False, False, True]


def test_stripe_canceling_for_non_payment_loses_the_campaign(shop) -> None:
    shop.sandbox_settings(automatic_retries="default", subscription_after_retries="cancel")
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    shop.advance(days=20)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "lost" and "non-payment" in campaign.close_reason
    assert shop.steps(campaign, "window_end")[0].status == "cancelled"


def test_voiding_the_invoice_abandons_and_cancels_the_plan(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    shop.client.v1.invoices.void_invoice(campaign.invoice_stripe_id)
    shop.catch_up()
    campaign = shop.campaign(sub.id)
    assert campaign.state == "abandoned" and "voided" in campaign.close_reason
    assert {s.status for s in shop.steps(campaign)} == {"cancelled"}
    assert all("abandoned" in s.outcome_detail for s in shop.steps(campaign))


def test_the_merchant_canceling_the_subscription_abandons(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    shop.client.v1.subscriptions.cancel(sub.id)
    shop.catch_up()
    assert shop.campaign(sub.id).state == "abandoned"


def test_the_customer_paying_themselves_is_attributed_to_them(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    shop.catch_up()
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "customer_paid"


def test_an_always_declining_card_stays_under_the_caps_and_is_lost(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_do_not_honor")
    renew(shop)
    campaign = shop.campaign(sub.id)
    for _ in range(10):
        pending = [s for s in shop.steps(campaign) if s.status == "pending"]
        if not pending:
            break
        shop.advance(to=pending[0].due_at)
    shop.advance(to=max(shop.now, campaign.window_ends_at) + dt.timedelta(hours=1))
    campaign = shop.campaign(sub.id)
    assert campaign.state == "lost"
    assert campaign.auto_retries == 4
    attempts = (
        db.session.execute(select(ChargeAttempt).order_by(ChargeAttempt.at, ChargeAttempt.id))
        .scalars()
        .all()
    )
    assert len(attempts) == 5  # the renewal and four retries: under 6 per invoice


def test_pausing_cancels_the_plan_and_resuming_plans_again(shop) -> None:
    from app.recovery import campaigns

    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    campaign = shop.campaign(sub.id)
    assert campaigns.pause(db.session, shop.workspace.id, actor="me", now=shop.now) >= 1
    db.session.commit()
    assert {s.status for s in shop.steps(campaign)} == {"cancelled"}
    other = shop.subscribe("pm_card_sandbox_insufficient_funds")
    shop.advance(days=31, hours=2)
    assert shop.steps(shop.campaign(other.id)) == []  # failed while paused: nothing planned
    assert campaigns.resume(db.session, shop.workspace.id, actor="me", now=shop.now) >= 1
    db.session.commit()
    assert [s for s in shop.steps(shop.campaign(other.id)) if s.status == "pending"]


def test_disconnecting_stripe_abandons_every_open_campaign(shop) -> None:
    from app.stripe.connection import mark_disconnected

    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    mark_disconnected(db.session, shop.stripe_connection, reason="merchant")
    db.session.commit()
    campaign = shop.campaign(sub.id)
    assert campaign.state == "abandoned" and "disconnected" in campaign.close_reason


def test_the_same_event_twice_changes_nothing(shop) -> None:
    from app.stripe.models import StripeEvent
    from app.stripe.processing import replay
    from workers import stripe_tasks

    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    renew(shop)
    before = statuses(shop, shop.campaign(sub.id))
    for event in db.session.execute(
        select(StripeEvent).where(StripeEvent.type == "invoice.payment_failed")
    ).scalars():
        replay(db.session, event)
    db.session.commit()
    stripe_tasks.process_pending.run()
    assert statuses(shop, shop.campaign(sub.id)) == before
    assert len(db.session.execute(select(ChargeAttempt)).scalars().all()) == 1


def test_renewals_that_failed_before_connecting_get_campaigns_after_the_import(shop) -> None:
    from app.stripe import connection as connection_service

    sub = shop.subscribe("pm_card_sandbox_insufficient_funds")
    paid = shop.subscribe("pm_card_visa")
    # The renewals fail while Backstop is not listening yet.
    shop.client.v1.test_helpers.test_clocks.advance(
        shop.clock.id,
        params={"frozen_time": int((START + dt.timedelta(days=30, hours=2)).timestamp())},
    )
    conn = shop.stripe_connection
    conn.import_status, conn.import_progress = "pending", {}
    clock_now = int((START + dt.timedelta(days=30, hours=2)).timestamp())  # 90 days back
    while not connection_service.import_page(db.session, conn, now=clock_now):
        pass
    db.session.commit()
    campaign = shop.campaign(sub.id)
    assert campaign.state == "in_flight" and campaign.decline_code == "insufficient_funds"
    assert [s for s in shop.steps(campaign) if s.status == "pending"]
    with pytest.raises(NoResultFound):
        shop.campaign(paid.id)


@pytest.mark.parametrize(("past", "escalated"), [(2, False), (3, True)])
def test_a_customer_whom_retries_never_saved_goes_straight_to_the_card_update(
    shop, past, escalated
) -> None:
    """Past failed payments recovered only after the customer acted (or lost): from the
    third on, a new decline gets no blind retries, and its first email says why."""
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    for n in range(past):  # earlier cycles: paid only after a card update, or lost
        db.session.add(
            Campaign(
                workspace_id=shop.workspace.id,
                invoice_stripe_id=f"in_past{n}",
                customer_stripe_id=sub.customer,
                amount_minor=2900,
                currency="usd",
                decline_code="do_not_honor" if n % 2 else "expired_card",
                decline_class="scheduled",
                state="recovered" if n % 2 == 0 else "lost",
                attribution="card_update" if n % 2 == 0 else None,
                opened_at=START - MONTH * (n + 2),
                last_failure_at=START - MONTH * (n + 2),
                window_ends_at=START - MONTH * (n + 1),
            )
        )
    db.session.add(  # a cycle a retry recovered never counts
        Campaign(
            workspace_id=shop.workspace.id,
            invoice_stripe_id="in_past_retry",
            customer_stripe_id=sub.customer,
            amount_minor=2900,
            currency="usd",
            decline_class="scheduled",
            state="recovered",
            attribution="retry",
            opened_at=START - MONTH * 9,
            last_failure_at=START - MONTH * 9,
            window_ends_at=START - MONTH * 8,
        )
    )
    db.session.commit()
    renew(shop)
    campaign = shop.campaign(sub.id)
    assert campaign.decline_code == "insufficient_funds"
    if not escalated:
        assert campaign.decline_class == "scheduled" and campaign.class_reason is None
        assert shop.steps(campaign)
        return
    assert campaign.decline_class == "customer_action"
    assert "retries recovered none of this customer's last 3" in campaign.class_reason
    assert shop.steps(campaign) == []  # no blind retry
    first = shop.steps(campaign, "email")[0]
    assert first.touch == "d0" and campaign.class_reason in first.reason
