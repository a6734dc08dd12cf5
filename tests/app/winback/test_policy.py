"""The win-back rules: reasons, when touches go, what counts for us, the offer, copy."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.winback import copy, policy

ZONES = st.sampled_from(["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Tokyo"])
MOMENTS = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)
)


@pytest.mark.parametrize(
    ("survey", "feedback", "group"),
    [
        ("too_expensive", None, "too_expensive"),
        ("budget", "unused", "too_expensive"),  # the customer's own answer wins
        ("missing_features", None, "missing_feature"),
        ("low_usage", None, "not_using"),
        ("switching", None, "switched"),
        ("something_custom", "switched_service", "switched"),
        (None, "unused", "not_using"),
        (None, "customer_service", "other"),
        (None, None, "other"),
    ],
)
def test_the_reason_group_follows_the_survey_then_stripe(survey, feedback, group) -> None:
    assert policy.reason_group(survey, feedback) == group


def test_involuntary_campaigns_have_their_own_copy() -> None:
    assert policy.copy_key("involuntary", "too_expensive") == "payment_failed"
    assert policy.copy_key("voluntary", "switched") == "switched"


@given(
    ended=MOMENTS,
    tz=ZONES,
    delays=st.lists(st.integers(0, 90), min_size=1, max_size=3).filter(
        lambda d: all(x >= 1 for x in d[1:])
    ),
)
def test_touches_go_in_order_at_ten_local_never_before_their_delay(ended, tz, delays) -> None:
    from app.times import zone

    touches = policy.plan_touches(ended, tz, delays)
    assert [t.number for t in touches] == list(range(1, len(delays) + 1))
    base = ended
    for touch, days in zip(touches, delays, strict=True):
        local = touch.at.astimezone(zone(tz))
        assert (local.hour, local.minute) == (10, 0)
        assert touch.at >= base and touch.at >= base + dt.timedelta(days=days) - dt.timedelta(
            days=1
        )
        base = touch.at
    assert all(a.at < b.at for a, b in itertools.pairwise(touches))


@given(
    returned=MOMENTS,
    touched=st.one_of(st.none(), MOMENTS),
    window=st.integers(1, 90),
    via_link=st.booleans(),
)
def test_a_return_is_claimed_only_through_the_link_or_inside_the_window(
    returned, touched, window, via_link
) -> None:
    credit = policy.credit(
        via_link=via_link, returned_at=returned, last_touch_at=touched, attribution_days=window
    )
    if via_link:
        assert credit == "link"
    elif touched is None or returned < touched:
        assert credit is None  # nothing was sent before they came back
    else:
        inside = returned - touched <= dt.timedelta(days=window)
        assert credit == ("email" if inside else None)


def test_the_offer_goes_to_who_the_merchant_chose() -> None:
    assert policy.offer_for(20, 3, "too_expensive", "too_expensive", "voluntary") == policy.Offer(
        20, 3
    )
    assert policy.offer_for(20, 3, "too_expensive", "switched", "voluntary") is None
    assert policy.offer_for(20, 3, "too_expensive", "too_expensive", "involuntary") is None
    assert policy.offer_for(20, 3, "everyone", "other", "involuntary") == policy.Offer(20, 3)
    assert policy.offer_for(None, None, "everyone", "other", "voluntary") is None
    assert policy.Offer(20, 1).describe == "20% off for 1 month"
    assert policy.Offer(25, 3).coupon_id == "backstop_winback_25pct_3m"


def test_settings_errors_name_every_problem() -> None:
    assert policy.delay_errors([14, 14]) == []
    assert policy.delay_errors([]) and policy.delay_errors([14, 14, 14, 14])
    assert policy.delay_errors([91]) and policy.delay_errors([14, 0])
    assert policy.offer_errors(20, None, "everyone")
    assert policy.offer_errors(95, 3, "everyone") and policy.offer_errors(20, 13, "everyone")
    assert policy.offer_errors(20, 3, "nobody")
    assert policy.offer_errors(None, None, "too_expensive") == []


def test_copy_follows_the_reason_and_the_merchant_rewrites_it() -> None:
    first = copy.copy_for({}, "too_expensive", 1, 2)
    assert "better price" in first.subject
    assert copy.copy_for({}, "missing_feature", 1, 2).subject == "What's new at {merchant}"
    assert copy.copy_for({}, "other", 2, 2).subject == "Still thinking about {merchant}?"
    assert copy.copy_for({}, "other", 3, 3).subject.startswith("Last chance")
    own = {"1": {"switched": {"subject": "Hey {name}", "message": ""}}}
    rewritten = copy.copy_for(own, "switched", 1, 2)
    assert rewritten.subject == "Hey {name}" and "moved to another product" in rewritten.message
    errors, _clean = copy.clean_copy(
        {"1": {"other": {"subject": "Hi {nope}", "message": ""}}, "9": {}, "2": {"x": {}}}
    )
    assert any("{nope}" in e for e in errors) and any("'9'" in e for e in errors)
    assert any("'x'" in e for e in errors)
    assert copy.clean_copy({"1": {"other": {"subject": " ", "message": ""}}}) == ([], {})
