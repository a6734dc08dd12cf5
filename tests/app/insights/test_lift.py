"""The counterfactual and the return, as rules: the baseline's rate applied to a
period's failures of one currency, a period's share of a monthly cost, and the monthly
cost as the merchant types it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.insights import lift


def test_the_baseline_rate_applied_to_the_period() -> None:
    found = lift.lift("usd", recovered=(2, 2000), failed=(3, 3000), baseline=(10, 4))
    assert found is not None and found.rate == 0.4
    assert (found.expected_minor, found.lift_minor) == (1200, 800)
    assert found.expected_count == pytest.approx(1.2) and found.lift_count == pytest.approx(0.8)
    assert lift.lift("usd", recovered=(1, 1), failed=(1, 1), baseline=(0, 0)) is None


@given(
    st.integers(0, 10**4),
    st.integers(0, 10**9),
    st.integers(1, 10**4),
    st.integers(0, 10**4),
)
def test_never_more_expected_than_failed(failed_count, failed_minor, base_failed, base_won) -> None:
    found = lift.lift(
        "eur",
        recovered=(0, 0),
        failed=(failed_count, failed_minor),
        baseline=(base_failed, base_won),
    )
    assert found is not None and 0 <= found.rate <= 1
    assert 0 <= found.expected_minor <= failed_minor
    assert 0 <= found.expected_count <= failed_count


def test_a_period_costs_its_share_of_the_months() -> None:
    assert lift.period_cost(1000, 365) == 12000
    assert lift.period_cost(1000, 30) == 986
    back = lift.Return("usd", 2000, 4900, 0, 986)
    assert back.value_minor == 6900 and back.ratio == pytest.approx(6900 / 986)
    assert lift.Return("usd", 1, 0, 0, 0).ratio is None


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("49", "USD", (4900, "usd")),
        ("49.5", "usd", (4950, "usd")),
        ("1,200.00", "eur", (120000, "eur")),
        ("5000", "jpy", (5000, "jpy")),
        ("1.234", "kwd", (1234, "kwd")),
        ("", "usd", None),
    ],
)
def test_the_cost_as_typed(amount, currency, expected) -> None:
    assert lift.parse_cost(amount, currency) == expected
    if expected is not None:
        assert lift.parse_cost(lift.cost_text(*expected), expected[1]) == expected


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("abc", "usd"), ("0", "usd"), ("-1", "usd"), ("1.001", "usd"), ("1.5", "jpy"),
     ("NaN", "usd"), ("Infinity", "usd"), ("1e3", "u$d"), ("", "dollars"), ("10", "")],
)  # fmt: skip
def test_a_cost_that_cannot_be_used_is_refused(amount, currency) -> None:
    with pytest.raises(lift.CostRefused):
        lift.parse_cost(amount, currency)
