"""The pure rules: classification from the four signals, the rate thresholds, and the
evidence fields' limits."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from app.disputes import evidence, policy
from app.disputes.policy import CancelAttempt, Cause, Contact, Signals, Timing, Usage

REASONS = st.sampled_from(
    ["fraudulent", "unrecognized", "subscription_canceled", "product_not_received",
     "product_unacceptable", "duplicate", "credit_not_processed", "general"]
)  # fmt: skip
SIGNALS = st.builds(
    Signals,
    usage=st.sampled_from(Usage),
    cancel_attempt=st.sampled_from(CancelAttempt),
    support_contact=st.sampled_from(Contact),
    timing=st.sampled_from(Timing),
    reason=REASONS,
)


@given(SIGNALS)
def test_every_dispute_gets_one_cause_and_its_action(s) -> None:
    verdict = policy.classify(s)
    assert verdict.cause in Cause
    assert (verdict.action, verdict.advice) == policy.ADVICE[verdict.cause]
    assert verdict.why


@given(SIGNALS)
def test_a_support_contact_is_always_a_product_issue(s) -> None:
    contacted = Signals(s.usage, s.cancel_attempt, Contact.YES, s.timing, s.reason)
    assert policy.classify(contacted).cause is Cause.PRODUCT_ISSUE


@given(SIGNALS)
def test_usage_without_contact_or_complaint_is_friendly_fraud(s) -> None:
    used = Signals(Usage.USED, CancelAttempt.NONE, Contact.NO, s.timing, "fraudulent")
    assert policy.classify(used).cause is Cause.FRIENDLY_FRAUD


def test_the_four_causes_from_their_typical_signals() -> None:
    cases = {
        Signals(Usage.UNUSED, CancelAttempt.NONE, Contact.UNKNOWN, Timing.FIRST_CHARGE,
                "fraudulent"): Cause.TRUE_FRAUD,
        Signals(Usage.UNUSED, CancelAttempt.NONE, Contact.UNKNOWN, Timing.RENEWAL,
                "subscription_canceled"): Cause.FORGOTTEN_SUBSCRIPTION,
        Signals(Usage.UNKNOWN, CancelAttempt.STAYED, Contact.NO, Timing.OTHER,
                "general"): Cause.FORGOTTEN_SUBSCRIPTION,
        Signals(Usage.UNUSED, CancelAttempt.NONE, Contact.NO, Timing.RENEWAL,
                "product_unacceptable"): Cause.PRODUCT_ISSUE,
        Signals(Usage.UNUSED, CancelAttempt.CANCELLED, Contact.NO, Timing.RENEWAL,
                "subscription_canceled"): Cause.PRODUCT_ISSUE,
        Signals(Usage.USED, CancelAttempt.NONE, Contact.UNKNOWN, Timing.RENEWAL,
                "unrecognized"): Cause.FRIENDLY_FRAUD,
    }  # fmt: skip
    for signals, cause in cases.items():
        assert policy.classify(signals).cause is cause, signals


@given(
    st.integers(0, 10_000),
    st.integers(0, 1_000_000),
    st.sampled_from(["visa", "mastercard", "amex"]),
)
def test_thresholds_are_exact_and_per_network(disputes, settled, network) -> None:
    crossed = {t.level for t in policy.crossed(network, disputes, settled)}
    if settled == 0 or disputes == 0:
        assert not crossed
        return
    assert ("warn" in crossed) == (disputes * 10_000 >= 65 * settled)
    assert ("visa_vdmp" in crossed) == (network == "visa" and disputes * 10_000 >= 90 * settled)
    assert ("mastercard_ecp" in crossed) == (
        network == "mastercard" and disputes * 10_000 >= 100 * settled
    )


def test_threshold_edges_and_rate_text() -> None:
    assert [t.level for t in policy.crossed("visa", 65, 10_000)] == ["warn"]
    assert policy.crossed("visa", 64, 10_000) == ()
    assert [t.level for t in policy.crossed("visa", 9, 1_000)] == ["warn", "visa_vdmp"]
    assert [t.level for t in policy.crossed("mastercard", 9, 1_000)] == ["warn"]
    assert [t.level for t in policy.crossed("mastercard", 1, 100)] == ["warn", "mastercard_ecp"]
    assert policy.rate_text(1, 3) == "33.33 %" and policy.rate_text(0, 0) == "—"


T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _facts(n: int) -> evidence.Facts:
    at = [T0 + dt.timedelta(hours=i) for i in range(n)]
    return evidence.Facts(
        merchant="Shop",
        customer_name="Ada",
        customer_email="ada@example.com",
        reason="fraudulent",
        amount_minor=2900,
        currency="usd",
        charged_at=T0,
        period_start=T0,
        period_end=T0 + dt.timedelta(days=30),
        product="Studio",
        cancellation_policy_url="https://s.example/c",
        emails=tuple(
            evidence.Email(a, f"Reminder {i} " + "x" * 80, "ada@example.com", a)
            for i, a in enumerate(at)
        ),
        visits=tuple(evidence.Visit(a, "opened the customer portal") for a in at),
        attempts=tuple(evidence.Attempt(a, False, "Backstop", "insufficient_funds") for a in at),
        cancel_visits=tuple(evidence.CancelVisit(a, "abandoned") for a in at),
        bills=tuple(evidence.Bill(a, 2900, "usd", "paid", f"N-{i}") for i, a in enumerate(at)),
    )


@settings(deadline=None, max_examples=25)  # builds up to 3,000 records per example
@given(st.integers(0, 3000))
def test_fields_stay_within_stripes_limits(n) -> None:
    fields = evidence.assemble(_facts(n))
    assert all(len(v) <= evidence.FIELD_LIMIT for v in fields.values())
    assert sum(map(len, fields.values())) <= evidence.TOTAL_LIMIT
    assert set(fields) <= set(evidence.TEXT_FIELDS)
    if n > 500:
        assert "earlier entries, in the attached PDF" in fields["uncategorized_text"]
        assert f"Reminder {n - 1} " in fields["uncategorized_text"]  # the newest is kept
