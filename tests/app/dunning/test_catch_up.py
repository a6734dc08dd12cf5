"""Never a stale or doubled email (DESIGN §4): overdue touches collapse into the newest,
two emails of one campaign keep the workspace's gap, overdue retries collapse into one
attempt, a failure older than the window is shown and not mailed, and a message whose
reason went between its enqueue and its send is dropped with a timeline entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from app import queue
from app.dunning import config
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.services import DELIVER_TASK
from app.recovery.models import ChargeAttempt
from app.stripe import clocks
from workers import email_tasks

from ..recovery.shop import START, Shop
from .test_touches import messages, renew


@pytest.fixture
def shop(ctx, sandbox_url):
    return Shop(sandbox_url)


def touches(shop: Shop, sub_id: str) -> dict[str, Any]:
    return {s.touch: s for s in shop.steps(shop.campaign(sub_id), "email")}


def sent(shop: Shop) -> list[OutboxMessage]:
    return [m for m in messages() if m.status == "sent"]


def test_a_clock_jump_over_several_touches_sends_only_the_newest(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)  # d0 goes out at 10:00 on the day of the failure
    assert len(sent(shop)) == 1
    steps = touches(shop, sub.id)
    shop.advance(to=steps["d7"].due_at + dt.timedelta(hours=1))  # d3 and d7 both overdue
    steps = touches(shop, sub.id)
    assert (steps["d3"].status, steps["d3"].outcome) == ("done", "skipped")
    assert steps["d3"].outcome_detail == "skipped: the third reminder email was already due"
    assert steps["d7"].outcome == "sent"
    assert [m.step_id for m in sent(shop)] == [steps["d0"].id, steps["d7"].id]


def test_the_final_notice_wins_over_every_touch_before_it(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    steps = touches(shop, sub.id)
    shop.advance(to=steps["d14"].due_at + dt.timedelta(minutes=5))
    steps = touches(shop, sub.id)
    assert [steps[k].outcome for k in ("d0", "d3", "d7", "d14")] == [
        "sent",
        "skipped",
        "skipped",
        "sent",
    ]
    assert {steps[k].outcome_detail for k in ("d3", "d7")} == {
        "skipped: the final reminder email was already due"
    }
    assert [m.step_id for m in sent(shop)] == [steps["d0"].id, steps["d14"].id]


def test_two_emails_of_one_campaign_keep_the_gap(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    steps = touches(shop, sub.id)
    d0_at = steps["d0"].executed_at
    # The merchant's clock and ours disagree (a resume, a reschedule): d3 falls 2 h
    # after d0 went out. It waits for the gap instead of following at once.
    steps["d3"].due_at = d0_at + dt.timedelta(hours=2)
    db.session.commit()
    shop.advance(to=d0_at + dt.timedelta(hours=3))
    d3 = touches(shop, sub.id)["d3"]
    assert d3.status == "pending" and d3.due_at == d0_at + dt.timedelta(hours=24)
    assert d3.outcome_detail == "held: the campaign's last email went out less than 24 h before"
    assert len(sent(shop)) == 1
    shop.advance(to=d0_at + dt.timedelta(hours=24))
    d3 = touches(shop, sub.id)["d3"]
    assert (d3.outcome, d3.executed_at) == ("sent", d0_at + dt.timedelta(hours=24))
    assert len(sent(shop)) == 2


def test_the_gap_is_the_workspaces_setting(shop) -> None:
    row = config.settings_for(db.session, shop.workspace.id)
    row.gap_hours = 48
    db.session.commit()
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    steps = touches(shop, sub.id)
    d0_at = steps["d0"].executed_at
    steps["d3"].due_at = d0_at + dt.timedelta(hours=30)
    db.session.commit()
    shop.advance(to=d0_at + dt.timedelta(hours=31))
    d3 = touches(shop, sub.id)["d3"]
    assert d3.status == "pending" and d3.due_at == d0_at + dt.timedelta(hours=48)
    assert "less than 48 h" in d3.outcome_detail


def test_a_gap_outside_the_limits_is_refused() -> None:
    errors, _ = config.check(sequence="standard", copy={}, pause_days=None, gap_hours=2)
    assert errors == ["leave 12 to 168 hours between two emails of one campaign"]
    assert config.check(sequence="standard", copy={}, pause_days=None, gap_hours=36)[0] == []


def test_overdue_retries_collapse_into_one_attempt(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_do_not_honor")  # +1d, +3d, +7d, +14d
    renew(shop)
    campaign = shop.campaign(sub.id)
    retries = shop.steps(campaign)
    assert len(retries) >= 2
    shop.advance(to=retries[1].due_at + dt.timedelta(hours=1))  # the first two are overdue
    retries = shop.steps(campaign)
    first, second = retries[0], retries[1]
    assert (first.outcome, first.outcome_detail) == (
        "skipped",
        "skipped: a later retry was already due",
    )
    assert second.outcome == "declined"
    ours = db.session.execute(
        select(ChargeAttempt).where(ChargeAttempt.source == "backstop")
    ).scalars()
    assert len(list(ours)) == 1


def test_a_failure_older_than_the_window_is_shown_and_not_mailed(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    # Backstop hears nothing while the clock passes the renewal and the whole window
    # (a worker down, or the import of an account that failed long ago).
    late = START + dt.timedelta(days=60, hours=6)
    shop.client.v1.test_helpers.test_clocks.advance(
        shop.clock.id, params={"frozen_time": int(late.timestamp())}
    )
    shop.now = late
    shop.catch_up()
    campaign = shop.campaign(sub.id)
    assert campaign.opened_at < late - dt.timedelta(days=30)
    assert messages() == []
    for step in shop.steps(campaign, "email"):  # planned before the clock was known
        assert step.outcome in ("skipped", "cancelled"), step.outcome_detail
    assert campaign.state == "lost"
    assert db.session.execute(select(ChargeAttempt.source)).scalars().all() == ["stripe"]


def test_an_old_failure_seen_with_its_clock_known_plans_no_email_and_no_retry(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    late = START + dt.timedelta(days=60, hours=6)
    shop.client.v1.test_helpers.test_clocks.advance(
        shop.clock.id, params={"frozen_time": int(late.timestamp())}
    )
    shop.now = late
    # As the import does (clocks.ensure): Backstop knows the clock's time first.
    clocks.record(
        db.session,
        shop.workspace.id,
        {"id": shop.clock.id, "frozen_time": int(late.timestamp()), "status": "ready"},
        source_created=2**40,
    )
    db.session.commit()
    shop.catch_up()
    campaign = shop.campaign(sub.id)
    assert shop.steps(campaign, "email") == [] and shop.steps(campaign) == []
    assert campaign.state == "lost" and messages() == []


# -- the race between the enqueue and the send ------------------------------------------------


@pytest.fixture
def held(monkeypatch):
    """Deliveries are held where a broker would hold them; others run as usual."""
    waiting: list[int] = []
    real = queue.send_now

    def send_now(task_name: str, *args: Any) -> None:
        if task_name == DELIVER_TASK:
            waiting.append(args[0])
        else:
            real(task_name, *args)

    monkeypatch.setattr(queue, "send_now", send_now)
    return waiting


def deliver(waiting: list[int]) -> None:
    for message_id in waiting:
        email_tasks.deliver.apply(args=[message_id], throw=True)
    waiting.clear()
    db.session.expire_all()


def pay_in_stripe(shop: Shop, sub_id: str) -> None:
    """The customer pays the open invoice with another card, straight in Stripe."""
    invoice = shop.open_invoice(sub_id)
    pm = shop.client.v1.payment_methods.attach(
        "pm_card_visa", params={"customer": invoice.customer}
    )
    paid = shop.client.v1.invoices.pay(invoice.id, params={"payment_method": pm.id})
    assert paid.status == "paid"


def test_an_invoice_paid_before_the_email_leaves_drops_it(shop, held) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)  # the d0 touch ran: its message is stored and waits for delivery
    [message] = messages()
    assert message.status == "queued" and held == [message.id]
    pay_in_stripe(shop, sub.id)  # no event has reached Backstop yet: the mirror is stale
    deliver(held)
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == "dropped" and message.sent_at is None
    assert message.error == "not sent: the invoice was paid before the email left"
    d0 = touches(shop, sub.id)["d0"]
    assert (d0.outcome, d0.outcome_detail) == (
        "dropped",
        "not sent: the invoice was paid before the email left",
    )


def test_a_campaign_closed_before_the_email_leaves_drops_it(shop, held) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    [message] = messages()
    pay_in_stripe(shop, sub.id)
    shop.catch_up()  # invoice.paid arrives first: the campaign is recovered
    assert shop.campaign(sub.id).state == "recovered"
    deliver(held)
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == "dropped"
    assert message.error == "not sent: the campaign was recovered before the email left"


def test_an_email_still_due_leaves_after_the_re_check(shop, held) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    deliver(held)
    [message] = messages()
    assert message.status == "sent"
    assert touches(shop, sub.id)["d0"].outcome == "sent"


def test_a_touch_due_at_the_failure_goes_without_waiting_for_the_sweeper(shop) -> None:
    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    shop.client.v1.test_helpers.test_clocks.advance(
        shop.clock.id,
        params={"frozen_time": int((START + dt.timedelta(days=30, hours=2)).timestamp())},
    )
    # As a live account's endpoint (no test-clock events): only the failure wakes us.
    shop.seen |= {e["id"] for e in shop._events() if e["type"].startswith("test_helpers.")}
    shop.pump()  # the failure is processed; no sweep runs
    d0 = touches(shop, sub.id)["d0"]
    assert (d0.status, d0.outcome) == ("done", "sent")
    assert [m.step_id for m in sent(shop)] == [d0.id]
    later = touches(shop, sub.id)["d3"]
    assert later.status == "pending"  # not due: left to the sweeper


def test_an_older_touch_never_runs_after_a_newer_one_went(ctx) -> None:
    """Overdue steps run in any order (several workers): when the second reminder went
    first, the first one is skipped, not held to follow it a day later."""
    from app.recovery import planning, runner
    from app.recovery.models import Step
    from app.schedule import kinds

    from ..dashboard.test_recovery_pages import campaign
    from ..factories import workspace

    at = START + dt.timedelta(days=34)
    row = campaign(workspace(), opened=START + dt.timedelta(days=30))
    steps = {}
    for touch, day in (("d0", 30), ("d3", 33)):
        steps[touch] = planning.add_step(
            db.session, row, "email", START + dt.timedelta(days=day), f"{touch} is due"
        )
        steps[touch].touch = touch
    steps["d3"].status, steps["d3"].outcome = "done", "sent"
    steps["d3"].executed_at = at - dt.timedelta(minutes=1)
    db.session.flush()
    verdict = runner.catch_up(db.session, kinds.get("email"), steps["d0"], at=at)
    assert verdict == kinds.Done("skipped", "skipped: the second reminder email was already due")
    # A newer touch cancelled by a pause never ran: it does not count.
    steps["d3"].status, steps["d3"].executed_at = "cancelled", None
    db.session.flush()
    assert not isinstance(
        runner.catch_up(
            db.session, kinds.get("email"), db.session.get(Step, steps["d0"].id), at=at
        ),
        kinds.Done,
    )


def test_a_second_run_of_a_touch_already_sent_changes_nothing(shop) -> None:
    """The first run was slow (Stripe, a database outage) past its lease, so the sweeper
    handed the step out again; the second run, loaded while the step was still running,
    waits for the campaign's lock and finds the touch sent. It must neither send again
    nor put the touch back in the schedule a gap later (found by tests/e2e/test_chaos.py)."""
    from sqlalchemy.orm.attributes import set_committed_value

    from app.recovery import runner
    from app.recovery.models import Step

    sub = shop.subscribe("pm_card_sandbox_visa_insufficient_funds")
    renew(shop)
    shop.advance(to=touches(shop, sub.id)["d3"].due_at)
    d3 = touches(shop, sub.id)["d3"]
    assert (d3.status, d3.outcome) == ("done", "sent")
    sent_at, before = d3.executed_at, len(messages())
    # What the second run had loaded before the first committed.
    for name, value in (("status", "running"), ("outcome", None), ("executed_at", None)):
        set_committed_value(d3, name, value)
    verdict = runner.prepare(db.session, shop.stripe_connection, d3, now=dt.datetime.now(dt.UTC))
    db.session.commit()
    assert verdict == runner.FINISHED
    d3 = db.session.get(Step, d3.id)
    db.session.refresh(d3)
    assert (d3.status, d3.outcome, d3.executed_at) == ("done", "sent", sent_at)
    assert len(messages()) == before
