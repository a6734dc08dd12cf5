"""The catch-up laws: of the steps of one campaign due at once exactly the newest runs,
and messages let through by the gap rule are never closer together than the gap."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from app.schedule.catchup import DEFAULT_GAP, Due, held_until, superseded_by

T0 = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)

due_sets = st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=12).map(
    lambda days: [Due(i, (day, i), f"touch d{day}") for i, day in enumerate(days)]
)


@given(due_sets)
def test_exactly_the_newest_of_the_steps_due_together_runs(due: list[Due]) -> None:
    runs = [step for step in due if superseded_by(step, due) is None]
    assert runs == [max(due, key=lambda d: d.rank)]


@given(due_sets)
def test_a_skipped_step_names_the_newest_one_due(due: list[Due]) -> None:
    newest = max(due, key=lambda d: d.rank)
    for step in due:
        if step is not newest:
            assert superseded_by(step, due) == newest


def test_a_step_alone_runs_and_an_older_sibling_does_not_stop_it() -> None:
    d3 = Due(2, (3, 2), "second reminder email")
    d0 = Due(1, (0, 1), "first reminder email")
    assert superseded_by(d3, []) is None
    assert superseded_by(d3, [d0, d3]) is None
    assert superseded_by(d0, [d0, d3]) == d3


@given(
    st.lists(st.integers(min_value=0, max_value=30 * 24 * 60), min_size=1, max_size=20),
    st.integers(min_value=1, max_value=72),
)
def test_messages_let_through_keep_the_gap(minutes: list[int], gap_hours: int) -> None:
    """Send each due message when the rule allows (held ones wait until ``until``): any
    two that went out are at least the gap apart, and every message goes out."""
    gap = dt.timedelta(hours=gap_hours)
    last: dt.datetime | None = None
    sent: list[dt.datetime] = []
    for at in sorted(T0 + dt.timedelta(minutes=m) for m in minutes):
        moment = max(at, sent[-1]) if sent else at
        until = held_until(last, moment, gap)
        moment = until or moment
        assert held_until(last, moment, gap) is None
        sent.append(moment)
        last = moment
    assert all(b - a >= gap for a, b in itertools.pairwise(sent))
    assert len(sent) == len(minutes)


def test_the_gap_is_a_day_by_default_and_measured_from_the_last_send() -> None:
    assert dt.timedelta(hours=24) == DEFAULT_GAP
    assert held_until(None, T0) is None
    assert held_until(T0, T0 + dt.timedelta(hours=2)) == T0 + dt.timedelta(hours=24)
    assert held_until(T0, T0 + dt.timedelta(hours=24)) is None
    assert held_until(T0, T0 + dt.timedelta(hours=1), dt.timedelta(0)) is None
