"""The request class: no body, form, query or path a client sends is a 500.

Two kinds of input get past Flask's own parsing and only fail deep inside a view:

- JSON nested past the interpreter's recursion limit (``[[[[…``) raises
  RecursionError, which ``get_json(silent=True)`` (a ValueError only) lets through;
- text holding a NUL character (``\\x00``), which PostgreSQL's text columns refuse
  with a DataError on the first INSERT or WHERE that carries it.

Both are refused here with a 400, so no view has to remember either.
"""

from __future__ import annotations

from typing import Any

from flask import Request as FlaskRequest
from werkzeug.exceptions import BadRequest

from .nul import NUL, holds_nul

NUL_REFUSED = "Text may not contain NUL characters (\\x00)."


def _multidict_holds_nul(pairs: Any) -> bool:
    return any(NUL in key or NUL in value for key, value in pairs.items(multi=True))


class Request(FlaskRequest):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Flask's, refusing JSON nested too deep and strings holding NUL: None when
        ``silent`` (as for any body that is not JSON), else a 400."""
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("The body is JSON nested too deep.") from None
        if holds_nul(value):
            if silent:
                return None
            raise BadRequest(NUL_REFUSED)
        return value

    def _load_form_data(self) -> None:
        """Flask's, then a 400 for a form field (name or value) or file name holding
        NUL. The parsed form stays cached, so error pages and logs can still read it."""
        super()._load_form_data()
        names = (upload.filename or "" for upload in self.files.values())
        if _multidict_holds_nul(self.form) or any(NUL in name for name in names):
            raise BadRequest(NUL_REFUSED)


def refuse_nul_in_url(request: Request) -> None:
    """A 400 for a path or query string holding NUL (``%00``); run before every view."""
    if NUL in request.path or _multidict_holds_nul(request.args):
        raise BadRequest(NUL_REFUSED)
