"""The what-if replay as a pure function: past failures and a draft policy in, the
draft's retries and a summary per decline class out. Laws: the draft never breaks a
cap, the saved policy replayed over failures it planned gives back its plan, a card
never to be retried never gets a retry, every retry lands inside the window."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.insights import replay
from app.insights.replay import (
    IMPORTED,
    LOST,
    OPEN,
    RECOVERED,
    PastFailure,
    in_working_hours,
    replay_one,
)
from app.recovery.cadence import plan_retries
from app.recovery.caps import count_within
from app.recovery.declines import (
    CUSTOMER_ACTION_CODES,
    IMMEDIATE_CODES,
    NO_RECOVERY_CODES,
    SCHEDULED_CODES,
    DeclineClass,
    classify,
)
from app.recovery.policy import CAMPAIGN_WINDOW, DAY, DEFAULT_POLICY, PAYDAY, Policy

from ..recovery.test_laws import TIMEZONES, policies

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
#: A Monday, 09:00 UTC.
MONDAY = dt.datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
CODES = sorted(IMMEDIATE_CODES | SCHEDULED_CODES | CUSTOMER_ACTION_CODES | NO_RECOVERY_CODES)
CODES += ["transaction_not_allowed", "code_nobody_knows", None]

moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC)
)
failures = st.builds(
    PastFailure,
    invoice=st.just("in_x"),
    failed_at=moments,
    outcome=st.sampled_from([RECOVERED, LOST, OPEN, "abandoned"]),
    decline_code=st.sampled_from(CODES),
    advice_code=st.sampled_from([None, None, "do_not_try_again", "try_again_later"]),
    network_advice_code=st.sampled_from([None, None, "01", "03"]),
    card_brand=st.sampled_from(["visa", "mastercard", "amex", None]),
    tz=st.sampled_from(TIMEZONES),
    payday_history=st.lists(moments, max_size=4).map(tuple),
)


def failure(code: str | None = "insufficient_funds", **kw) -> PastFailure:
    return PastFailure(
        **{"invoice": "in_1", "failed_at": MONDAY, "outcome": LOST, "decline_code": code, **kw}
    )


# -- laws ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(policy=policies, past=failures)
def test_the_draft_never_plans_more_than_the_caps_allow(policy: Policy, past: PastFailure) -> None:
    policy = policy.validate() if not policy.errors() else DEFAULT_POLICY
    done = replay_one(policy, past)
    times = [r.at for r in done.retries]
    assert len(times) <= policy.max_auto_retries
    assert times == sorted(times)
    attempts = [past.failed_at, *times]
    for at in attempts:  # the invoice cap, over every 30-day window ending at an attempt
        window = [a for a in attempts if at - 30 * DAY < a <= at]
        assert len(window) <= policy.max_attempts_per_invoice_30d
    if (past.card_brand or "") == "mastercard":
        for at in attempts:
            assert sum(1 for a in attempts if at - DAY < a <= at) <= policy.mastercard_max_24h
    for r in done.retries:  # inside the campaign's 30 days, after the failure
        assert past.failed_at < r.at < past.failed_at + CAMPAIGN_WINDOW or (
            r.at == past.failed_at and not r.landed
        )
    assert len(done.on_payday) == len(done.retries)
    if done.retries:
        assert done.no_retry is None


@settings(max_examples=200, deadline=None)
@given(past=failures)
def test_a_card_never_to_be_retried_never_gets_a_retry(past: PastFailure) -> None:
    done = replay_one(DEFAULT_POLICY, past)
    cls = classify(past.decline_code, None, past.advice_code, past.network_advice_code)
    if cls in (DeclineClass.NO_RECOVERY, DeclineClass.CUSTOMER_ACTION):
        assert done.retries == () and done.no_retry == str(cls)
    if past.decline_code in NO_RECOVERY_CODES:
        assert done.cls is DeclineClass.NO_RECOVERY and not done.retries


@settings(max_examples=200, deadline=None)
@given(policy=policies, past=failures)
def test_the_saved_policy_replayed_over_its_own_plan_gives_it_back(
    policy: Policy, past: PastFailure
) -> None:
    """Had the worker planned these retries with this policy (and made them, each
    declined), the replay of the same policy shows the same times."""
    policy = policy.validate() if not policy.errors() else DEFAULT_POLICY
    cls = classify(
        past.decline_code, None, past.advice_code, past.network_advice_code, policy.overrides
    )
    plan = plan_retries(
        past.failed_at,
        cls,
        past.decline_code,
        tz=past.tz,
        attempts_so_far=0,
        payday_history=[at for at in past.payday_history if at < past.failed_at],
        policy=policy,
        now=past.failed_at,
        window_ends_at=past.failed_at + CAMPAIGN_WINDOW,
    )
    done = replay_one(policy, past)
    if done.no_retry is None and done.capped == 0:
        assert [r.at for r in done.retries] == [r.at for r in plan]
        lived = PastFailure(**{**past.__dict__, "retries_at": tuple(r.at for r in plan)})
        summary = replay.replay(policy, [lived]).classes[0]
        assert summary.draft_retries == summary.actual_retries == len(plan)
        assert summary.draft_median_first_hours == summary.actual_median_first_hours


@settings(max_examples=100, deadline=None)
@given(policy=policies, pasts=st.lists(failures, max_size=20))
def test_the_summary_accounts_for_every_failure(policy: Policy, pasts: list) -> None:
    policy = policy.validate() if not policy.errors() else DEFAULT_POLICY
    result = replay.replay(policy, pasts)
    assert result.failures == len(pasts) == sum(c.failures for c in result.classes)
    for row in result.classes:
        assert row.recovered + row.lost + row.still_open + row.abandoned == row.failures
        assert sum(row.no_retry.values()) <= row.failures
        assert row.draft_on_payday <= row.draft_retries
        assert row.draft_in_working_hours <= row.draft_retries
        assert len(row.examples) <= replay.EXAMPLES_PER_CLASS
    total = result.replayed
    if total is not None:
        assert total.failures == len(pasts)
        assert total.draft_retries == sum(c.draft_retries for c in result.classes)


# -- examples ----------------------------------------------------------------------------------


def test_insufficient_funds_follows_its_cadence_at_ten_on_weekdays() -> None:
    done = replay_one(DEFAULT_POLICY, failure(tz="Europe/Paris", card_brand="visa"))
    assert done.cls is DeclineClass.SCHEDULED and done.code == "insufficient_funds"
    local = [r.at.astimezone(dt.timezone(dt.timedelta(hours=2))) for r in done.retries]
    assert all(t.hour == 10 and t.minute == 0 and t.weekday() < 5 for t in local)
    assert done.on_payday == (False, True, False)  # 1d, payday, 7d (14d: past the window)
    assert local[0].date() == dt.date(2026, 6, 3)  # 1 day after 11:00 is past 10:00
    assert local[1].date() == dt.date(2026, 6, 15)  # no payday seen: the 15th
    assert all(in_working_hours(r.at, "Europe/Paris") for r in done.retries)


def test_the_customers_own_payday_is_used_when_seen_twice_before_the_failure() -> None:
    paid = (dt.datetime(2026, 4, 9, 12, tzinfo=UTC), dt.datetime(2026, 5, 9, 12, tzinfo=UTC))
    later = (dt.datetime(2026, 6, 3, tzinfo=UTC), dt.datetime(2026, 6, 20, tzinfo=UTC))
    done = replay_one(DEFAULT_POLICY, failure(payday_history=paid + later))
    assert done.retries[1].at.date() == dt.date(2026, 6, 9)


def test_temporary_errors_get_quick_retries_then_the_default_cadence() -> None:
    done = replay_one(DEFAULT_POLICY, failure("processing_error"))
    assert done.cls is DeclineClass.IMMEDIATE
    gaps = [r.at - MONDAY for r in done.retries[:3]]  # each from the previous attempt
    assert gaps == [dt.timedelta(minutes=10), dt.timedelta(minutes=70), dt.timedelta(minutes=310)]
    assert len(done.retries) == DEFAULT_POLICY.max_auto_retries
    assert not done.retries[0].landed and done.retries[3].landed


def test_a_draft_override_moves_a_code_to_another_class() -> None:
    draft = Policy(overrides={"do_not_honor": DeclineClass.CUSTOMER_ACTION})
    done = replay_one(draft, failure("do_not_honor"))
    assert done.cls is DeclineClass.CUSTOMER_ACTION and not done.retries
    assert done.no_retry == "customer_action"


def test_a_visa_category_one_decline_blocks_the_card() -> None:
    done = replay_one(DEFAULT_POLICY, failure("transaction_not_allowed", card_brand="visa"))
    assert done.cls is DeclineClass.SCHEDULED and not done.retries
    assert done.no_retry == replay.CARD_BLOCKED
    assert replay_one(DEFAULT_POLICY, failure("transaction_not_allowed", card_brand="amex")).retries


def test_a_lowered_invoice_cap_drops_the_retries_it_refuses() -> None:
    draft = Policy(max_attempts_per_invoice_30d=2)
    done = replay_one(draft, failure())
    assert len(done.retries) == 1 and done.capped == 2
    all_refused = replay_one(Policy(max_attempts_per_invoice_30d=1), failure())
    assert all_refused.retries == () and all_refused.no_retry == replay.CAPPED
    assert count_within([], MONDAY, DAY) == 0


def test_no_automatic_retries_at_all() -> None:
    done = replay_one(Policy(max_auto_retries=0), failure())
    assert done.retries == () and done.no_retry is None and done.capped == 0


def test_imported_failures_are_not_replayed_for_want_of_a_code() -> None:
    past = PastFailure("in_old", MONDAY, RECOVERED, source=IMPORTED, retries_made=2)
    done = replay_one(DEFAULT_POLICY, past)
    assert done.cls is None and done.retries == ()
    result = replay.replay(DEFAULT_POLICY, [past, failure()])
    assert [c.cls for c in result.classes] == [DeclineClass.SCHEDULED, None]
    assert result.imported.actual_retries == 2 and result.imported.draft_retries == 0
    assert result.imported.examples == []
    assert result.replayed.failures == 1


def test_the_summary_compares_the_draft_with_what_happened() -> None:
    pasts = [
        failure(
            outcome=RECOVERED,
            retries_at=(MONDAY + 3 * DAY + HOUR, MONDAY + 6 * DAY),  # Thu 10:00, Sun 09:00
            paid_at=MONDAY + 6 * DAY,
            paid_by="retry",
        ),
        failure(
            outcome=RECOVERED,
            retries_at=(MONDAY + 2 * DAY,),
            paid_at=MONDAY + 29 * DAY,
            paid_by="stripe_retry",
        ),
        failure(outcome=LOST, retries_at=()),
        failure("expired_card", outcome=RECOVERED, paid_at=MONDAY + DAY, paid_by="card_update"),
    ]
    result = replay.replay(DEFAULT_POLICY, pasts)
    scheduled, waiting = result.classes
    assert scheduled.cls is DeclineClass.SCHEDULED and scheduled.failures == 3
    # 1d, payday (15 June), 7d; the fourth, 14 days later, falls past the 30-day window.
    assert scheduled.draft_retries == 9 and scheduled.actual_retries == 3
    assert scheduled.draft_median_first_hours == 25.0  # Tuesday 10:00 UTC
    assert scheduled.actual_median_first_hours == pytest.approx((3 * 24 + 1 + 48) / 2)
    assert scheduled.draft_payday_share == pytest.approx(1 / 3)
    assert scheduled.draft_working_share == 1.0
    assert scheduled.actual_working_share == pytest.approx(2 / 3)
    assert scheduled.recovered == 2 and scheduled.lost == 1
    assert scheduled.recovery_rate == pytest.approx(2 / 3)
    assert scheduled.paid_by == {"retry": 1, "stripe_retry": 1}
    # The draft's last retry is on 22 June; Stripe's payment on day 29 came after it.
    assert scheduled.paid_by_retry_after_draft_stopped == 1
    assert waiting.cls is DeclineClass.CUSTOMER_ACTION
    assert waiting.no_retry == {"customer_action": 1} and waiting.draft_retries == 0
    assert waiting.paid_by == {"card_update": 1}
    assert result.replayed.failures == 4 and result.imported is None


def test_examples_are_the_first_failures_given_per_class() -> None:
    pasts = [failure(invoice=f"in_{n}") for n in range(5)]
    row = replay.replay(DEFAULT_POLICY, pasts).classes[0]
    assert [e.failure.invoice for e in row.examples] == ["in_0", "in_1", "in_2"]
    assert replay.replay(DEFAULT_POLICY, []).classes == []


def test_working_hours_are_local_weekdays_nine_to_five() -> None:
    assert in_working_hours(MONDAY, "UTC")
    assert not in_working_hours(MONDAY - HOUR, "UTC")
    assert not in_working_hours(MONDAY + 5 * DAY, "UTC")  # Saturday
    assert in_working_hours(MONDAY + 5 * HOUR, "America/New_York")  # 10:00 there
    assert in_working_hours(MONDAY, "Mars/Olympus")  # unknown zone: UTC
    assert PAYDAY == "payday"
