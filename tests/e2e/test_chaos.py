"""Chaos over a month of failed renewals, on PostgreSQL and RabbitMQ (the services lane).

Twenty customers whose renewals fail on four days in a row, the workspace's caps
lowered so that they bite (4 attempts per invoice, 2 per Mastercard card in 24 h), and
the sandbox's test clock moved day by day (stopping at each moment a step is due).
On the way, each while a retry waits on a Stripe call the sandbox holds (so the moment
is certain, not a race): the broker restarts before the task is acknowledged; the
worker is SIGKILLed while Stripe charges (Stripe goes on, a new worker starts); the
database restarts inside the retry's decide transaction. Also: the webhook endpoint is
off for the day the last renewals fail, whose events then arrive in a burst, twice
each and in random order, mixed with re-sent events the sandbox had delivered; and an
email touch outlives its lease (Stripe slow), so that two runs of it meet. At the end,
counted on the sandbox (its charges) and in the outbox: no invoice charged twice, no
attempt beyond the retry policy and the caps, every event processed, one campaign per
failed invoice, each ended or still correctly scheduled, and no email twice (per touch,
or two of one campaign within 24 h).

How a restart is modelled: the other tests of the lane share the PostgreSQL and
RabbitMQ servers, so they are never restarted for real. The stack's processes reach
them through a TCP proxy of this test's (:mod:`.chaos_proxy`), and a "restart" is what
a client sees of one: every open connection is reset (the server sees its client go,
so PostgreSQL aborts the transactions in flight and RabbitMQ requeues the unacknowledged
messages), and new connections fail until a few have been turned away.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from ..conftest import TEST_BROKER_URL, TEST_DATABASE_URL
from .chaos import (
    ACTS,
    INVOICE,
    PAY,
    Chaos,
    day_of_webhooks_in_a_burst,
    held,
    merchant_events,
    release,
    stall_a_touch_past_its_lease,
    wait_for_held,
)
from .chaos_proxy import proxied
from .merchant import START, Merchant
from .stack import running_stack

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_BROKER_URL),
    reason="restarts of PostgreSQL and RabbitMQ (the services lane)",
)

DAY = dt.timedelta(days=1)
RENEWALS = 4  # days in a row on which renewals fail
FIRST_FAILURE = START + dt.timedelta(days=30, hours=1)  # finalized an hour after renewal
END = FIRST_FAILURE + dt.timedelta(days=30, hours=2)  # the first day's windows have closed
MAX_PER_INVOICE = 4  # lowered caps: they refuse retries the cadences plan
MASTERCARD_PER_24H = 2


# card -> automatic retries its cadence allows (the caps may refuse some of them)
CARDS: dict[str, int] = {
    "pm_card_sandbox_insufficient_funds": 4,
    "pm_card_sandbox_insufficient_funds_recover2": 4,
    "pm_card_sandbox_mastercard_insufficient_funds": 4,
    "pm_card_sandbox_do_not_honor_recover1": 4,
    "pm_card_sandbox_mastercard_do_not_honor_recover3": 4,  # the invoice cap stops it
    "pm_card_sandbox_generic_decline": 3,
    "pm_card_sandbox_generic_decline_recover1": 3,
    "pm_card_sandbox_card_velocity_exceeded": 2,
    "pm_card_sandbox_mastercard_card_velocity_exceeded_recover1": 2,
    "pm_card_sandbox_processing_error": 4,
    "pm_card_sandbox_mastercard_processing_error": 4,  # the 24 h card cap stops it
    "pm_card_sandbox_processing_error_recover1": 4,
    "pm_card_sandbox_mastercard_issuer_not_available_recover2": 4,
    "pm_card_sandbox_try_again_later_recover2": 3,
    "pm_card_sandbox_expired_card": 0,
    "pm_card_sandbox_mastercard_incorrect_cvc": 0,
    "pm_card_sandbox_authentication_required": 0,
    "pm_card_sandbox_stolen_card": 0,
    "pm_card_sandbox_mastercard_lost_card": 0,
    "pm_card_sandbox_do_not_try_again": 0,
}


@pytest.fixture
def chaos(tmp_path, sandbox_url, database_url, broker_url) -> Iterator[Chaos]:
    """The stack behind two proxies (the database's, the broker's): a beat, a worker for
    events and steps, a worker for mail."""
    with (
        proxied(database_url, 5432) as (db_proxy, db_url),
        proxied(broker_url, 5672) as (mq_proxy, mq_url),
        running_stack(
            tmp_path,
            sandbox_url,
            db_url,
            mq_url,
            workers=0,
            beats=1,
            BACKSTOP_SWEEP_SECONDS="1",
            BACKSTOP_STEP_LEASE_SECONDS="5",
        ) as stack,
    ):
        steps_worker = stack.worker(concurrency=2, queues="celery")
        stack.worker(concurrency=1, queues="mail")
        yield Chaos(stack, db_proxy, mq_proxy, steps_worker)


def test_a_month_of_restarts_kills_and_replayed_webhooks_charges_and_mails_once(
    chaos: Chaos, db_view: Any, sandbox_url: str
) -> None:
    from app.recovery.config import save_policy
    from app.recovery.policy import Policy

    stack = chaos.stack
    db = db_view
    started = time.monotonic()
    merchant = Merchant(db, sandbox_url, stack.platform_key)
    save_policy(
        db.session,
        merchant.workspace_id,
        Policy(max_attempts_per_invoice_30d=MAX_PER_INVOICE, mastercard_max_24h=MASTERCARD_PER_24H),
    )
    db.session.commit()
    customers: dict[str, str] = {}  # customer id -> card
    for i, card in enumerate(CARDS):
        day = i * RENEWALS // len(CARDS)  # a quarter of them subscribe each day
        if merchant.now < START + day * DAY:
            merchant.advance(START + day * DAY)
        sub = merchant.subscribe(card)
        customers[merchant.stripe.v1.subscriptions.retrieve(sub).customer] = card
    merchant.settle(stack)

    # What happens when, each while a retry is under way (its Stripe call held).
    chaos_days = {
        "broker": (FIRST_FAILURE + 1 * DAY, "POST", PAY),  # the message is not acked yet
        "kill": (FIRST_FAILURE + 2 * DAY, "POST", PAY),  # Stripe charges, nobody hears
        "database": (FIRST_FAILURE + 5 * DAY, "GET", INVOICE),  # in its decide transaction
    }
    stall_day = FIRST_FAILURE + 7 * DAY  # an email touch outlives its lease
    burst_day = FIRST_FAILURE + 3 * DAY  # the last renewals fail: many events
    done: dict[str, Any] = {}
    moves = 0
    while merchant.now < END:
        target = _next_stop(merchant)
        due = [w for w, (day, *_) in chaos_days.items() if w not in done and target >= day]
        if due:
            what, (day, method, path) = due[0], chaos_days[due[0]]
            target = _first_retry_due(merchant, after=day)
            with held(chaos, sandbox_url, method, path):
                merchant.advance(target)
                wait_for_held(chaos, sandbox_url)
                ACTS[what](chaos, lambda: release(chaos, sandbox_url))
            done[what] = target
        elif "stall" not in done and target >= stall_day:
            done["stall"] = stall_a_touch_past_its_lease(chaos, merchant, sandbox_url)
        elif "burst" not in done and target >= burst_day:
            done["burst"] = day_of_webhooks_in_a_burst(chaos.stack, merchant, target, sandbox_url)
        else:
            merchant.advance(target)
        moves += 1
        merchant.settle(stack)

    print(
        f"\n{moves} clock moves in {time.monotonic() - started:.0f} s; "
        f"connections reset: database {chaos.database.stats}, broker {chaos.broker.stats}; "
        f"chaos: {done}"
    )
    assert set(done) == {*chaos_days, "burst", "stall"}
    assert all(chaos.broker.stats.restarts) and all(chaos.database.stats.restarts), (
        "the restarts cut live connections"
    )
    _assert_every_event_processed(merchant, sandbox_url)
    _assert_killed_retry_ran_again(merchant, done["kill"])
    _assert_stalled_touch_sent_once(merchant, done["stall"])
    _assert_charged_once_within_the_caps(merchant, customers)
    _assert_one_campaign_per_failed_invoice_ended_or_scheduled(merchant, customers)
    _assert_no_email_twice(merchant)


# -- moving the clock -------------------------------------------------------------------------


def _next_stop(merchant: Merchant) -> dt.datetime:
    """The next day, or sooner the next moment a step is due (never past one), or a
    renewal's failure."""
    candidates = [merchant.now + DAY, END]
    candidates += [
        FIRST_FAILURE + day * DAY
        for day in range(RENEWALS)
        if FIRST_FAILURE + day * DAY > merchant.now
    ]
    due = merchant.next_due()
    if due is not None:
        candidates.append(due)
    return min(candidates)


