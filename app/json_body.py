"""The request class: its JSON body can be read so that no body a client sends is a 500."""

from __future__ import annotations

from typing import Any

from flask import Request as FlaskRequest
from werkzeug.exceptions import BadRequest


class Request(FlaskRequest):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Flask's, plus JSON nested past the interpreter's recursion limit (``[[[[…``):
        that raises RecursionError, which ``silent`` (a ValueError only) lets through."""
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("The body is JSON nested too deep.")
