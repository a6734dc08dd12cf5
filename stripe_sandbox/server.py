"""The WSGI application: auth, connected accounts, idempotency, routing, errors.

Handlers in ``resources/`` see only a :class:`~stripe_sandbox.api.Ctx`; everything that
makes a request look like Stripe on the wire happens here.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib
import json
import re
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import api
from .errors import (
    AuthenticationError,
    IdempotencyError,
    InvalidRequest,
    PermissionDenied,
    StripeError,
)
from .oauth import is_revoked
from .render import expand
from .store import State, account_id_for_key, new_id
from .wire import Params, decode

RESOURCE_MODULES = (
    "customers",
    "tax_ids",
    "payment_methods",
    "setup_intents",
    "catalog",
    "subscriptions",
    "subscription_updates",
    "subscription_items",
    "charges",
    "invoice_previews",
    "invoices",
    "invoice_pages",
    "invoiceitems",
    "payments",
    "payment_confirm",
    "disputes",
    "files",
    "refunds",
    "events",
    "test_clocks",
    "checkout_sessions",
    "checkout_pages",
    "sandbox",
    "accounts",
)
PAGE_MODULES = ("stripe_sandbox.oauth", "stripe_sandbox.oauth_tokens", "stripe_sandbox.stripejs")

_KEY_PREFIXES = ("sk_test_", "rk_test_")
_PARAM_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
MAX_BODY = 1024 * 1024
#: ``POST /v1/files``: Stripe takes files up to 5 MB (plus the multipart envelope).
MAX_UPLOAD = 6 * 1024 * 1024


def _load_routes() -> Map:
    for name in RESOURCE_MODULES:
        importlib.import_module(f"stripe_sandbox.resources.{name}")
    for name in PAGE_MODULES:
        importlib.import_module(name)
    seen: set[tuple[str, str]] = set()
    rules = []
    for index, r in enumerate(api.ROUTES):
        if (
            r.params is None
            and r.auth == "secret"
            and r.method in ("GET", "DELETE")
            and r.path.endswith(">")
        ):
            # Retrieving or deleting one object takes nothing but expand[], as on Stripe.
            api.ROUTES[index] = r = dataclasses.replace(r, params=frozenset(api.COMMON))
        if (r.method, r.path) in seen:
            continue
        seen.add((r.method, r.path))
        rules.append(Rule(r.path, methods=[r.method], endpoint=index))
    return Map(rules, strict_slashes=False)


def key_account_suffix(key: str) -> str:
    """``sk_test_X``, ``rk_test_X`` and ``pk_test_X`` all belong to the account of X."""
    for prefix in (*_KEY_PREFIXES, "pk_test_"):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


class SandboxApp:
    def __init__(self, state: State):
        self.state = state
        self.url_map = _load_routes()
        self.holds = state.holds

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request.max_content_length = MAX_UPLOAD if _is_upload(request) else MAX_BODY
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        request_id = new_id("req", 14)
        try:
            adapter = self.url_map.bind_to_environ(request.environ)
            index, path_args = adapter.match()
        except MethodNotAllowed:
            return self._error(
                StripeError(
                    f"Unrecognized request URL ({request.method}: {request.path}).", extra={}
                ),
                request_id,
                status=405,
            )
        except RouteNotFound:
            return self._error(
                StripeError(
                    f"Unrecognized request URL ({request.method}: {request.path}). "
                    "Please see https://stripe.com/docs or we can help at "
                    "https://support.stripe.com/."
                ),
                request_id,
                status=404,
            )
        except HTTPException as exc:  # pragma: no cover - werkzeug redirects
            return exc.get_response()
        route = api.ROUTES[index]
        try:
            if route.auth == "none":
                return route.handler(self.state, request, **path_args)
            response = self._api_call(route, request, path_args, request_id)
        except StripeError as exc:
            response = self._error(exc, request_id)
        if route.auth == "publishable":  # Stripe.js calls these from the merchant's origin
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Expose-Headers"] = "Request-Id, Stripe-Version"
        return response

    # -- the /v1 API --------------------------------------------------------------------
    def _api_call(
        self, route: api.Route, request: Request, path_args: dict[str, Any], request_id: str
    ) -> Response:
        key = self._api_key(request, route)
        query = request.query_string.decode()
        if _is_upload(request):
            try:
                form = urlencode(list(request.form.items(multi=True)))
                names = dict.fromkeys(request.files, "")  # the handler reads request.files
            except RequestEntityTooLarge:
                raise InvalidRequest("The file is larger than 5 MB.", param="file")
            params = Params({**decode(query), **decode(form), **names})
        else:
            body = request.get_data(as_text=True) if request.method in ("POST", "DELETE") else ""
            params = Params({**decode(query), **decode(body)})
        for name in params:
            if not _PARAM_NAME.match(name) or (
                route.params is not None and name not in route.params
            ):
                raise InvalidRequest(f"Received unknown parameter: {name}", param=name)
        idem_key = request.headers.get("Idempotency-Key")
        self.holds.wait(request.method, request.path)  # outside the lock: others go on
        with self.state.lock:
            acct = self._account(request, key)
            fingerprint = ""
            if idem_key and request.method == "POST":
                fingerprint = hashlib.sha256(
                    f"{request.method} {request.path}\n{_canonical(params.data)}".encode()
                ).hexdigest()
                cached = self.state.idempotency.get(acct.id, idem_key)
                if cached is not None:
                    if cached[0] != fingerprint:
                        raise IdempotencyError(
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other "
                            f"than '{idem_key}' if you meant to execute a different request."
                        )
                    return self._json(cached[2], cached[1], request_id, replayed=True)
            ctx = api.Ctx(
                self.state,
                acct,
                params,
                base_url=request.host_url,
                request=request,
                key=key,
                idempotency_key=idem_key,
                request_id=request_id,
            )
            try:
                result = route.handler(ctx, **path_args)
                if isinstance(result, api.RawBody):
                    return Response(result.data, mimetype=result.mimetype)
                status = 200
                payload = json.dumps(self._render(ctx, result)).encode()
            except StripeError as exc:
                status, payload = exc.status, json.dumps(exc.body()).encode()
            if request.method != "GET":
                self.state.dirty = True
            # Stripe saves a result only once the endpoint started executing: a request
            # refused for its parameters can be fixed and retried with the same key.
            if idem_key and request.method == "POST" and (status < 400 or status == 402):
                self.state.idempotency.put(acct.id, idem_key, fingerprint, status, payload)
        return self._json(payload, status, request_id)

    def _render(self, ctx: api.Ctx, result: Any) -> Any:
        paths = ctx.params.list("expand")
        if not paths or not isinstance(result, dict):
            return result
        return expand(ctx.acct, result, paths)

    def _api_key(self, request: Request, route: api.Route) -> str:
        header = request.headers.get("Authorization", "")
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        allowed = _KEY_PREFIXES + (("pk_test_",) if route.auth == "publishable" else ())
        if not key:
            raise AuthenticationError(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY')."
            )
        if not key.startswith(allowed) or len(key) <= len("sk_test_"):
            raise AuthenticationError(f"Invalid API Key provided: {_redact(key)}")
        return key

    def _account(self, request: Request, key: str):
        if is_revoked(self.state, key):
            raise AuthenticationError(
                f"Expired API Key provided: {_redact(key)}. Application access may have "
                "been revoked.",
                code="api_key_expired",
            )
        own = self.state.keys.get(key) or account_id_for_key(key_account_suffix(key))
        acct = self.state.account(own)
        wanted = request.headers.get("Stripe-Account")
        if not wanted or wanted == own:
            return acct
        target = self.state.accounts.get(wanted)
        if target is None or target.platform_id != own:
            raise PermissionDenied(
                f"The provided key '{_redact(key)}' does not have access to account "
                f"'{wanted}' (or that account does not exist). Application access may "
                "have been revoked.",
                code="account_invalid",
            )
        return target

    # -- responses ------------------------------------------------------------------------
    @staticmethod
    def _json(payload: bytes, status: int, request_id: str, replayed: bool = False) -> Response:
        response = Response(payload, status=status, mimetype="application/json")
        response.headers["Request-Id"] = request_id
        response.headers["Stripe-Version"] = "2026-10-28.endive"
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    def _error(self, exc: StripeError, request_id: str, status: int | None = None) -> Response:
        return self._json(json.dumps(exc.body()).encode(), status or exc.status, request_id)


def _is_upload(request: Request) -> bool:
    return request.method == "POST" and request.mimetype == "multipart/form-data"


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _redact(key: str) -> str:
    return key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
