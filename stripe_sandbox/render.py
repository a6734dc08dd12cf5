"""Lists, pagination and ``expand[]``: how stored objects go out on the wire."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .errors import InvalidRequest
from .store import Account
from .wire import Params

#: Fields that are not stored on the object but built on request
#: (Stripe's "includable" fields): (object type, field) -> builder(account, obj).
INCLUDABLE: dict[tuple[str, str], Callable[[Account, dict[str, Any]], Any]] = {}


def includable(kind: str, field: str):
    def decorate(fn):
        INCLUDABLE[(kind, field)] = fn
        return fn

    return decorate


def paginate(
    acct: Account,
    objects: Iterable[dict[str, Any]],
    params: Params,
    url: str,
    *,
    filters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Stripe's cursor pagination over ``objects`` (already newest first)."""
    limit = params.int("limit", 10)
    if limit < 1 or limit > 100:
        raise InvalidRequest("Invalid limit: must be between 1 and 100", param="limit")
    starting_after = params.str("starting_after")
    ending_before = params.str("ending_before")
    if starting_after and ending_before:
        raise InvalidRequest(
            "You may only specify one of these parameters: starting_after, ending_before.",
            param="starting_after",
        )
    items = [o for o in objects if _matches(o, params, filters or {})]
    if starting_after:
        index = _index_of(items, starting_after, "starting_after")
        window = items[index + 1 :]
        page, has_more = window[:limit], len(window) > limit
    elif ending_before:
        index = _index_of(items, ending_before, "ending_before")
        window = items[:index]
        page, has_more = window[-limit:], len(window) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}


def _index_of(items: list[dict[str, Any]], oid: str, param: str) -> int:
    for i, obj in enumerate(items):
        if obj["id"] == oid:
            return i
    raise InvalidRequest(f"No such object: '{oid}'", code="resource_missing", param=param)


def _matches(obj: dict[str, Any], params: Params, filters: dict[str, Any]) -> bool:
    for field, wanted in filters.items():
        if wanted is None:
            continue
        if callable(wanted):
            if not wanted(obj):
                return False
        elif obj.get(field) != wanted:
            return False
    created = params.dict("created")
    if created is not None:
        stamp = obj.get("created", 0)
        bounds = {"gt": stamp.__gt__, "gte": stamp.__ge__, "lt": stamp.__lt__, "lte": stamp.__le__}
        for op, test in bounds.items():
            value = created.int(op)
            if value is not None and not test(value):
                return False
    elif params.raw("created") not in (None, "") and obj.get("created") != params.int("created"):
        return False
    return True


def expand(acct: Account, obj: Any, paths: list[str]) -> Any:
    """Apply ``expand[]`` paths (``customer``, ``data.customer``, ``latest_invoice.payments``)."""
    for path in paths:
        if not isinstance(path, str) or not path:
            raise InvalidRequest("Invalid expand parameter", param="expand")
        obj = _expand_path(acct, obj, path.split("."), path)
    return obj


def _expand_path(acct: Account, node: Any, parts: list[str], full: str) -> Any:
    if not parts:
        return node
    if isinstance(node, list):
        return [_expand_path(acct, item, parts, full) for item in node]
    if not isinstance(node, dict):
        return node
    head, rest = parts[0], parts[1:]
    kind = node.get("object")
    builder = INCLUDABLE.get((kind, head)) if kind else None
    if builder is not None:
        value = builder(acct, node)
    elif head in node:
        value = node[head]
    else:
        raise InvalidRequest(f"This property cannot be expanded ({full}).", param="expand")
    value = _resolve(acct, value)
    copy = dict(node)
    copy[head] = _expand_path(acct, value, rest, full)
    return copy


def _resolve(acct: Account, value: Any) -> Any:
    if isinstance(value, str):
        found = acct.objects.get(value)
        return dict(found) if found is not None else value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [_resolve(acct, v) for v in value]
    return value
