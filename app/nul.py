"""NUL characters (``\\x00``): PostgreSQL's text columns refuse them, so text from
outside never reaches the database holding one. Clients' requests holding one are
refused (``request_class``); Stripe's events, which must not be lost, lose the NULs."""

from __future__ import annotations

from typing import Any

NUL = "\x00"


def holds_nul(value: Any) -> bool:
    """Whether any string in ``value`` (a string, or JSON's lists and objects, keys
    included) holds a NUL character. Walks a stack: a deep document is no recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def without_nul(value: Any) -> Any:
    """``value`` with every NUL character taken out of its strings, keys included."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value