def _first_retry_due(merchant: Merchant, *, after: dt.datetime) -> dt.datetime:
    """When the first retry that the caps allow for sure (a campaign's first) is due."""
    from app.recovery.models import Campaign, Step

    merchant.db.session.remove()
    return merchant.db.session.execute(
        select(Step.due_at)
        .join(Campaign, Campaign.id == Step.campaign_id)
        .where(
            Step.kind == "retry",
            Step.status == "pending",
            Step.due_at >= after,
            Campaign.auto_retries == 0,
        )
        .order_by(Step.due_at)
        .limit(1)
    ).scalar_one()


# -- what must hold at the end ----------------------------------------------------------------


def _assert_every_event_processed(merchant: Merchant, sandbox_url: str) -> None:
    from app.stripe.models import StripeEvent

    merchant.db.session.remove()
    stored = dict(
        merchant.db.session.execute(select(StripeEvent.stripe_event_id, StripeEvent.status)).all()
    )
    for event in merchant_events(merchant, sandbox_url):
        assert stored.get(event["id"]) == "processed", (event["type"], stored.get(event["id"]))


def _assert_killed_retry_ran_again(merchant: Merchant, at: dt.datetime) -> None:
    """The retry whose worker died while Stripe charged was claimed again and learnt
    what Stripe did (charged once, by the idempotency key)."""
    from app.recovery.models import Step

    merchant.db.session.remove()
    held = (
        merchant.db.session.execute(select(Step).where(Step.kind == "retry", Step.due_at == at))
        .scalars()
        .all()
    )
    assert any(s.attempts >= 2 and s.outcome in ("paid", "declined") for s in held), [
        (s.status, s.attempts, s.outcome, s.outcome_detail) for s in held
    ]


