"""Stripe's wire format: nested-bracket form bodies in, plain values out.

``items[0][price]=p&metadata[plan]=pro&expand[]=customer`` becomes
``{"items": [{"price": "p"}], "metadata": {"plan": "pro"}, "expand": ["customer"]}``.
Values stay strings; each handler coerces what it reads through :class:`Params`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import InvalidRequest

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_INDEX = re.compile(r"[0-9]+")  # fullmatch, ASCII only: "²".isdigit() is True


def decode(body: str) -> dict[str, Any]:
    """Decode a form-encoded body (or query string) into nested dicts and lists."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if not match:
            raise InvalidRequest(f"Invalid parameter name: {raw_key}", param=raw_key)
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _assign(root, path, value, raw_key)
    # The top level is always a hash of parameter names, even names like "0".
    return {k: _listify(v) for k, v in root.items()}


def _assign(node: dict[str, Any], path: list[str], value: str, raw_key: str) -> None:
    for part in path[:-1]:
        if part == "":
            part = str(len(node))
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise InvalidRequest(f"Invalid nesting for parameter {raw_key}", param=raw_key)
        node = child
    last = path[-1]
    if last == "":
        last = str(len(node))
    node[last] = value


def _listify(node: Any) -> Any:
    """Turn dicts whose keys are all 0..n-1 into lists (``items[0]``, ``expand[]``)."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(_INDEX.fullmatch(k) for k in converted):
        keys = sorted(converted, key=int)
        if [int(k) for k in keys] == list(range(len(keys))):
            return [converted[k] for k in keys]
    return converted


class Params:
    """Typed access to decoded parameters with Stripe's error for a bad value."""

    def __init__(self, data: dict[str, Any], prefix: str = ""):
        self.data = data
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}[{key}]" if self.prefix else key

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def keys(self):
        return self.data.keys()

    def __iter__(self):
        return iter(self.data)

    def raw(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def only(self, *allowed: str) -> Params:
        """Refuse names inside this hash that Stripe does not take, as it does for the
        top level (``pause_collection[behaviour]`` is a typo, not an ignored extra)."""
        for key in self.data:
            if key not in allowed:
                raise InvalidRequest(
                    f"Received unknown parameter: {self._name(key)}", param=self._name(key)
                )
        return self

    def str(
        self,
        key: str,
        default: str | None = None,
        *,
        required: bool = False,
        choices: tuple[str, ...] | None = None,
    ) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise InvalidRequest(
                    f"Missing required param: {self._name(key)}.",
                    param=self._name(key),
                    code="parameter_missing",
                )
            return default
        if not isinstance(value, str):
            raise InvalidRequest(f"Invalid string: {self._name(key)}", param=self._name(key))
        if choices is not None and value not in choices:
            raise InvalidRequest(
                f"Invalid {self._name(key)}: must be one of {', '.join(choices)}",
                param=self._name(key),
            )
        return value

    def nullable_str(self, key: str) -> str | None:
        """A string where an empty value means "unset" (Stripe's ``param=``)."""
        value = self.str(key)
        return value or None

    def int(
        self,
        key: str,
        default: int | None = None,
        *,
        required: bool = False,
        minimum: int | None = None,
    ) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise InvalidRequest(
                    f"Missing required param: {self._name(key)}.",
                    param=self._name(key),
                    code="parameter_missing",
                )
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise InvalidRequest(f"Invalid integer: {value}", param=self._name(key))
        if minimum is not None and number < minimum:
            raise InvalidRequest(
                f"Invalid {self._name(key)}: must be at least {minimum}", param=self._name(key)
            )
        return number

    def float(self, key: str, default: float | None = None) -> float | None:
        value = self.data.get(key)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise InvalidRequest(f"Invalid decimal: {value}", param=self._name(key))

    def bool(self, key: str, default: bool | None = None) -> bool | None:
        value = self.data.get(key)
        if value is None or value == "":
            return default
        if value in ("true", True):
            return True
        if value in ("false", False):
            return False
        raise InvalidRequest(f"Invalid boolean: {value}", param=self._name(key))

    def dict(self, key: str) -> Params | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, list):  # e.g. "items[0]" decoded into a list
            value = {str(i): v for i, v in enumerate(value)}
        if not isinstance(value, dict):
            raise InvalidRequest(f"Invalid hash: {self._name(key)}", param=self._name(key))
        return Params(value, self._name(key))

    def list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, dict):  # sparse indices such as items[1] alone
            value = [
                value[k] for k in sorted(value, key=lambda k: int(k) if _INDEX.fullmatch(k) else 0)
            ]
        if not isinstance(value, list):
            raise InvalidRequest(f"Invalid array: {self._name(key)}", param=self._name(key))
        return value

    def dicts(self, key: str) -> list[Params]:
        out = []
        for i, item in enumerate(self.list(key)):
            if not isinstance(item, dict):
                raise InvalidRequest(
                    f"Invalid hash: {self._name(key)}[{i}]", param=f"{self._name(key)}[{i}]"
                )
            out.append(Params(item, f"{self._name(key)}[{i}]"))
        return out

    def metadata(self, current: dict[str, str] | None = None) -> dict[str, str] | None:
        """Merge ``metadata[...]`` into ``current`` as Stripe does (empty value unsets)."""
        if "metadata" not in self.data:
            return None
        value = self.data["metadata"]
        merged = dict(current or {})
        if value == "":
            return {}
        if isinstance(value, list):  # keys "0", "1", ... were decoded as a list
            value = {str(i): v for i, v in enumerate(value)}
        if not isinstance(value, dict):
            raise InvalidRequest("Invalid hash: metadata", param="metadata")
        for key, item in value.items():
            if item == "":
                merged.pop(key, None)
            else:
                merged[key] = str(item)
        return merged
