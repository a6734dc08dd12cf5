"""Is one version saving more customers? Wilson intervals, the two-proportion test and
the verdict in words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.retain import significance as s

counts = st.integers(0, 5000).flatmap(
    lambda total: st.tuples(st.integers(0, total), st.just(total))
)


@given(counts)
def test_the_interval_holds_the_rate_and_stays_in_bounds(pair) -> None:
    saved, total = pair
    low, high = s.wilson(saved, total)
    assert 0 <= low <= high <= 1
    if total:
        assert low <= saved / total <= high


@given(counts, counts)
def test_the_test_is_symmetric_and_a_probability(a, b) -> None:
    p = s.two_proportion_p(*a, *b)
    assert 0 <= p <= 1
    assert p == pytest.approx(s.two_proportion_p(*b, *a))


@given(st.integers(1, 2000), st.integers(0, 2000))
def test_equal_rates_are_never_significant(total, saved_share) -> None:
    saved = min(saved_share, total)
    assert s.two_proportion_p(saved, total, saved, total) == pytest.approx(1.0)


def test_a_known_difference() -> None:
    # 30 % vs 20 % over 500 sessions each: pooled 25 %, z = 3.65, p = 0.00026.
    assert s.two_proportion_p(150, 500, 100, 500) == pytest.approx(0.000261, rel=0.01)


@pytest.mark.parametrize(
    ("a", "b", "text"),
    [
        ((10, 20), (5, 20), "Too early to tell: each version needs 30 ended sessions."),
        ((150, 500), (100, 500), "Version 1 is ahead of Version 2 (significant at 95 %)."),
        ((55, 200), (50, 200), "Version 1 is ahead of Version 2, not yet significant."),
        ((40, 200), (60, 200), "Version 2 is ahead of Version 1 (significant at 95 %)."),
        ((50, 200), (50, 200), "Version 1 and Version 2 save customers at the same rate so far."),
    ],
)
def test_verdicts(a, b, text) -> None:
    assert s.verdict("Version 1", *a, "Version 2", *b).text == text
