"""The holdout's statistics against textbook values: Newcombe's interval for a
difference of proportions, the two-proportion sample size at 80 % power, and how many
more failed payments a split needs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.insights import holdout as h


def test_newcombe_matches_his_1998_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, method 10: 56/70 - 48/80.
    d = h.newcombe(56, 70, 48, 80)
    assert d.diff == pytest.approx(0.2)
    assert (round(d.low, 4), round(d.high, 4)) == (0.0524, 0.3339)
    assert d.is_significant


def test_newcombe_second_example() -> None:
    # Newcombe (1998), table II, example (b): 9/10 - 3/10 -> 0.1705 to 0.8090.
    d = h.newcombe(9, 10, 3, 10)
    assert (round(d.low, 4), round(d.high, 4)) == (0.1705, 0.8090)


def test_an_interval_across_zero_is_not_significant() -> None:
    d = h.newcombe(6, 10, 5, 10)
    assert d.low < 0 < d.high and not d.is_significant


@given(
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_the_interval_holds_the_difference_and_stays_within_bounds(a, b) -> None:
    d = h.newcombe(*a, *b)
    assert -1 <= d.low <= d.diff <= d.high <= 1


def test_the_sample_size_of_the_textbook_example() -> None:
    # 60 % against 40 %, equal groups, 5 % two-sided, 80 % power: 97 per group.
    assert h.sample_size(0.6, 0.4, 1.0) == (97, 97)
    # 65 % against 85 %: 72.4, so 73 per group (Fleiss, no continuity correction).
    assert h.sample_size(0.65, 0.85, 1.0) == (73, 73)


def test_an_unequal_split_needs_more_in_all() -> None:
    equal = sum(h.sample_size(0.6, 0.4, 1.0))
    n1, n2 = h.sample_size(0.6, 0.4, 0.1 / 0.9)
    assert n2 == math.ceil(n1 / 9) or n2 == math.ceil(n1 * (0.1 / 0.9))
    assert n1 + n2 > equal


def test_equal_rates_have_no_sample_size() -> None:
    assert h.sample_size(0.5, 0.5, 1.0) is None
    assert h.more_needed((5, 10), (5, 10), 0.1) is None


def test_more_needed_fills_the_arm_that_is_short() -> None:
    # 60 % vs 40 % at 50 %: 97 each, 40 ended in each arm: 57 more each, 114 in all.
    assert h.more_needed((24, 40), (16, 40), 0.5) == 114
    # Already enough in both arms.
    assert h.more_needed((60, 100), (40, 100), 0.5) == 0
    # At 10 % held out the holdout is the slow arm: its shortfall over 10 %.
    n1, n2 = h.sample_size(0.6, 0.4, 0.1 / 0.9)
    assert h.more_needed((60, 100), (4, 10), 0.1) == math.ceil(
        max((n1 - 100) / 0.9, (n2 - 10) / 0.1)
    )


def test_more_needed_cannot_be_told_without_a_holdout_now_or_an_arm() -> None:
    assert h.more_needed((6, 10), (4, 10), 0.0) is None
    assert h.more_needed((6, 10), (0, 0), 0.1) is None


def test_measure_says_significant_or_how_far() -> None:
    done = h.measure((56, 70), (48, 80), 0.1)
    assert done.difference.is_significant and done.more_needed is None
    early = h.measure((6, 10), (1, 3), 0.1)
    assert not early.difference.is_significant and early.more_needed > 0
    assert early.treated_rate == 0.6 and early.holdout_rate == pytest.approx(1 / 3)
    empty = h.measure((6, 10), (0, 0), 0.1)
    assert empty.difference is None and empty.holdout_rate is None
