"""The recover loop from end to end: 50 customers whose renewals fail across every
decline class, a month on the sandbox's test clock, and Backstop running for real
(gunicorn receiving Stripe's webhooks, a Celery worker, a beat).

The clock moves to each moment something is due (never past it), so every retry runs
when it was planned; what the test checks comes from the sandbox's own records of the
charges, not from Backstop's word.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from .merchant import RENEWAL_CHARGED, Merchant
from .stack import running_stack

END = RENEWAL_CHARGED + dt.timedelta(days=30, hours=2)  # every window has closed
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", None]
WORKSPACE_TZ = "Europe/London"


@dataclass(frozen=True)
class Case:
    card: str
    cls: str
    recovers_after: int | None = None  # our retries that decline before one succeeds

    @property
    def brand(self) -> str:
        return "mastercard" if "_mastercard_" in self.card else "visa"


def _cases() -> list[Case]:
    cases = []
    for code in (
        "insufficient_funds",
        "do_not_honor",
        "generic_decline",
        "try_again_later",
        "card_velocity_exceeded",
        "withdrawal_count_limit_exceeded",
    ):
        cases += [
            Case(f"pm_card_sandbox_{code}", "scheduled"),
            Case(f"pm_card_sandbox_mastercard_{code}", "scheduled"),
            Case(f"pm_card_sandbox_{code}_recover1", "scheduled", 0),
            Case(f"pm_card_sandbox_{code}_recover2", "scheduled", 1),
            # card_velocity_exceeded gets two retries (+1d, +2d): it cannot last three.
            Case(f"pm_card_sandbox_mastercard_{code}_recover3", "scheduled", 2)
            if code != "card_velocity_exceeded"
            else Case(f"pm_card_sandbox_mastercard_{code}_recover2", "scheduled", 1),
        ]
    for code in ("processing_error", "issuer_not_available"):
        cases += [
            Case(f"pm_card_sandbox_{code}", "immediate"),
            Case(f"pm_card_sandbox_mastercard_{code}", "immediate"),
            Case(f"pm_card_sandbox_{code}_recover1", "immediate", 0),
            Case(f"pm_card_sandbox_{code}_recover3", "immediate", 2),
        ]
    for code in ("expired_card", "incorrect_cvc", "authentication_required", "card_not_supported"):
        cases.append(Case(f"pm_card_sandbox_{code}", "customer_action"))
    cases.append(Case("pm_card_sandbox_mastercard_expired_card", "customer_action"))
    cases.append(Case("pm_card_sandbox_mastercard_incorrect_cvc", "customer_action"))
    for code in ("stolen_card", "lost_card", "fraudulent", "pickup_card", "restricted_card"):
        cases.append(Case(f"pm_card_sandbox_{code}", "no_recovery"))
    cases.append(Case("pm_card_sandbox_mastercard_lost_card", "no_recovery"))
    return cases


CASES = _cases()


@pytest.fixture
def recovery_stack(tmp_path, sandbox_url, database_url, broker_url):
    # The beat sweeps every second: each move of the clock waits for the next sweep.
    with running_stack(
        tmp_path, sandbox_url, database_url, broker_url, beats=1, BACKSTOP_SWEEP_SECONDS="1"
    ) as stack:
        yield stack


def test_a_month_of_failed_renewals_recovered_under_the_caps(
    recovery_stack, db_view, sandbox_url: str
) -> None:
    from app.recovery.models import Campaign

    assert len(CASES) >= 50
    stack, db = recovery_stack, db_view
    merchant = Merchant(db, sandbox_url, stack.platform_key, timezone=WORKSPACE_TZ, currency="eur")
    workspace_id, stripe = merchant.workspace_id, merchant.stripe
    subscriptions: dict[str, tuple[Case, str]] = {}  # subscription id -> (case, timezone)
    for case, zone in zip(CASES, itertools.cycle(ZONES), strict=False):
        subscriptions[merchant.subscribe(case.card, tz=zone)] = (case, zone or WORKSPACE_TZ)

    merchant.settle(stack)
    moves = 0
    while merchant.now < END:
        # The next moment anything happens: the renewals are charged, a step is due.
        due = merchant.next_due()
        renewal = RENEWAL_CHARGED if merchant.now < RENEWAL_CHARGED else None
        merchant.advance(min(t for t in (due, renewal, END) if t is not None))
        moves += 1
        merchant.settle(stack)

    db.session.remove()
    campaigns = {
        c.subscription_stripe_id: c
        for c in db.session.execute(
            select(Campaign).where(Campaign.workspace_id == workspace_id)
        ).scalars()
    }
    assert set(campaigns) == set(subscriptions), "one campaign per failed renewal"

    # The sandbox's own records: every charge on each renewal invoice, and per card.
    per_card: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    outcomes: Counter[tuple[str, str, str | None]] = Counter()
    for sub_id, (case, zone) in subscriptions.items():
        campaign = campaigns[sub_id]
        invoice = stripe.v1.invoices.retrieve(campaign.invoice_stripe_id)
        charges = sorted(
            stripe.v1.charges.list(
                params={"customer": invoice.customer, "limit": 100}
            ).auto_paging_iter(),
            key=lambda ch: ch.created,
        )
        charges = [ch for ch in charges if ch.created >= int(RENEWAL_CHARGED.timestamp())]
        times = [dt.datetime.fromtimestamp(ch.created, dt.UTC) for ch in charges]
        for ch, at in zip(charges, times, strict=True):
            per_card[ch.payment_method_details.card.fingerprint].append((at, case.brand))
        ours = times[1:]  # the first is Stripe's renewal attempt (its retries are off)
        label = f"{case.card} ({zone})"
        outcomes[(case.cls, campaign.state, campaign.attribution)] += 1

        assert campaign.decline_class == case.cls, label
        assert times[0] == RENEWAL_CHARGED, label
        assert len(charges) <= 6, f"{label}: {len(charges)} attempts on one invoice"
        assert campaign.state in ("recovered", "lost"), label
        if case.cls in ("customer_action", "no_recovery"):
            assert ours == [], f"{label}: a card that must not be retried was charged"
            assert campaign.state == "lost", label
            continue
        assert 1 <= len(ours) <= 4, f"{label}: {len(ours)} automatic retries"
        if case.recovers_after is not None:
            assert len(ours) == case.recovers_after + 1, label
            assert campaign.state == "recovered" and campaign.attribution == "retry", label
            assert invoice.status == "paid", label
        else:
            assert campaign.state == "lost" and invoice.status == "open", label
        gaps = [b - a for a, b in itertools.pairwise(times)]
        landed = ours
        if case.cls == "immediate":
            quick = [dt.timedelta(minutes=10), dt.timedelta(hours=1), dt.timedelta(hours=4)]
            assert gaps[:3] == quick[: len(gaps[:3])], label
            landed = ours[3:]
        else:
            assert all(gap >= dt.timedelta(days=1) for gap in gaps), f"{label}: {gaps}"
        for at in landed:
            local = at.astimezone(ZoneInfo(zone))
            assert (local.hour, local.minute, local.weekday() < 5) == (10, 0, True), (
                f"{label}: retried at {local:%a %H:%M} local"
            )

    # Card-network rules per card fingerprint, from the sandbox's charges.
    for attempts in per_card.values():
        stamps = sorted(at for at, _ in attempts)
        brand = attempts[0][1]
        for i, at in enumerate(stamps):
            within_30d = [s for s in stamps[: i + 1] if at - s < dt.timedelta(days=30)]
            within_24h = [s for s in within_30d if at - s < dt.timedelta(hours=24)]
            assert len(within_30d) <= (15 if brand == "visa" else 35)
            if brand == "mastercard":
                assert len(within_24h) <= 10

    print(f"\nclock moves: {moves}; outcomes: {dict(outcomes)}")
    recovered = sum(n for (_, state, _), n in outcomes.items() if state == "recovered")
    assert recovered == sum(1 for c in CASES if c.recovers_after is not None)
