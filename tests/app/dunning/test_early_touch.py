"""A high-value payment's first touch goes early: at the failure, or at 08:00 local when
the failure falls in the customer's night. Laws are property-tested."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.dunning.sequences import NIGHT, SEQUENCES, early_first_touch, plan_touches

ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Paris",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/St_Johns",
]
moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2030, 12, 31),
    timezones=st.just(dt.UTC),
)


def _is_night(at: dt.datetime, tz: str) -> bool:
    local = at.astimezone(ZoneInfo(tz)).time()
    return local >= NIGHT[0] or local < NIGHT[1]


@given(moments, st.sampled_from(sorted(SEQUENCES)), st.sampled_from(ZONES))
def test_the_early_first_touch_keeps_the_laws(failed_at, sequence, tz) -> None:
    window_end = failed_at + dt.timedelta(days=30)
    usual = plan_touches(sequence, failed_at, tz, window_ends_at=window_end)
    early = plan_touches(sequence, failed_at, tz, window_ends_at=window_end, early_first=True)
    first = early[0]
    assert first.at >= failed_at  # never before the failure
    assert not _is_night(first.at, tz)  # never at night for the customer
    assert first.at <= usual[0].at  # never later than the usual first touch
    assert first.why and "high-value" in first.reason
    # Only the first touch moves; the rest of the sequence stays as it was.
    assert [(t.key, t.at) for t in early[1:]] == [(t.key, t.at) for t in usual[1:]]
    assert [t.at for t in early] == sorted({t.at for t in early})


@given(moments, st.sampled_from(ZONES))
def test_a_daytime_failure_is_emailed_at_once(failed_at, tz) -> None:
    at, why = early_first_touch(failed_at, tz)
    if not _is_night(failed_at, tz):
        assert at == failed_at and why.startswith("at the failure")
    else:
        local = at.astimezone(ZoneInfo(tz))
        assert (local.hour, local.minute) == (8, 0)
        assert at - failed_at <= dt.timedelta(hours=12)  # that night's morning (DST: +1 h)


@pytest.mark.parametrize(
    ("local_failure", "expected_local"),
    [
        (dt.datetime(2026, 7, 1, 14, 5), dt.datetime(2026, 7, 1, 14, 5)),  # afternoon: now
        (dt.datetime(2026, 7, 1, 8, 0), dt.datetime(2026, 7, 1, 8, 0)),  # morning starts
        (dt.datetime(2026, 7, 1, 20, 59), dt.datetime(2026, 7, 1, 20, 59)),  # not night yet
        (dt.datetime(2026, 7, 1, 21, 0), dt.datetime(2026, 7, 2, 8, 0)),  # night: next 08:00
        (dt.datetime(2026, 7, 1, 23, 40), dt.datetime(2026, 7, 2, 8, 0)),
        (dt.datetime(2026, 7, 2, 3, 15), dt.datetime(2026, 7, 2, 8, 0)),  # after midnight
    ],
)
def test_the_early_first_touch_by_example(local_failure, expected_local) -> None:
    tz = ZoneInfo("America/New_York")
    failed = local_failure.replace(tzinfo=tz).astimezone(dt.UTC)
    touches = plan_touches(
        "standard",
        failed,
        "America/New_York",
        window_ends_at=failed + dt.timedelta(days=30),
        early_first=True,
    )
    assert touches[0].key == "d0"
    assert touches[0].at.astimezone(tz).replace(tzinfo=None) == expected_local


def test_the_reason_says_why_the_first_touch_is_early() -> None:
    failed = dt.datetime(2026, 7, 1, 23, 0, tzinfo=dt.UTC)
    [first, *_] = plan_touches(
        "short", failed, "UTC", window_ends_at=failed + dt.timedelta(days=30), early_first=True
    )
    assert first.key == "d1" and first.at == dt.datetime(2026, 7, 2, 8, 0, tzinfo=dt.UTC)
    assert first.reason == (
        "first reminder email (1 of 3): at 08:00 the customer's time (the failure came at "
        "night for them), early because the payment is high-value"
    )
    day = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    [first, *_] = plan_touches(
        "standard", day, "UTC", window_ends_at=day + dt.timedelta(days=30), early_first=True
    )
    assert first.at == day
    assert first.reason.endswith("at the failure, because the payment is high-value")
