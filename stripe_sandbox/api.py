"""The route registry and what every handler receives.

Resource modules declare their endpoints with :func:`route`; a handler gets a
:class:`Ctx` (the account, the parameters, the clock, ``emit``) plus the path's
variables, and returns a Stripe object or list. The WSGI app in ``server.py`` does
the wire work around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import InvalidRequest, NotFound
from .store import Account, State
from .wire import Params


@dataclass
class Route:
    method: str
    path: str
    handler: Callable[..., Any]
    auth: str  # "secret", "publishable" (Stripe.js), or "none"
    params: frozenset[str] | None  # top-level parameters taken; None: not checked


ROUTES: list[Route] = []
COMMON = ("expand",)
LIST_PARAMS = ("limit", "starting_after", "ending_before", "created")


def route(method: str, path: str, *, auth: str = "secret", params: tuple[str, ...] | None = None):
    """Register an endpoint; with ``params``, any other top-level parameter is a 400, as on
    Stripe (a typo in the product's calls fails here, not only in production)."""
    allowed = frozenset(params + COMMON) if params is not None else None

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append(Route(method, path, fn, auth, allowed))
        return fn

    return decorate


@dataclass(frozen=True)
class RawBody:
    """A handler's answer that is not JSON (a file's contents)."""

    data: bytes
    mimetype: str


class Ctx:
    """One request against one account."""

    def __init__(
        self,
        state: State,
        acct: Account,
        params: Params,
        *,
        base_url: str,
        request: Any = None,
        key: str | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ):
        self.state = state
        self.acct = acct
        self.params = params
        self.base_url = base_url.rstrip("/")
        self.request = request
        self.key = key
        self.idempotency_key = idempotency_key
        self.request_id = request_id

    # -- time ---------------------------------------------------------------------------
    def now(self, clock_id: str | None = None) -> int:
        return self.state.now(self.acct, clock_id)

    def now_for_customer(self, customer_id: str | None) -> int:
        return self.state.now_for_customer(self.acct, customer_id)

    # -- lookups --------------------------------------------------------------------------
    def load(
        self, kind: str, oid: str | None, *, label: str | None = None, param: str = "id"
    ) -> dict[str, Any]:
        obj = self.acct.get(oid, kind) if isinstance(oid, str) else None
        if obj is None:
            raise NotFound(label or kind.replace("_", " "), str(oid), param=param)
        return obj

    def apply(
        self, obj: dict[str, Any], *, strings: tuple[str, ...] = (), flags: tuple[str, ...] = ()
    ) -> None:
        """Copy the given string fields (an empty value unsets) and boolean flags from the
        parameters onto ``obj``, and merge ``metadata[...]`` as Stripe does."""
        for name in strings:
            if name in self.params:
                obj[name] = self.params.nullable_str(name)
        for name in flags:
            if name in self.params:
                obj[name] = bool(self.params.bool(name))
        metadata = self.params.metadata(obj.get("metadata"))
        if metadata is not None:
            obj["metadata"] = metadata

    def emit_changes(
        self, event_type: str, obj: dict[str, Any], before: dict[str, Any]
    ) -> dict[str, Any]:
        """Emit ``event_type`` with ``previous_attributes`` when anything changed."""
        from .events import changed

        previous = changed(before, obj)
        if previous:
            self.emit(event_type, obj, previous=previous)
        return previous

    def emit(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        previous: dict[str, Any] | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        from .events import emit  # events imports api-free modules only

        return emit(
            self.state,
            self.acct,
            event_type,
            obj,
            previous=previous,
            created=created,
            request_id=self.request_id,
            idempotency_key=self.idempotency_key,
        )


def require_choice(value: str | None, choices: tuple[str, ...], param: str) -> None:
    if value is not None and value not in choices:
        raise InvalidRequest(f"Invalid {param}: must be one of {', '.join(choices)}", param=param)
