"""Staff operations on campaigns: retry now (never around a cap), stop, and reconcile
with Stripe for the events we missed (against the sandbox, events not pumped)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import utcnow
from app.recovery import config, planning
from app.recovery.models import Campaign, ChargeAttempt, Step
from app.recovery.operations import OperationRefused, reconcile, retry_now, stop

from .. import factories as f
from .shop import START, Shop

_n = itertools.count(1)


def open_campaign(ws, *, state: str = "in_flight", **kw) -> Campaign:
    """A campaign (no Stripe behind it) a day into its window, with its window end and
    one planned retry in three days."""
    now = utcnow()
    campaign = Campaign(
        workspace_id=ws.id,
        invoice_stripe_id=f"in_test{next(_n)}",
        customer_stripe_id=f"cus_test{next(_n)}",
        subscription_stripe_id=f"sub_test{next(_n)}",
        amount_minor=2900,
        currency="usd",
        decline_code="insufficient_funds",
        decline_class="scheduled",
        state=state,
        opened_at=now - dt.timedelta(days=1),
        last_failure_at=now - dt.timedelta(days=1),
        window_ends_at=now + dt.timedelta(days=29),
        **kw,
    )
    db.session.add(campaign)
    db.session.flush()
    planning.add_window_end(db.session, campaign)
    planning.add_step(
        db.session, campaign, "retry", now + dt.timedelta(days=3), "insufficient_funds: +3d"
    )
    db.session.flush()
    return campaign


def retries(campaign: Campaign) -> list[Step]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(Step)
            .where(Step.campaign_id == campaign.id, Step.kind == "retry")
            .order_by(Step.id)
        ).scalars()
    )


# -- retry now and stop, on the database -------------------------------------------------------


@pytest.fixture
def ws(ctx):
    return f.workspace()


def test_retry_now_adds_an_automatic_step_due_now(ws) -> None:
    campaign = open_campaign(ws)
    now = utcnow()
    step = retry_now(db.session, campaign, actor="ana@backstop.example", now=now)
    assert (step.kind, step.status, step.due_at, step.is_automatic) == (
        "retry",
        "pending",
        now,
        True,
    )
    assert step.reason == "staff retry by ana@backstop.example"
    assert step.workspace_id == ws.id and step.test_clock is None
    assert len(retries(campaign)) == 2  # the plan is left alone: the runner re-plans


@pytest.mark.parametrize("state", ["recovered", "lost", "abandoned"])
def test_retry_now_refuses_a_closed_campaign(ws, state) -> None:
    campaign = open_campaign(ws, state=state)
    with pytest.raises(OperationRefused, match=f"is {state}: there is nothing to retry"):
        retry_now(db.session, campaign, actor="ana", now=utcnow())
    assert len(retries(campaign)) == 1


@pytest.mark.parametrize("status", ["queued", "running", "pending"])
def test_retry_now_refuses_a_second_retry_on_its_way(ws, status) -> None:
    campaign = open_campaign(ws)
    first = retry_now(db.session, campaign, actor="ana", now=utcnow())
    first.status = status  # pending: due now, not swept yet (a double click)
    db.session.flush()
    with pytest.raises(OperationRefused, match=f"already has a retry .*step #{first.id}"):
        retry_now(db.session, campaign, actor="bo", now=utcnow())
    assert len(retries(campaign)) == 2


def test_a_finished_retry_does_not_block_another(ws) -> None:
    campaign = open_campaign(ws)
    first = retry_now(db.session, campaign, actor="ana", now=utcnow())
    first.status, first.outcome = "done", "declined"
    db.session.flush()
    assert retry_now(db.session, campaign, actor="ana", now=utcnow()).id != first.id


def test_retry_now_stays_under_the_automatic_retries_cap(ws) -> None:
    campaign = open_campaign(ws, auto_retries=4)
    with pytest.raises(
        OperationRefused, match="made 4 automatic retries, the most it may make is 4"
    ):
        retry_now(db.session, campaign, actor="ana", now=utcnow())
    assert len(retries(campaign)) == 1


def test_retry_now_refuses_while_stripe_retries_or_recovery_is_paused(ws) -> None:
    managed = open_campaign(ws, is_stripe_managed=True)
    with pytest.raises(OperationRefused, match="Stripe's own retries are on"):
        retry_now(db.session, managed, actor="ana", now=utcnow())
    campaign = open_campaign(ws)
    config.set_paused(db.session, None, True, actor="ops", now=utcnow())
    with pytest.raises(OperationRefused, match="paused for the whole service"):
        retry_now(db.session, campaign, actor="ana", now=utcnow())
    config.set_paused(db.session, None, False, actor="ops", now=utcnow())
    config.set_paused(db.session, ws.id, True, actor="ops", now=utcnow())
    with pytest.raises(OperationRefused, match="paused for this workspace"):
        retry_now(db.session, campaign, actor="ana", now=utcnow())


def test_stop_abandons_and_cancels_the_plan(ws) -> None:
    campaign = open_campaign(ws)
    now = utcnow()
    stop(db.session, campaign, actor="ana", now=now, reason="merchant asked")
    db.session.commit()
    assert campaign.state == "abandoned" and campaign.closed_at == now
    assert campaign.close_reason == "stopped by staff: merchant asked (ana)"
    steps = db.session.execute(select(Step).where(Step.campaign_id == campaign.id)).scalars()
    assert {(s.status, s.outcome) for s in steps} == {("cancelled", "cancelled")}
    with pytest.raises(OperationRefused, match="is already abandoned"):
        stop(db.session, campaign, actor="bo", now=now, reason="again")
    assert campaign.close_reason.endswith("(ana)")


# -- against the sandbox ------------------------------------------------------------------------


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url)


def failed_renewal(shop: Shop, card: str = "pm_card_sandbox_visa_insufficient_funds"):
    """A subscription whose first renewal failed; Backstop saw it (events pumped)."""
    sub = shop.subscribe(card)
    shop.advance(to=START + dt.timedelta(days=30, hours=2))
    campaign = shop.campaign(sub.id)
    assert campaign.state == "in_flight"
    return sub, campaign


def attempts() -> int:
    return db.session.execute(select(func.count()).select_from(ChargeAttempt)).scalar_one()


def test_a_staff_retry_runs_through_the_runner_and_counts_as_automatic(shop) -> None:
    sub, campaign = failed_renewal(shop)
    step = retry_now(db.session, campaign, actor="ana", now=utcnow())
    db.session.commit()
    shop.catch_up()  # the next sweep
    step = db.session.get(Step, step.id)
    assert (step.status, step.outcome) == ("done", "declined"), step.outcome_detail
    campaign = shop.campaign(sub.id)
    assert campaign.auto_retries == 1 and campaign.state == "in_flight"
    sources = db.session.execute(select(ChargeAttempt.source).order_by(ChargeAttempt.at)).scalars()
    assert list(sources) == ["stripe", "backstop"]
    assert [s for s in shop.steps(campaign) if s.status == "pending"]  # planned again from it


def test_the_runner_checks_the_caps_again_when_a_staff_retry_runs(shop) -> None:
    _, campaign = failed_renewal(shop)
    step = retry_now(db.session, campaign, actor="ana", now=utcnow())
    campaign.auto_retries = 4  # retries made between the click and the sweep
    db.session.commit()
    before = attempts()
    shop.catch_up()
    step = db.session.get(Step, step.id)
    assert step.outcome == "refused" and "4 automatic retries made" in step.outcome_detail
    assert attempts() == before  # no charge
    assert shop.client.v1.invoices.retrieve(campaign.invoice_stripe_id).attempt_count == 1


def snapshot(campaign: Campaign) -> tuple:
    db.session.expire_all()
    return (
        campaign.state,
        campaign.attribution,
        campaign.close_reason,
        campaign.closed_at,
        [(s.id, s.status) for s in db.session.scalars(select(Step).order_by(Step.id))],
        attempts(),
    )


def test_reconcile_recovers_a_campaign_whose_invoice_was_paid_meanwhile(shop) -> None:
    sub, campaign = failed_renewal(shop)
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    assert shop.campaign(sub.id).state == "in_flight"  # the events were never pumped
    summary = reconcile(db.session, shop.stripe_connection, now=utcnow())
    db.session.commit()
    assert summary.as_dict() == {
        "checked": 1,
        "recovered": 1,
        "abandoned": 0,
        "lost": 0,
        "unchanged": 0,
        "errors": 0,
    }
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "customer_paid"
    assert campaign.recovered_minor == 2900
    assert {s.status for s in shop.steps(campaign)} == {"cancelled"}
    assert shop.steps(campaign, "window_end")[0].status == "cancelled"
    before = snapshot(campaign)
    again = reconcile(db.session, shop.stripe_connection, now=utcnow())
    db.session.commit()
    assert again.checked == 0 and again.closed == 0
    assert snapshot(campaign) == before
    shop.catch_up()  # the late events change nothing either
    assert snapshot(campaign)[:4] == before[:4]


@pytest.mark.parametrize(
    ("close", "reason"),
    [("void_invoice", "voided"), ("mark_uncollectible", "uncollectible")],
)
def test_reconcile_abandons_a_campaign_whose_invoice_was_closed(shop, close, reason) -> None:
    sub, campaign = failed_renewal(shop)
    getattr(shop.client.v1.invoices, close)(campaign.invoice_stripe_id)
    summary = reconcile(db.session, shop.stripe_connection, now=utcnow())
    db.session.commit()
    assert (summary.abandoned, summary.unchanged) == (1, 0)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "abandoned" and reason in campaign.close_reason
    assert campaign.attribution is None
    before = snapshot(campaign)
    assert reconcile(db.session, shop.stripe_connection, now=utcnow()).closed == 0
    assert snapshot(campaign) == before


def test_reconcile_abandons_when_the_merchant_canceled_the_subscription(shop) -> None:
    sub, campaign = failed_renewal(shop)
    shop.client.v1.subscriptions.cancel(sub.id)
    summary = reconcile(db.session, shop.stripe_connection, now=utcnow())
    db.session.commit()
    assert summary.abandoned == 1
    campaign = shop.campaign(sub.id)
    assert campaign.state == "abandoned" and "canceled" in campaign.close_reason


def test_reconcile_loses_a_campaign_stripe_canceled_for_non_payment(shop) -> None:
    shop.sandbox_settings(automatic_retries="default", subscription_after_retries="cancel")
    sub, campaign = failed_renewal(shop, "pm_card_sandbox_insufficient_funds")
    target = shop.now + dt.timedelta(days=20)  # past Stripe's retries: it cancels
    shop.client.v1.test_helpers.test_clocks.advance(
        shop.clock.id, params={"frozen_time": int(target.timestamp())}
    )
    assert shop.client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    summary = reconcile(db.session, shop.stripe_connection, now=utcnow())
    db.session.commit()
    assert (summary.lost, summary.checked) == (1, 1)
    campaign = shop.campaign(sub.id)
    assert campaign.state == "lost" and "non-payment" in campaign.close_reason


def test_reconcile_leaves_an_open_invoice_alone(shop) -> None:
    _, campaign = failed_renewal(shop)
    before = snapshot(campaign)
    summary = reconcile(db.session, shop.stripe_connection, now=utcnow())
    db.session.commit()
    assert (summary.checked, summary.unchanged, summary.closed) == (1, 1, 0)
    assert snapshot(campaign) == before


def test_reconcile_counts_stripe_errors_and_goes_on(shop) -> None:
    _, campaign = failed_renewal(shop)
    ghost = open_campaign(shop.workspace)  # its invoice does not exist at Stripe
    db.session.commit()
    summary = reconcile(db.session, shop.stripe_connection, now=utcnow())
    assert (summary.checked, summary.errors, summary.unchanged) == (2, 1, 1)
    db.session.expire_all()
    assert ghost.state == "in_flight" and campaign.state == "in_flight"


def test_reconcile_refuses_a_disconnected_workspace(ws) -> None:
    connection = f.connection(ws, status="disconnected")
    open_campaign(ws)
    with pytest.raises(OperationRefused, match="not connected"):
        reconcile(db.session, connection, now=utcnow())


def test_a_payment_out_of_band_after_our_declined_retry_is_the_customers(shop) -> None:
    sub, campaign = failed_renewal(shop)
    retry_now(db.session, campaign, actor="ana", now=utcnow())
    db.session.commit()
    shop.catch_up()  # our retry runs and is declined
    shop.client.v1.invoices.pay(campaign.invoice_stripe_id, params={"paid_out_of_band": True})
    reconcile(db.session, shop.stripe_connection, now=utcnow())
    db.session.commit()
    campaign = shop.campaign(sub.id)
    assert campaign.state == "recovered" and campaign.attribution == "customer_paid"
