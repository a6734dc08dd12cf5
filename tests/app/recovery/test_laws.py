"""The laws of DESIGN §6, for any interleaving of failures, card updates, payments and
clock moves: simulate "plan, then check each planned attempt at its time and record it
when allowed", then look at everything that was charged."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from hypothesis import event, given, settings
from hypothesis import strategies as st

from app.recovery.cadence import (
    PlannedRetry,
    land,
    next_payday,
    plan_retries,
    retry_after_card_change,
)
from app.recovery.caps import Attempt, Decline, check_attempt
from app.recovery.declines import (
    CUSTOMER_ACTION_CODES,
    IMMEDIATE_CODES,
    NO_RECOVERY_CODES,
    SCHEDULED_CODES,
    DeclineClass,
    card_block_reason,
    classify,
    effective_class,
)
from app.recovery.policy import CAMPAIGN_WINDOW, DAY, PAYDAY, Policy

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
TIMEZONES = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kathmandu",
    "America/Sao_Paulo",
    "Pacific/Auckland",
    "America/St_Johns",
    "UTC",
]
CODES = sorted(IMMEDIATE_CODES | SCHEDULED_CODES | CUSTOMER_ACTION_CODES | NO_RECOVERY_CODES)
CODES += ["invalid_account", "transaction_not_allowed", "code_nobody_knows"]
FINGERPRINTS = ["fp_a", "fp_b", "fp_c", "fp_d"]

moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(UTC)
)
declines = st.tuples(
    st.sampled_from(CODES),
    st.sampled_from([None, None, None, "do_not_try_again", "try_again_later", "confirm_card_data"]),
    st.sampled_from([None, None, None, "01", "02", "03", "21"]),
)
steps = st.one_of(
    st.just(PAYDAY), st.integers(1, 30 * 24).map(lambda hours: dt.timedelta(hours=hours))
)
policies = st.builds(
    Policy,
    cadences=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["insufficient_funds", "do_not_honor", "generic_decline"]),
            st.lists(steps, min_size=1, max_size=4).map(tuple),
            max_size=3,
        ).flatmap(
            lambda extra: st.lists(steps, min_size=1, max_size=4).map(
                lambda default: {**extra, "default": tuple(default)}
            )
        ),
    ).map(lambda cadences: cadences or Policy().cadences),
    immediate_offsets=st.one_of(
        st.just((dt.timedelta(minutes=10), HOUR, 4 * HOUR)),
        st.lists(st.integers(1, 24 * 60), max_size=4).map(
            lambda minutes: tuple(dt.timedelta(minutes=m) for m in minutes)
        ),
    ),
    overrides=st.dictionaries(st.sampled_from(CODES), st.sampled_from(list(DeclineClass))),
    max_attempts_per_invoice_30d=st.integers(1, 6),
    max_auto_retries=st.integers(0, 4),
    visa_max_30d=st.sampled_from([15, 15, 3, 1]),
    mastercard_max_24h=st.sampled_from([10, 10, 2, 1]),
    mastercard_max_30d=st.sampled_from([35, 35, 5, 1]),
)
gaps = st.one_of(
    st.integers(0, 90).map(lambda m: dt.timedelta(minutes=m)),
    st.integers(0, 20 * 24).map(lambda h: dt.timedelta(hours=h)),
)
events = st.lists(
    st.tuples(
        gaps,
        st.sampled_from(
            ["fail"] * 4 + ["burst"] * 3 + ["card_update"] * 2 + ["paid", "void", "cancel", "clock"]
        ),
        st.integers(0, 3),
        declines,
        st.sampled_from(FINGERPRINTS),
        # a burst: retries someone else planned (staff "retry now", a buggy planner)
        st.tuples(st.lists(st.integers(0, 600), min_size=1, max_size=8), st.booleans()),
    ),
    max_size=30,
)


@dataclass
class Invoice:
    fingerprint: str
    past_unrecovered: int
    status: str = "open"
    subscription: str = "past_due"
    opened_at: dt.datetime | None = None
    auto_retries: int = 0
    last_failure_at: dt.datetime | None = None
    last_decline: Decline | None = None
    plan: list[PlannedRetry] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True)
class Charge:
    """One attempt in the order it happened; ``ours`` when our check allowed it."""

    seq: int
    invoice: int
    fingerprint: str
    at: dt.datetime
    ours: bool
    automatic: bool
    decline: Decline | None


@dataclass
class World:
    policy: Policy
    tz: str
    brands: dict[str, str]
    payday_history: list[dt.datetime]
    invoices: list[Invoice]
    outcomes: list[tuple | None]
    charges: list[Charge] = field(default_factory=list)
    closed_seq: dict[int, int] = field(default_factory=dict)
    card_history: dict[str, list[Attempt]] = field(default_factory=lambda: defaultdict(list))

    def record(self, index: int, at: dt.datetime, decline: Decline | None, *, ours, automatic):
        invoice = self.invoices[index]
        attempt = Attempt(at, decline)
        invoice.attempts.append(attempt)
        self.card_history[invoice.fingerprint].append(attempt)
        self.charges.append(
            Charge(len(self.charges), index, invoice.fingerprint, at, ours, automatic, decline)
        )

    def close(self, index: int) -> None:
        self.closed_seq.setdefault(index, len(self.charges))

    def failed(self, index: int, at: dt.datetime, decline: Decline) -> None:
        invoice = self.invoices[index]
        invoice.last_decline, invoice.last_failure_at = decline, at
        invoice.opened_at = invoice.opened_at or at
        code = decline.decline_code
        cls = classify(
            code, None, decline.advice_code, decline.network_advice_code, self.policy.overrides
        )
        cls = effective_class(cls, code, {code: invoice.past_unrecovered})
        plan = plan_retries(
            at,
            cls,
            code,
            tz=self.tz,
            attempts_so_far=invoice.auto_retries,
            payday_history=self.payday_history,
            policy=self.policy,
            now=at,
            window_ends_at=invoice.opened_at + CAMPAIGN_WINDOW,
        )
        assert_plan_law(plan, at, self.tz, cls)
        invoice.plan = [r for r in invoice.plan if not r.automatic] + plan

    def run_due(self, until: dt.datetime) -> None:
        while True:
            due = [(r.at, i, r) for i, inv in enumerate(self.invoices) for r in inv.plan]
            due = [item for item in due if item[0] <= until]
            if not due:
                return
            at, index, retry = min(due, key=lambda item: (item[0], item[1]))
            invoice = self.invoices[index]
            invoice.plan.remove(retry)
            allowed = check_attempt(
                at,
                invoice_attempts=invoice.attempts,
                campaign_auto_retries=invoice.auto_retries,
                card_history=self.card_history[invoice.fingerprint],
                brand=self.brands[invoice.fingerprint],
                last_decline=invoice.last_decline,
                invoice_status=invoice.status,
                subscription_status=invoice.subscription,
                fingerprint=invoice.fingerprint,
                automatic=retry.automatic,
                policy=self.policy,
            )
            if not allowed:
                event(f"refused: {allowed.code}")
                continue
            event("charged automatic" if retry.automatic else "charged after card change")
            outcome = self.outcomes.pop(0) if self.outcomes else ("generic_decline", None, None)
            decline = (
                None
                if outcome is None
                else Decline(*outcome[:1], None, *outcome[1:], fingerprint=invoice.fingerprint)
            )
            self.record(index, at, decline, ours=True, automatic=retry.automatic)
            if retry.automatic:
                invoice.auto_retries += 1
            if decline is None:
                invoice.status = "paid"
                self.close(index)
            else:
                self.failed(index, at, decline)

    def apply(self, now, kind, index, decline_codes, fingerprint, burst) -> None:
        invoice = self.invoices[index]
        if kind == "fail":  # Stripe's own attempt (the renewal, or its retry)
            decline = Decline(
                decline_codes[0], None, *decline_codes[1:], fingerprint=invoice.fingerprint
            )
            self.record(index, now, decline, ours=False, automatic=False)
            self.failed(index, now, decline)
        elif kind == "card_update":
            invoice.fingerprint = fingerprint
            retry = retry_after_card_change(
                now, last_failure_at=invoice.last_failure_at, tz=self.tz, now=now
            )
            if retry is not None:
                assert retry.at > now
                assert_lands(retry, self.tz)
                invoice.plan.append(retry)
        elif kind == "burst":
            minutes, automatic = burst
            invoice.plan.extend(
                PlannedRetry(now + dt.timedelta(minutes=m), "burst", automatic, landed=False)
                for m in minutes
            )
        elif kind in {"paid", "void"}:
            invoice.status = kind
            self.close(index)
        elif kind == "cancel":
            invoice.subscription = "canceled"
            self.close(index)


def assert_lands(retry: PlannedRetry, tz: str) -> None:
    local = retry.at.astimezone(ZoneInfo(tz))
    assert (local.hour, local.minute, local.second) == (10, 0, 0), retry
    assert local.weekday() < 5, retry


def assert_plan_law(plan, failure_at, tz, cls) -> None:
    if cls in (DeclineClass.CUSTOMER_ACTION, DeclineClass.NO_RECOVERY):
        assert plan == []
    previous = failure_at
    for retry in plan:
        assert retry.at > previous, plan  # strictly after the failure, and in order
        assert retry.automatic
        if retry.landed:
            assert_lands(retry, tz)
        else:
            assert cls is DeclineClass.IMMEDIATE
        previous = retry.at


def within(charges, charge, span):
    return [c for c in charges if charge.at - span < c.at <= charge.at and c.seq <= charge.seq]


@settings(max_examples=250, deadline=None)
@given(
    policy=policies,
    tz=st.sampled_from(TIMEZONES),
    start=moments,
    brands=st.fixed_dictionaries(
        {fp: st.sampled_from(["visa", "mastercard", "amex"]) for fp in FINGERPRINTS}
    ),
    invoice_cards=st.lists(
        st.tuples(st.sampled_from(FINGERPRINTS), st.integers(0, 4)), min_size=1, max_size=4
    ),
    payday_history=st.lists(moments, max_size=4),
    outcomes=st.lists(st.one_of(st.none(), declines, declines, declines), max_size=20),
    script=events,
)
def test_no_interleaving_breaks_a_cap(
    policy, tz, start, brands, invoice_cards, payday_history, outcomes, script
):
    world = World(
        policy=policy,
        tz=tz,
        brands=brands,
        payday_history=payday_history,
        invoices=[Invoice(fp, past) for fp, past in invoice_cards],
        outcomes=list(outcomes),
    )
    now = start
    for gap, kind, index, decline_codes, fingerprint, burst in script:
        now += gap
        world.run_due(now)
        world.apply(now, kind, index % len(world.invoices), decline_codes, fingerprint, burst)
    world.run_due(now + 90 * DAY)  # let every plan play out

    charges = world.charges
    ours = [c for c in charges if c.ours]
    for charge in ours:
        on_invoice = [c for c in charges if c.invoice == charge.invoice]
        assert len(within(on_invoice, charge, 30 * DAY)) <= policy.max_attempts_per_invoice_30d
        on_card = [c for c in charges if c.fingerprint == charge.fingerprint]
        brand = brands[charge.fingerprint]
        if brand == "visa":
            assert len(within(on_card, charge, 30 * DAY)) <= policy.visa_max_30d
        if brand == "mastercard":
            assert len(within(on_card, charge, DAY)) <= policy.mastercard_max_24h
            assert len(within(on_card, charge, 30 * DAY)) <= policy.mastercard_max_30d
        # never again on a card after a no_recovery, category-1 or do-not-try-again decline
        for earlier in on_card:
            if earlier.seq < charge.seq and earlier.decline is not None:
                d = earlier.decline
                assert (
                    card_block_reason(
                        brand, d.decline_code, None, d.advice_code, d.network_advice_code
                    )
                    is None
                ), (earlier, charge)
                assert d.cls is not DeclineClass.NO_RECOVERY
        # nothing after paid, void or canceled
        assert charge.seq < world.closed_seq.get(charge.invoice, len(charges) + 1)
    for index in range(len(world.invoices)):
        automatic = [c for c in ours if c.invoice == index and c.automatic]
        assert len(automatic) <= policy.max_auto_retries


@settings(max_examples=300, deadline=None)
@given(
    failure_at=moments,
    late=st.sampled_from([dt.timedelta(0), dt.timedelta(minutes=5), 2 * DAY, 20 * DAY]),
    tz=st.sampled_from(TIMEZONES),
    code=st.sampled_from(CODES),
    cls=st.sampled_from(list(DeclineClass)),
    attempts_so_far=st.integers(0, 5),
    payday_history=st.lists(moments, max_size=6),
    window=st.one_of(st.none(), st.integers(1, 40).map(lambda d: d * DAY)),
)
def test_every_planned_retry_lands_after_the_failure(
    failure_at, late, tz, code, cls, attempts_so_far, payday_history, window
):
    now = failure_at + late
    window_ends_at = None if window is None else failure_at + window
    plan = plan_retries(
        failure_at,
        cls,
        code,
        tz=tz,
        attempts_so_far=attempts_so_far,
        payday_history=payday_history,
        now=now,
        window_ends_at=window_ends_at,
    )
    assert_plan_law(plan, failure_at, tz, cls)
    assert len(plan) <= max(4 - attempts_so_far, 0)
    for retry in plan:
        assert retry.at >= now
        assert retry.at.tzinfo is UTC
        assert retry.reason
        if window_ends_at is not None:
            assert retry.at < window_ends_at


@settings(max_examples=300, deadline=None)
@given(earliest=moments, tz=st.sampled_from(TIMEZONES))
def test_land_is_the_first_weekday_10_oclock(earliest, tz):
    at, _ = land(earliest, tz)
    assert at >= earliest
    retry = PlannedRetry(at, "")
    assert_lands(retry, tz)
    zone = ZoneInfo(tz)
    day = earliest.astimezone(zone).date()
    while day < at.astimezone(zone).date():  # no earlier weekday 10:00 was free
        candidate = dt.datetime.combine(day, dt.time(10), tzinfo=zone)
        assert day.weekday() >= 5 or candidate < earliest
        day += DAY


@settings(max_examples=300)
@given(
    after=st.dates(dt.date(2026, 1, 1), dt.date(2030, 12, 31)), own=st.none() | st.integers(1, 31)
)
def test_next_payday_is_the_first_one_after(after, own):
    payday = next_payday(after, own)
    assert after < payday <= after + dt.timedelta(days=31)
    if own is None:
        assert payday.day in (1, 15)
    else:
        last = ((payday.replace(day=28) + 4 * DAY).replace(day=1) - DAY).day
        assert payday.day == min(own, last)
