"""Stripe Connect OAuth's token endpoints: ``/oauth/token`` and ``/oauth/deauthorize``
(the consent flow is in ``oauth.py``). Errors use Stripe's OAuth shape
``{"error": "invalid_grant", "error_description": "..."}``."""

from __future__ import annotations

import base64
import json
from typing import Any

from werkzeug.wrappers import Request, Response

from .api import route
from .errors import StripeError
from .events import emit
from .oauth import (
    _SECRET_PREFIXES,
    SCOPES,
    OAuthError,
    _str,
    is_revoked,
    platform_for_client_id,
    platform_name,
)
from .store import State, account_id_for_key, new_id
from .wire import decode

# -- /oauth/token and /oauth/deauthorize ------------------------------------------------------


def _oauth_json(payload: dict[str, Any], status: int = 200) -> Response:
    response = Response(json.dumps(payload), status=status, mimetype="application/json")
    response.headers["Request-Id"] = new_id("req", 14)
    response.headers["Cache-Control"] = "no-store"
    return response


def _params(request: Request) -> dict[str, Any]:
    try:
        return {**decode(request.query_string.decode()), **decode(request.get_data(as_text=True))}
    except (StripeError, UnicodeDecodeError):
        raise OAuthError("invalid_request", "The request body could not be parsed.")


def _platform_key(state: State, request: Request, params: dict[str, Any]) -> str:
    """The caller's account: ``client_secret`` if given, else the Authorization header."""
    key = _str(params, "client_secret") or ""
    header = request.headers.get("Authorization", "")
    if not key and header.startswith("Bearer "):
        key = header[7:].strip()
    elif not key and header.startswith("Basic "):
        try:
            key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    if not key:
        raise OAuthError(
            "invalid_client",
            "No authentication was provided. Send your secret "
            "API key as the client_secret parameter or as a Bearer token.",
            401,
        )
    if not key.startswith(_SECRET_PREFIXES) or len(key) <= 8 or is_revoked(state, key):
        raise OAuthError("invalid_client", f"Invalid API Key provided: {_redact(key)}", 401)
    return state.keys.get(key) or account_id_for_key(key[8:])


def _issue(state: State, grant: dict[str, Any], refresh_token: str) -> dict[str, Any]:
    access = "sk_test_" + new_id("oa", 32)[3:]
    state.keys[access] = grant["account"]
    state.oauth_codes[access] = {
        "kind": "access_token",
        "platform": grant["platform"],
        "account": grant["account"],
        "scope": grant["scope"],
        "revoked": False,
    }
    publishable = grant.get("publishable_key")
    if not publishable:
        publishable = "pk_test_" + new_id("oa", 32)[3:]
        state.keys[publishable] = grant["account"]
        state.oauth_codes[publishable] = {
            "kind": "publishable_key",
            "platform": grant["platform"],
            "account": grant["account"],
            "revoked": False,
        }
    state.dirty = True
    return {
        "access_token": access,
        "livemode": False,
        "refresh_token": refresh_token,
        "scope": grant["scope"],
        "stripe_publishable_key": publishable,
        "stripe_user_id": grant["account"],
        "token_type": "bearer",
    }


def _oauth_call(fn):
    def handler(state: State, request: Request) -> Response:
        try:
            params = _params(request)
            with state.lock:
                return _oauth_json(fn(state, request, params))
        except OAuthError as exc:
            return _oauth_json(
                {"error": exc.error, "error_description": exc.description}, exc.status
            )

    handler.__name__ = fn.__name__
    return handler


def _token(state: State, request: Request, params: dict[str, Any]) -> dict[str, Any]:
    platform_id = _platform_key(state, request, params)
    grant_type = _str(params, "grant_type")
    if grant_type == "authorization_code":
        code = _str(params, "code")
        if not code:
            raise OAuthError("invalid_request", "No authorization code provided")
        grant = state.oauth_codes.get(code)
        if not grant or grant.get("kind") != "authorization_code":
            raise OAuthError("invalid_grant", f"Authorization code does not exist: {code}")
        if grant["platform"] != platform_id:
            raise OAuthError(
                "invalid_grant", f"Authorization code provided does not belong to you: {code}"
            )
        if grant["used"]:
            raise OAuthError("invalid_grant", f"Authorization code already used: {code}")
        grant["used"] = True
        refresh = new_id("rt", 32)
        record = {
            "kind": "refresh_token",
            "platform": platform_id,
            "client_id": grant["client_id"],
            "account": grant["account"],
            "scope": grant["scope"],
            "revoked": False,
        }
        state.oauth_codes[refresh] = record
        token = _issue(state, record, refresh)
        record["publishable_key"] = token["stripe_publishable_key"]
        return token
    if grant_type == "refresh_token":
        refresh = _str(params, "refresh_token")
        if not refresh:
            raise OAuthError("invalid_request", "No refresh token provided")
        record = state.oauth_codes.get(refresh)
        if (
            not record
            or record.get("kind") != "refresh_token"
            or record["revoked"]
            or record["platform"] != platform_id
        ):
            raise OAuthError("invalid_grant", f"Invalid refresh token: {refresh}")
        scope = _str(params, "scope") or record["scope"]
        if scope not in SCOPES or (record["scope"] == "read_only" and scope == "read_write"):
            raise OAuthError("invalid_scope", f"Invalid scope: {scope}")
        return _issue(state, {**record, "scope": scope}, refresh)
    if not grant_type:
        raise OAuthError("invalid_request", "No grant type specified")
    raise OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant_type}")


def _deauthorize(state: State, request: Request, params: dict[str, Any]) -> dict[str, Any]:
    platform_id = _platform_key(state, request, params)
    client_id, user_id = _str(params, "client_id"), _str(params, "stripe_user_id")
    if not client_id:
        raise OAuthError("invalid_request", "No client_id provided")
    if platform_for_client_id(client_id) != platform_id:
        raise OAuthError("invalid_client", f"No such application: '{client_id}'", 401)
    if not user_id:
        raise OAuthError("invalid_request", "No stripe_user_id provided")
    acct = state.accounts.get(user_id)
    if acct is None or acct.platform_id != platform_id:
        raise OAuthError(
            "invalid_client",
            f"This application is not connected to stripe "
            f"account {user_id}, or that account does not exist.",
        )
    application = {
        "id": client_id,
        "object": "application",
        "name": platform_name(state, client_id),
    }
    # Emitted while still connected: the event carries ``account`` and reaches the
    # platform's Connect webhook endpoints.
    emit(state, acct, "account.application.deauthorized", application)
    for key, grant in state.oauth_codes.items():
        if grant.get("account") == user_id and grant.get("platform") == platform_id:
            if grant["kind"] == "authorization_code":
                grant["used"] = True
            else:
                grant["revoked"] = True
                if state.keys.get(key) == user_id:
                    del state.keys[key]
    acct.platform_id = None
    state.dirty = True
    return {"stripe_user_id": user_id}


route("POST", "/oauth/token", auth="none")(_oauth_call(_token))
route("POST", "/oauth/deauthorize", auth="none")(_oauth_call(_deauthorize))


def _redact(key: str) -> str:
    return key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
