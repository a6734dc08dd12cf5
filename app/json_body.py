"""The request's JSON body, read so that no body a client can send is a 500."""

from __future__ import annotations

from typing import Any

from flask import request


def request_json(*, force: bool = False) -> Any:
    """The parsed body, or None when it is missing or not JSON. ``silent`` covers a
    ValueError only; nesting deeper than the interpreter's recursion limit (``[[[[...``)
    raises RecursionError."""
    try:
        return request.get_json(force=force, silent=True)
    except RecursionError:
        return None
