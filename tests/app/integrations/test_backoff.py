"""The retry schedule is a law: exponential with jitter, capped, inside the window."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.integrations import backoff

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
draws = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@given(failures=st.integers(1, 200), draw=draws)
def test_each_wait_is_the_doubling_scaled_by_jitter_and_capped(failures: int, draw: float) -> None:
    wait = backoff.delay(failures, draw)
    nominal = min(backoff.CAP, backoff.BASE * 2 ** min(failures - 1, 30))
    assert nominal * (1 - backoff.JITTER) <= wait <= nominal
    assert dt.timedelta(seconds=30) <= wait <= backoff.CAP


@given(failures=st.integers(1, 30), draw=draws)
def test_the_nominal_wait_never_shrinks(failures: int, draw: float) -> None:
    # With the same draw, a later failure never waits less than an earlier one.
    assert backoff.delay(failures + 1, draw) >= backoff.delay(failures, draw)


@given(draws_=st.lists(draws, min_size=200, max_size=200))
def test_a_delivery_that_always_fails_is_tried_until_the_window_ends(draws_: list[float]) -> None:
    tries = [T0]
    while True:
        following = backoff.next_try(T0, len(tries), tries[-1], draws_[len(tries) % 200])
        if following is None:
            break
        assert tries[-1] < following <= T0 + backoff.WINDOW
        tries.append(following)
    assert tries[-1] == T0 + backoff.WINDOW  # the last try is on the window's end
    assert 12 <= len(tries) <= 40  # more than a handful, never a flood
    assert all(b - a <= backoff.CAP for a, b in itertools.pairwise(tries))


@given(
    offset=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=5)),
    failures=st.integers(1, 50),
    draw=draws,
)
def test_nothing_is_planned_after_the_window(offset, failures: int, draw: float) -> None:
    now = T0 + offset
    following = backoff.next_try(T0, failures, now, draw)
    if now >= T0 + backoff.WINDOW:
        assert following is None
    else:
        assert following is not None and now < following <= T0 + backoff.WINDOW


@given(
    offset=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=4)),
    failures=st.integers(1, 50),
    draw=draws,
    asked=st.timedeltas(min_value=dt.timedelta(0), max_value=backoff.CAP),
)
def test_a_retry_after_is_honoured_inside_the_window(offset, failures, draw, asked) -> None:
    now = T0 + offset
    following = backoff.next_try(T0, failures, now, draw, asked)
    plain = backoff.next_try(T0, failures, now, draw)
    if plain is None:
        assert following is None
        return
    assert following is not None and plain <= following <= T0 + backoff.WINDOW
    assert following == min(now + asked, T0 + backoff.WINDOW) or following == plain


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("30", dt.timedelta(seconds=30)),
        (" 0 ", dt.timedelta(0)),
        ("999999999", backoff.CAP),
        ("Tue, 01 Dec 2026 09:02:00 GMT", dt.timedelta(minutes=2)),
        ("Tue, 01 Dec 2026 08:00:00 GMT", dt.timedelta(0)),  # a date gone by: no wait
        ("Sat, 01 Dec 2096 09:00:00 GMT", backoff.CAP),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("\u0661\u0662", None),  # digits, but not ASCII ones
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header, wait) -> None:
    assert backoff.retry_after(header, T0) == wait


@given(st.text(max_size=40))
def test_retry_after_never_raises_and_stays_within_the_cap(header: str) -> None:
    wait = backoff.retry_after(header, T0)
    assert wait is None or dt.timedelta(0) <= wait <= backoff.CAP


def test_an_endpoint_is_disabled_after_three_days_of_failures() -> None:
    assert not backoff.should_disable(None, T0)
    assert not backoff.should_disable(T0, T0 + dt.timedelta(days=3) - dt.timedelta(seconds=1))
    assert backoff.should_disable(T0, T0 + dt.timedelta(days=3))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        backoff.delay(0, 0.5)
    with pytest.raises(ValueError, match="draw"):
        backoff.delay(1, 1.0)
