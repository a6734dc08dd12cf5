"""Stripe objects in the merchant's words: the plan a subscription or invoice is for.

Pure functions over the objects as Stripe sends them (the mirror's ``data``)."""

from __future__ import annotations

import re
from typing import Any

#: Stripe's line description for a subscription item: ``1 × Studio (at $29.00 / month)``.  # noqa: RUF003
_LINE = re.compile(r"^\d+ × (?P<name>.+?) \(at [^()]*\)$")  # noqa: RUF001 - Stripe's sign


def plan_name(subscription: dict[str, Any] | None, invoice: dict[str, Any] | None) -> str | None:
    """The plan's name: the subscription's prices' nicknames (or their expanded products'
    names), else the names in the invoice's subscription lines; None when neither says."""
    names = _unique(_item_name(i) for i in _data((subscription or {}).get("items")))
    if not names:
        names = _unique(_line_name(line) for line in _data((invoice or {}).get("lines")))
    return " + ".join(names) or None


def _data(listing: Any) -> list[dict[str, Any]]:
    if not isinstance(listing, dict):
        return []
    return [x for x in listing.get("data") or [] if isinstance(x, dict)]


def _item_name(item: dict[str, Any]) -> str | None:
    price = item.get("price") or item.get("plan") or {}
    if not isinstance(price, dict):
        return None
    product = price.get("product")
    if isinstance(product, dict) and product.get("name"):
        return str(product["name"])
    return price.get("nickname") or None


def _line_name(line: dict[str, Any]) -> str | None:
    found = _LINE.match(str(line.get("description") or ""))
    return found["name"] if found else None


def _unique(names: Any) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name and name not in seen:
            seen.append(name)
    return seen
