"""The Retain loop's pure rules: arms, targeting, approvals, savings, return URLs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.retain import policy as p

customers = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=24).map(
    lambda s: f"cus_{s}"
)


@st.composite
def splits(draw):
    """Two to four arms whose weights sum to 100 (some may be 0)."""
    n = draw(st.integers(2, 4))
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=n - 1, max_size=n - 1)))
    weights = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    return [p.Arm(version_id=i + 1, weight=w) for i, w in enumerate(weights)]


@given(splits(), customers, st.integers(1, 10_000))
def test_a_customer_always_gets_the_same_live_arm(arms, customer, flow_id) -> None:
    first = p.pick_arm(arms, flow_id=flow_id, customer_id=customer)
    assert first == p.pick_arm(list(reversed(arms)), flow_id=flow_id, customer_id=customer)
    assert next(a.weight for a in arms if a.version_id == first) > 0


@settings(max_examples=25, deadline=None)
@given(splits())
def test_arms_take_their_share_of_customers(arms) -> None:
    n = 4000
    counts: dict[int, int] = {}
    for i in range(n):
        chosen = p.pick_arm(arms, flow_id=7, customer_id=f"cus_{i}")
        counts[chosen] = counts.get(chosen, 0) + 1
    for arm in arms:
        share = counts.get(arm.version_id, 0) / n * 100
        assert abs(share - arm.weight) < 4, (arm, share)


def test_no_live_arm_means_no_version() -> None:
    assert p.pick_arm([p.Arm(1, 0)], flow_id=1, customer_id="cus_1") is None
    assert p.pick_arm([], flow_id=1, customer_id="cus_1") is None


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        ({1: 50, 2: 50}, None),
        ({1: 100, 2: 0}, None),
        ({1: 60, 2: 50}, "The shares add up to 110 %; they must add up to 100 %."),
        ({1: -10, 2: 110}, "Each share is a whole percent from 0 to 100."),
        ({1: True, 2: 99}, "Each share is a whole percent from 0 to 100."),
        ({}, "Publish a version first."),
    ],
)
def test_weights(weights, problem) -> None:
    assert p.weights_problem(weights) == problem


def test_a_targeted_flow_wins_over_the_default_for_its_plans() -> None:
    flows = [
        p.FlowTarget(1, True, (), 100),
        p.FlowTarget(2, False, ("price_annual",), 100),
    ]
    assert p.choose_flow(flows, price_ids={"price_annual"}, customer_id="cus_1") == 2
    assert p.choose_flow(flows, price_ids={"price_monthly"}, customer_id="cus_1") == 1
    assert p.choose_flow(flows[1:], price_ids={"price_monthly"}, customer_id="cus_1") is None


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 99))
def test_a_flow_for_a_share_of_customers_takes_about_that_share(share) -> None:
    flows = [p.FlowTarget(1, True, (), 100), p.FlowTarget(2, False, (), share)]
    n = 3000
    taken = sum(p.choose_flow(flows, price_ids=set(), customer_id=f"c{i}") == 2 for i in range(n))
    assert abs(taken / n * 100 - share) < 4


def test_generous_offers_need_approval() -> None:
    limits = p.Thresholds()
    assert p.approval_reasons([{"type": "discount", "percent_off": 50, "months": 3}], limits) == []
    assert p.approval_reasons([{"type": "discount", "percent_off": 60, "months": 3}], limits) == [
        "60 % off is more than 50 %"
    ]
    assert p.approval_reasons([{"type": "free_months", "months": 4}], limits) == [
        "4 free months is more than 3"
    ]
    assert p.approval_reasons([{"type": "pause", "months": 6}], limits) == [
        "a 6-month pause is longer than 3 months"
    ]
    assert (
        p.approval_reasons([{"type": "pause", "months": 6}], p.Thresholds(max_pause_months=6)) == []
    )


MONTHLY = p.Plan("Studio", 2900, "usd", "month")
YEARLY = p.Plan("Studio yearly", 29000, "usd", "year")


@pytest.mark.parametrize(
    ("offer", "plan", "saving"),
    [
        ({"type": "discount", "percent_off": 25, "months": 3}, MONTHLY, 2175),
        ({"type": "discount", "amount_off": 500, "currency": "usd", "months": 2}, MONTHLY, 1000),
        ({"type": "discount", "amount_off": 5000, "currency": "usd", "months": 1}, MONTHLY, 2900),
        ({"type": "discount", "percent_off": 20, "months": 12}, YEARLY, 5800),
        ({"type": "pause", "months": 2}, MONTHLY, 5800),
        ({"type": "free_months", "months": 1}, YEARLY, 2416),
        ({"type": "book_call", "url": "https://x"}, MONTHLY, 0),
    ],
)
def test_what_an_offer_saves(offer, plan, saving) -> None:
    assert p.saving_minor(offer, plan) == saving


def test_a_switch_saves_the_difference_and_never_less_than_nothing() -> None:
    offer = {"type": "plan_switch", "price": "price_x"}
    assert p.saving_minor(offer, MONTHLY, new_amount_minor=1900) == 1000
    assert p.saving_minor(offer, MONTHLY, new_amount_minor=4900) == 0


def test_one_coupon_per_offer_shape() -> None:
    assert p.coupon_id({"type": "discount", "percent_off": 25, "months": 3}) == "backstop_25pct_3m"
    assert p.coupon_id({"type": "free_months", "months": 2}) == "backstop_free_2m"
    assert (
        p.coupon_id({"type": "discount", "amount_off": 500, "currency": "eur", "months": 1})
        == "backstop_500eur_1m"
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://shop.example/account?x=1", True),
        ("https://SHOP.example:443/account", True),
        ("http://shop.example/account", False),
        ("https://shop.example.evil.com/", False),
        ("https://shop.example@evil.com/", False),
        ("javascript:alert(1)", False),
        ("//evil.com/", False),
        ("https://[bad/", False),
    ],
)
def test_customers_go_back_only_to_the_merchants_own_origins(url, allowed) -> None:
    assert p.return_url_allowed(url, ["https://shop.example"]) is allowed


def test_a_flow_that_targets_nobody_never_takes_the_defaults_customers() -> None:
    flows = [p.FlowTarget(1, True, (), 100), p.FlowTarget(2, False, (), 100)]
    assert not p.targets_anyone(flows[1])
    assert all(p.choose_flow(flows, price_ids=set(), customer_id=f"c{i}") == 1 for i in range(200))
