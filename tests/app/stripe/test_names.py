"""The plan a subscription or an invoice is for, in the merchant's own words."""

from __future__ import annotations

from app.stripe.names import plan_name

TIMES = "\u00d7"  # Stripe writes a multiplication sign


def item(nickname=None, product="prod_1"):
    return {"price": {"id": "price_1", "nickname": nickname, "product": product}}


def test_the_prices_nickname_names_the_plan() -> None:
    sub = {"items": {"data": [item("Studio monthly")]}}
    assert plan_name(sub, None) == "Studio monthly"


def test_an_expanded_product_wins_over_the_nickname() -> None:
    sub = {"items": {"data": [item("studio-m", {"id": "prod_1", "name": "Studio"})]}}
    assert plan_name(sub, None) == "Studio"


def test_without_a_nickname_the_invoice_lines_name_it() -> None:
    sub = {"items": {"data": [item()]}}
    invoice = {"lines": {"data": [{"description": f"1 {TIMES} Studio (at $29.00 / month)"}]}}
    assert plan_name(sub, invoice) == "Studio"
    sandbox = {"lines": {"data": [{"description": f"3 {TIMES} Team seats (at 9.00 USD / month)"}]}}
    assert plan_name(None, sandbox) == "Team seats"


def test_several_plans_are_joined_once_each() -> None:
    sub = {"items": {"data": [item("Studio"), item("Add-on"), item("Studio")]}}
    assert plan_name(sub, None) == "Studio + Add-on"


def test_nothing_known_is_none() -> None:
    assert plan_name(None, None) is None
    assert plan_name({"items": "junk"}, {"lines": {"data": [{"description": "Proration"}]}}) is None
    assert plan_name({"items": {"data": [{"price": "price_1"}]}}, {}) is None
