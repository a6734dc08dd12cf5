"""The pure dunning rules: when touches go, which copy a decline gets, which expiry
notices a card needs. Laws are property-tested."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.dunning.copy import copy_errors, copy_for, fill, variant_for
from app.dunning.expiry_rules import NOTICE_DAYS, expires_at, notice_at, plan_notices
from app.dunning.sequences import SEQUENCES, plan_touches, send_time

ZONES = ["UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney"]
moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2030, 12, 31),
    timezones=st.just(dt.UTC),
)


@given(moments, st.sampled_from(sorted(SEQUENCES)), st.sampled_from(ZONES))
def test_touches_land_at_ten_local_in_order_inside_the_window(failed_at, sequence, tz) -> None:
    window_end = failed_at + dt.timedelta(days=30)
    touches = plan_touches(sequence, failed_at, tz, window_ends_at=window_end)
    assert 1 <= len(touches) <= len(SEQUENCES[sequence])
    assert [t.at for t in touches] == sorted({t.at for t in touches})  # strictly ordered
    for touch in touches:
        assert failed_at <= touch.at < window_end
        local = touch.at.astimezone(ZoneInfo(tz))
        if touch.at < window_end - dt.timedelta(minutes=5):
            assert (local.hour, local.minute) == (10, 0)
        days = (local.date() - failed_at.astimezone(ZoneInfo(tz)).date()).days
        assert days >= touch.day or touch.at == window_end - dt.timedelta(minutes=5)
    assert touches[-1].is_final == (touches[-1].key == f"d{SEQUENCES[sequence][-1]}")


def test_the_standard_sequence_by_example() -> None:
    failed = dt.datetime(2026, 7, 1, 15, 30, tzinfo=dt.UTC)  # 11:30 in New York
    touches = plan_touches(
        "standard", failed, "America/New_York", window_ends_at=failed + dt.timedelta(days=30)
    )
    local = [t.at.astimezone(ZoneInfo("America/New_York")) for t in touches]
    assert [t.key for t in touches] == ["d0", "d3", "d7", "d14"]
    # 10:00 had passed on the day: d0 is the next morning; the rest count from the day.
    assert [(d.month, d.day, d.hour) for d in local] == [
        (7, 2, 10),
        (7, 4, 10),
        (7, 8, 10),
        (7, 15, 10),
    ]
    assert not any(t.offers_pause for t in touches)


def test_the_extended_sequence_offers_a_pause_from_d7_and_ends_inside_the_window() -> None:
    failed = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)
    end = failed + dt.timedelta(days=30)
    touches = plan_touches("extended", failed, "UTC", window_ends_at=end)
    assert [(t.key, t.offers_pause) for t in touches] == [
        ("d0", False),
        ("d3", False),
        ("d7", True),
        ("d14", True),
        ("d21", True),
        ("d30", True),
    ]
    assert touches[-1].at == end - dt.timedelta(minutes=5) and touches[-1].is_final


def test_send_time_is_never_before_the_failure() -> None:
    failed = dt.datetime(2026, 7, 1, 10, 0, 1, tzinfo=dt.UTC)
    assert send_time(failed, 0, "UTC") == dt.datetime(2026, 7, 2, 10, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="unknown dunning sequence"):
        plan_touches("weekly", failed, "UTC", window_ends_at=failed)


@pytest.mark.parametrize(
    ("cls", "code", "variant"),
    [
        ("scheduled", "insufficient_funds", "insufficient_funds"),
        ("customer_action", "expired_card", "expired_card"),
        ("customer_action", "invalid_expiry_year", "expired_card"),
        ("customer_action", "authentication_required", "authentication_required"),
        ("no_recovery", "stolen_card", "no_recovery"),
        ("no_recovery", "insufficient_funds", "no_recovery"),  # class wins: never "try again"
        ("scheduled", "do_not_honor", "generic"),
        ("immediate", None, "generic"),
    ],
)
def test_the_decline_chooses_the_copy(cls, code, variant) -> None:
    assert variant_for(cls, code) == variant


def test_merchant_copy_fills_known_placeholders_only() -> None:
    values = {"name": "Jo", "amount": "$9", "merchant": "Acme", "deadline": "May 3"}
    assert (
        fill("Hi {name}, {amount} to {merchant} by {deadline}", values)
        == "Hi Jo, $9 to Acme by May 3"
    )
    assert fill("{name.__class__} {nope} {{name}}", values) == "{name.__class__} {nope} {Jo}"
    assert copy_errors("Hi {nope}", "") == [
        "unknown placeholder {nope}; use {name}, {merchant}, {amount}, {deadline}"
    ]
    assert copy_errors("two\nlines", "x" * 2001)[0] == "the subject must be one line"
    own = copy_for({"d3": {"subject": "Mine", "message": ""}}, "d3", 2, 4)
    assert own.subject == "Mine" and "still outstanding" in own.message
    assert copy_for({}, "d14", 4, 4).subject.startswith("Last reminder")


@given(st.text(max_size=200))
def test_filling_never_raises_and_keeps_unknown_text(text) -> None:
    filled = fill(text, {"name": "Jo"})
    assert filled.replace("Jo", "") == text.replace("{name}", "").replace("Jo", "")


# -- card expiry ------------------------------------------------------------------------------


def test_a_card_is_good_through_its_expiry_month() -> None:
    assert expires_at(12, 2026, "UTC") == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    paris = expires_at(2, 2027, "Europe/Paris")
    assert paris == dt.datetime(2027, 2, 28, 23, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="exp_month"):
        expires_at(13, 2027, "UTC")


@given(
    moments,
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=2024, max_value=2031),
    st.sampled_from(ZONES),
)
def test_expiry_notices_laws(now, month, year, tz) -> None:
    planned = plan_notices(month, year, tz, now=now)
    end = expires_at(month, year, tz)
    assert len(planned) <= len(NOTICE_DAYS)
    assert len({d for d, _ in planned}) == len(planned)
    assert sum(1 for _, at in planned if at <= now) <= 1  # never a burst of late notices
    for days, at in planned:
        assert now <= at < end and at <= now + dt.timedelta(days=7)
        if at > now:
            assert at == notice_at(month, year, days, tz)
            assert at.astimezone(ZoneInfo(tz)).hour == 10
    if now >= end:
        assert planned == []


def test_expiry_notices_by_example() -> None:
    now = dt.datetime(2026, 12, 20, 12, 0, tzinfo=dt.UTC)  # 12 days before a 12/2026 card ends
    assert plan_notices(12, 2026, "UTC", now=now) == [
        (15, now),
        (7, dt.datetime(2026, 12, 25, 10, 0, tzinfo=dt.UTC)),
    ]
    far = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert plan_notices(12, 2026, "UTC", now=far) == []  # the daily scan comes back
    ahead = plan_notices(12, 2026, "UTC", now=far, horizon=dt.timedelta(days=120))
    assert [d for d, _ in ahead] == [30, 15, 7]
