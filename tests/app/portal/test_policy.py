"""The portal's pure rules: upgrades and downgrades, switch targets, pauses, billing
details, link reuse and the signed form token."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.portal import policy
from app.portal.policy import PriceShape

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
prices = st.builds(
    PriceShape,
    id=st.sampled_from(["price_a", "price_b", "price_c", "price_d"]),
    amount_minor=st.integers(0, 10**7),
    currency=st.sampled_from(["usd", "eur"]),
    interval=st.sampled_from(["day", "week", "month", "year"]),
    interval_count=st.integers(1, 12),
)


def test_upgrades_and_downgrades() -> None:
    monthly = PriceShape("m", 2900, "usd", "month")
    assert policy.is_upgrade(monthly, PriceShape("p", 4900, "usd", "month"))
    assert not policy.is_upgrade(monthly, PriceShape("l", 1500, "usd", "month"))
    # A year at a lower price per month is a downgrade per month...
    assert not policy.is_upgrade(monthly, PriceShape("y", 29000, "usd", "year"))
    # ...but the same price per month over a longer period is an upgrade (a commitment).
    assert policy.is_upgrade(monthly, PriceShape("y", 34800, "usd", "year"))
    assert not policy.is_upgrade(PriceShape("y", 34800, "usd", "year"), monthly)


@given(prices, prices)
def test_law_exactly_one_way_is_an_upgrade_unless_the_same(a: PriceShape, b: PriceShape) -> None:
    same = a.per_month == b.per_month and a.months == b.months
    assert policy.is_upgrade(a, b) + policy.is_upgrade(b, a) == (0 if same else 1)


@given(
    prices,
    st.lists(prices, max_size=6),
    st.lists(st.sampled_from(["price_a", "price_b", "price_c", "price_d"]), max_size=4),
)
def test_law_switch_targets_are_allowed_same_currency_and_not_current(
    current: PriceShape, offered: list[PriceShape], allowed: list[str]
) -> None:
    targets = policy.switch_targets(current, offered, allowed_ids=allowed)
    for target in targets:
        assert target.id in allowed and target.id != current.id
        assert target.currency == current.currency
    assert [t.id for t in targets] == sorted((t.id for t in targets), key=allowed.index)


def test_downgrades_wait_unless_the_merchant_says_now() -> None:
    current, lower = PriceShape("m", 2900, "usd", "month"), PriceShape("l", 1500, "usd", "month")
    assert not policy.takes_effect_now(current, lower, downgrade_timing="period_end")
    assert policy.takes_effect_now(current, lower, downgrade_timing="now")
    assert policy.takes_effect_now(lower, current, downgrade_timing="period_end")
    end = dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC)
    assert policy.change_due_at(end) == end - dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("allowed", "choices"),
    [
        ([1, 2, 3], [1, 2, 3]),
        ([3, 1, 3], [1, 3]),
        ([0, 13, -1, "2"], []),
        (None, []),
        ([6, 12], [6, 12]),
    ],
)
def test_pause_choices(allowed, choices) -> None:
    assert policy.pause_choices(allowed) == choices


def test_a_pause_resumes_on_the_same_day_months_later() -> None:
    assert policy.resumes_at(dt.datetime(2026, 1, 31, tzinfo=dt.UTC), 1) == dt.datetime(
        2026, 2, 28, tzinfo=dt.UTC
    )


def test_details_only_take_the_fields_the_merchant_allows() -> None:
    form = {"email": "a@b.example", "name": " Ann ", "phone": "+1 555 0100"}
    assert policy.clean_details(form, ["name"]) == {"name": "Ann"}
    assert policy.clean_details(form, ["email", "phone"]) == {
        "email": "a@b.example",
        "phone": "+1 555 0100",
    }


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"email": "a@b.example", "phone": "call me"}, "phone"),
        (
            {"email": "a@b.example", "address_line1": "1 Main", "address_country": "Germany"},
            "address_country",
        ),
        ({"email": "a@b.example", "address_city": "Berlin"}, "address_line1"),
        ({"email": "a@b.example", "name": "x" * 201}, "name"),
        ({"email": "a@b.example", "name": "bell\x07"}, "name"),
    ],
)
def test_bad_details_say_which_field(form, field) -> None:
    with pytest.raises(policy.DetailsProblem) as caught:
        policy.clean_details(form, ["email", "name", "phone", "address"])
    assert caught.value.field == field


def test_an_empty_address_clears_it_and_a_country_is_upper_cased() -> None:
    empty = policy.clean_details({}, ["address"])["address"]
    assert not any(empty.values())
    full = policy.clean_details(
        {"address_line1": "1 Main St", "address_country": "de"}, ["address"]
    )["address"]
    assert full["country"] == "DE"


def test_tax_ids() -> None:
    assert policy.clean_tax_id("eu_vat", "DE 123 456 789") == ("eu_vat", "DE123456789")
    with pytest.raises(policy.DetailsProblem):
        policy.clean_tax_id("xx_tax", "1")
    with pytest.raises(policy.DetailsProblem):
        policy.clean_tax_id("eu_vat", "   ")


def test_a_link_is_reused_while_it_has_a_week_left() -> None:
    assert policy.reusable(expires_at=NOW + dt.timedelta(days=8), revoked=False, now=NOW)
    assert not policy.reusable(expires_at=NOW + dt.timedelta(days=6), revoked=False, now=NOW)
    assert not policy.reusable(expires_at=NOW + dt.timedelta(days=80), revoked=True, now=NOW)


@given(st.integers(1, 10**9), st.text(min_size=1, max_size=64), st.text(max_size=80))
def test_law_only_the_links_own_form_token_passes(link_id: int, token_hash: str, sent: str) -> None:
    good = policy.form_token("secret", link_id, token_hash)
    assert policy.form_token_ok("secret", link_id, token_hash, good)
    assert not policy.form_token_ok("secret", link_id + 1, token_hash, good)
    assert not policy.form_token_ok("other", link_id, token_hash, good)
    assert policy.form_token_ok("secret", link_id, token_hash, sent) == (sent == good)
    assert not policy.form_token_ok("secret", link_id, token_hash, None)
