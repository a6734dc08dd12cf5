"""The pure rules of the end of dunning: when the pause offer follows the last touch,
and what a last-chance discount may be. The offer's timing is a law, property-tested."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.dunning import config
from app.dunning.offers import (
    WINDOW_MARGIN,
    coupon_id,
    coupon_params,
    discount_errors,
    discount_words,
    plan_pause_offer,
)
from app.dunning.sequences import SEQUENCES, plan_touches
from app.retain import policy as retain_policy

ZONES = ["UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo", "Pacific/Kiritimati"]
moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2030, 12, 31),
    timezones=st.just(dt.UTC),
)
gaps = st.integers(min_value=12, max_value=168).map(lambda h: dt.timedelta(hours=h))


@given(moments, st.sampled_from(sorted(SEQUENCES)), st.sampled_from(ZONES), gaps)
def test_the_offer_is_after_the_last_touch_by_the_gap_and_inside_the_window(
    failed_at, sequence, tz, gap
) -> None:
    window_end = failed_at + dt.timedelta(days=30)
    last = plan_touches(sequence, failed_at, tz, window_ends_at=window_end)[-1]
    offer = plan_pause_offer(last.at, window_end, tz, gap=gap)
    assert offer.reason
    if offer.at is None:
        assert window_end - WINDOW_MARGIN < last.at + gap  # there really was no room
        return
    assert last.at + gap <= offer.at <= window_end - WINDOW_MARGIN
    assert offer.at > last.at


@given(moments, st.sampled_from(ZONES))
def test_the_standard_sequence_always_has_room_for_a_default_gap_offer(failed_at, tz) -> None:
    window_end = failed_at + dt.timedelta(days=30)
    last = plan_touches("standard", failed_at, tz, window_ends_at=window_end)[-1]
    offer = plan_pause_offer(last.at, window_end, tz, gap=dt.timedelta(hours=24))
    assert offer.at is not None
    assert offer.at - last.at <= dt.timedelta(days=3)  # two local days later, at 10:00


def test_two_days_after_the_last_touch_at_ten_local() -> None:
    last = dt.datetime(2026, 7, 15, 8, 0, tzinfo=dt.UTC)  # 10:00 in Paris
    offer = plan_pause_offer(
        last, last + dt.timedelta(days=10), "Europe/Paris", gap=dt.timedelta(hours=24)
    )
    assert offer.at == dt.datetime(2026, 7, 17, 8, 0, tzinfo=dt.UTC)
    assert "2 days after the final reminder email" in offer.reason


def test_pulled_in_before_the_window_end_and_said_so() -> None:
    last = dt.datetime(2026, 7, 15, 10, 0, tzinfo=dt.UTC)
    end = last + dt.timedelta(days=1, hours=12)
    offer = plan_pause_offer(last, end, "UTC", gap=dt.timedelta(hours=24))
    assert offer.at == end - WINDOW_MARGIN
    assert "pulled in before the 30-day window ends" in offer.reason


def test_no_room_says_why() -> None:
    last = dt.datetime(2026, 7, 15, 10, 0, tzinfo=dt.UTC)
    offer = plan_pause_offer(last, last + dt.timedelta(hours=5), "UTC", gap=dt.timedelta(hours=24))
    assert offer.at is None and "no room" in offer.reason


@pytest.mark.parametrize(
    ("percent", "months", "problem"),
    [
        (None, None, None),
        (20, 3, None),
        (5, 1, None),
        (90, 12, None),
        (4, 3, "5 to 90 percent"),
        (91, 3, "5 to 90 percent"),
        (20, 0, "1 to 12 months"),
        (20, 13, "1 to 12 months"),
        (20, None, "both a percent and a number of months"),
        (None, 3, "both a percent and a number of months"),
    ],
)
def test_discount_shape(percent, months, problem) -> None:
    errors = discount_errors(percent, months)
    assert (problem is None) == (errors == [])
    if problem:
        assert problem in " ".join(errors)


def test_the_coupon_is_retains_of_the_same_shape() -> None:
    offer = {"type": "discount", "percent_off": 20, "months": 3}
    assert coupon_id(20, 3) == retain_policy.coupon_id(offer) == "backstop_20pct_3m"
    params = coupon_params(20, 3)
    assert (params["percent_off"], params["duration"], params["duration_in_months"]) == (
        20,
        "repeating",
        3,
    )
    assert discount_words(20, 3) == "20% off the next 3 months"
    assert discount_words(50, 1) == "50% off the next month"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"pause_offer_days": 7}, "lasts 14, 30 or 60 days"),
        ({"discount_percent": 95, "discount_months": 3}, "5 to 90 percent"),
        ({"discount_percent": 20}, "both a percent"),
    ],
)
def test_settings_refuse_bad_offers_with_every_problem(settings, problem) -> None:
    errors, _clean = config.check(sequence="standard", copy={}, pause_days=None, **settings)
    assert any(problem in e for e in errors), errors


def test_the_pause_offer_comes_with_any_sequence() -> None:
    for sequence in SEQUENCES:
        errors, _clean = config.check(
            sequence=sequence, copy={}, pause_days=None, pause_offer_days=30
        )
        assert errors == []