def _assert_stalled_touch_sent_once(merchant: Merchant, step_id: int) -> None:
    """The two runs of the stalled touch sent one email, and the second did not put the
    touch back in the schedule (to be mailed again a day later)."""
    from app.outbox.models import OutboxMessage
    from app.recovery.models import Step

    merchant.db.session.remove()
    messages = merchant.db.session.execute(
        select(OutboxMessage.status).where(OutboxMessage.step_id == step_id)
    ).all()
    assert [m.status for m in messages] == ["sent"], "the stalled touch was mailed twice"
    step = merchant.db.session.get(Step, step_id)
    assert (step.status, step.outcome) == ("done", "sent"), step.outcome_detail
    assert step.attempts == 2, "claimed once more while the first run was stalled, no more"


def _charges(merchant: Merchant, customer: str) -> list[Any]:
    """The charges on the customer's renewal invoice, oldest first (the sandbox's)."""
    found = merchant.stripe.v1.charges.list(params={"customer": customer, "limit": 100})
    # The first paid the subscription's first month; the run ends before a second renewal.
    return sorted(found.data, key=lambda c: c.created)[1:]


def _assert_charged_once_within_the_caps(merchant: Merchant, customers: dict[str, str]) -> None:
    per_card: dict[str, list[dt.datetime]] = defaultdict(list)
    for customer, card in customers.items():
        charges = _charges(merchant, customer)
        assert charges, f"{card}: its renewal was never charged"
        succeeded = [c for c in charges if c.status == "succeeded"]
        assert len(succeeded) <= 1, f"{card}: charged {len(succeeded)} times"
        assert len(charges) <= MAX_PER_INVOICE, f"{card}: {len(charges)} attempts on one invoice"
        ours = len(charges) - 1  # the first is Stripe's renewal attempt (its retries are off)
        assert ours <= CARDS[card], f"{card}: {ours} retries, its policy allows {CARDS[card]}"
        for charge in charges:
            if charge.payment_method_details.card.brand == "mastercard":
                at = dt.datetime.fromtimestamp(charge.created, dt.UTC)
                per_card[charge.payment_method_details.card.fingerprint].append(at)
    for stamps in per_card.values():
        for at in stamps:
            within = [s for s in stamps if dt.timedelta(0) <= at - s < DAY]
            assert len(within) <= MASTERCARD_PER_24H, f"Mastercard card charged {stamps}"


