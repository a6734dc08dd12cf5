"""Stripe Connect OAuth: ``/oauth/authorize``, ``/oauth/token``, ``/oauth/deauthorize``.

The platform is named by its ``client_id``: ``ca_X`` belongs to the platform account of
the key ``sk_test_X`` (``account_id_for_key(X)``), so every key has a client id without
any registration. Authorizing always connects a new sandbox account (standard, or
express on ``/express/oauth/authorize``) to that platform.

Grants live in ``State.oauth_codes`` (persisted with the state), keyed by their string:
authorization codes (``ac_``, single use), refresh tokens (``rt_``), and the access
tokens / publishable keys issued (``sk_test_`` / ``pk_test_``, also registered in
``State.keys`` until they are revoked). :func:`is_revoked` tells whether a key is an
access token that was revoked by ``/oauth/deauthorize``.

Errors of the token endpoints use Stripe's OAuth shape
``{"error": "invalid_grant", "error_description": "..."}``; the authorize page answers
a bad ``client_id`` or ``redirect_uri`` with an HTML error page (400) and every later
problem (a bad ``scope``, the user's Deny) with a redirect carrying ``error``.
"""

from __future__ import annotations

import html
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from .api import route
from .errors import StripeError
from .oauth_pages import consent_page, error_page
from .resources.accounts import connect_account
from .store import State, account_id_for_key, new_id
from .wire import decode

SCOPES = ("read_write", "read_only")
_SECRET_PREFIXES = ("sk_test_", "rk_test_")


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


# -- names ------------------------------------------------------------------------------------


def platform_for_client_id(client_id: str | None) -> str | None:
    """``ca_X`` -> the account of ``sk_test_X``; ``None`` for anything else."""
    if not client_id or not client_id.startswith("ca_") or len(client_id) <= 3:
        return None
    suffix = client_id[3:]
    if not all(c.isalnum() or c in "_-" for c in suffix) or len(suffix) > 200:
        return None
    return account_id_for_key(suffix)


def platform_name(state: State, client_id: str) -> str:
    platform = state.accounts.get(platform_for_client_id(client_id) or "")
    profile = platform.settings.get("profile", {}) if platform else {}
    if profile.get("business_name"):
        return profile["business_name"]
    words = client_id[3:].replace("_", " ").replace("-", " ").split()
    return " ".join(w.capitalize() if w.isalpha() else w for w in words) or client_id


def is_revoked(state: State, key: str) -> bool:
    """True for an OAuth access token (or publishable key) revoked by deauthorization."""
    grant = state.oauth_codes.get(key)
    return bool(
        grant and grant.get("kind") in ("access_token", "publishable_key") and grant.get("revoked")
    )


# -- /oauth/authorize -------------------------------------------------------------------------


def _valid_redirect(uri: str | None) -> bool:
    if not uri or len(uri) > 2000:
        return False
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def _redirect(uri: str, params: dict[str, str | None]) -> Response:
    """302 to ``uri`` with ``params`` added to its own query."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    target = urlunsplit(parts._replace(query=urlencode(query)))
    body = f'<!doctype html><title>Redirecting</title><a href="{html.escape(target)}">Continue</a>'
    response = Response(body, status=302, mimetype="text/html")
    response.headers["Location"] = target
    response.headers["Cache-Control"] = "no-store"
    return response


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else None


@route("GET", "/oauth/authorize", auth="none")
@route("GET", "/express/oauth/authorize", auth="none")
def authorize_page(state: State, request: Request) -> Response:
    express = request.path.startswith("/express/")
    try:
        params = decode(request.query_string.decode())
    except (StripeError, UnicodeDecodeError):
        return error_page("The authorization link is malformed.")
    client_id, redirect_uri = _str(params, "client_id"), _str(params, "redirect_uri")
    problem = _check_client(client_id, redirect_uri)
    if problem:
        return error_page(problem)
    assert client_id is not None and redirect_uri is not None
    oauth_state = _str(params, "state")
    if _str(params, "response_type") != "code":
        return _redirect(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "Only response_type=code is supported.",
                "state": oauth_state,
            },
        )
    scope = _str(params, "scope") or "read_only"
    if scope not in SCOPES:
        return _redirect(
            redirect_uri,
            {
                "error": "invalid_scope",
                "error_description": f"Invalid scope: {scope}. Use read_write or read_only.",
                "state": oauth_state,
            },
        )
    user = params.get("stripe_user")
    user = user if isinstance(user, dict) else {}
    with state.lock:
        name = platform_name(state, client_id)
    return consent_page(
        name,
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": oauth_state or "",
            "express": "true" if express else "",
            "email": _str(user, "email") or "",
            "business_name": _str(user, "business_name") or "",
        },
    )


def _check_client(client_id: str | None, redirect_uri: str | None) -> str | None:
    if not client_id:
        return "No client_id was provided. The link must name the platform's client_id (ca_...)."
    if platform_for_client_id(client_id) is None:
        return f"No such application: '{client_id}'."
    if not redirect_uri:
        return "No redirect_uri was provided. The sandbox needs one to send you back."
    if not _valid_redirect(redirect_uri):
        return "Invalid redirect_uri: it must be an absolute http(s) URL without a fragment."
    return None


@route("POST", "/oauth/authorize", auth="none")
def authorize_decision(state: State, request: Request) -> Response:
    form = dict(request.form.items())
    client_id, redirect_uri = _str(form, "client_id"), _str(form, "redirect_uri")
    problem = _check_client(client_id, redirect_uri)
    scope = _str(form, "scope") or "read_only"
    if not problem and scope not in SCOPES:
        problem = f"Invalid scope: {scope}."
    if problem:
        return error_page(problem)
    assert client_id is not None and redirect_uri is not None
    oauth_state = _str(form, "state") or None
    decision = _str(form, "decision")
    if decision == "deny":
        return _redirect(
            redirect_uri,
            {
                "error": "access_denied",
                "error_description": "The user denied your request",
                "state": oauth_state,
            },
        )
    if decision != "authorize":
        return error_page("Choose Authorize or Deny.")
    email = _str(form, "email") or None
    business_name = _str(form, "business_name") or None
    invalid = None
    if email and ("@" not in email or len(email) > 254 or any(c.isspace() for c in email)):
        invalid = "Enter a valid email address."
    elif business_name and len(business_name) > 100:
        invalid = "The business name is too long."
    platform_id = platform_for_client_id(client_id)
    assert platform_id is not None
    with state.lock:
        if invalid:
            return consent_page(
                platform_name(state, client_id),
                {
                    **form,
                    "email": email or "",
                    "business_name": business_name or "",
                    "state": oauth_state or "",
                },
                error=invalid,
            )
        state.account(platform_id)
        acct = connect_account(
            state,
            platform_id,
            email=email,
            business_name=business_name,
            kind="express" if form.get("express") == "true" else "standard",
        )
        code = new_id("ac", 32)
        state.oauth_codes[code] = {
            "kind": "authorization_code",
            "platform": platform_id,
            "client_id": client_id,
            "account": acct.id,
            "scope": scope,
            "redirect_uri": redirect_uri,
            "used": False,
            "created": int(time.time()),
        }
        state.dirty = True
    return _redirect(redirect_uri, {"code": code, "scope": scope, "state": oauth_state})