def _assert_one_campaign_per_failed_invoice_ended_or_scheduled(
    merchant: Merchant, customers: dict[str, str]
) -> None:
    from app.recovery.models import Campaign

    db = merchant.db
    db.session.remove()
    campaigns = (
        db.session.execute(select(Campaign).where(Campaign.workspace_id == merchant.workspace_id))
        .scalars()
        .all()
    )
    assert Counter(c.customer_stripe_id for c in campaigns) == Counter(list(customers)), (
        "one campaign per failed renewal"
    )
    refused = 0
    for campaign in campaigns:
        card = customers[campaign.customer_stripe_id]
        invoice = merchant.stripe.v1.invoices.retrieve(campaign.invoice_stripe_id)
        steps = campaign.steps
        assert not [s for s in steps if s.status in ("queued", "running")], card
        assert not [s for s in steps if s.outcome == "error"], card
        refused += sum(1 for s in steps if s.outcome == "refused")
        if campaign.state == "recovered":
            assert invoice.status == "paid", card
            assert campaign.attribution == "retry", card
        elif campaign.state == "lost":
            assert invoice.status == "open", card
            assert merchant.now >= campaign.window_ends_at, f"{card}: lost before its window ended"
        else:
            assert campaign.state == "in_flight", f"{card}: {campaign.state}"
            assert invoice.status == "open", card
            pending = [s for s in steps if s.status == "pending"]
            assert all(s.due_at > merchant.now for s in pending), f"{card}: a step left behind"
            ends = [s for s in pending if s.kind == "window_end"]
            assert [s.due_at for s in ends] == [campaign.window_ends_at], card
        if CARDS[card] == 0:
            assert not [s for s in steps if s.kind == "retry" and s.outcome], card
    assert refused > 0, "the caps were in play"


def _assert_no_email_twice(merchant: Merchant) -> None:
    from app.outbox.models import OutboxMessage
    from app.recovery.models import Campaign, Step

    db = merchant.db
    db.session.remove()
    rows = db.session.execute(
        select(OutboxMessage, Step)
        .join(Step, Step.id == OutboxMessage.step_id)
        .where(OutboxMessage.workspace_id == merchant.workspace_id)
    ).all()
    campaigns = set(
        db.session.execute(
            select(Campaign.id).where(Campaign.workspace_id == merchant.workspace_id)
        ).scalars()
    )
    per_step = Counter(message.step_id for message, _ in rows)
    assert max(per_step.values()) == 1, "a step wrote two emails"
    sent = [(m, s) for m, s in rows if m.status == "sent"]
    per_touch = Counter((m.campaign_id, s.kind, s.touch) for m, s in sent)
    assert max(per_touch.values()) == 1, [k for k, n in per_touch.items() if n > 1]
    by_campaign: dict[int, list[dt.datetime]] = defaultdict(list)
    for _, step in sent:
        by_campaign[step.campaign_id].append(step.executed_at)
    assert set(by_campaign) == campaigns, "every campaign wrote to its customer"
    for stamps in by_campaign.values():
        for a, b in itertools.pairwise(sorted(stamps)):
            assert b - a >= DAY, f"two emails of one campaign within 24 h: {a}, {b}"
