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

import base64
import html
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from .api import route
from .errors import StripeError
from .events import emit
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
        return _error_page("The authorization link is malformed.")
    client_id, redirect_uri = _str(params, "client_id"), _str(params, "redirect_uri")
    problem = _check_client(client_id, redirect_uri)
    if problem:
        return _error_page(problem)
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
    return _consent_page(
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
        return _error_page(problem)
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
        return _error_page("Choose Authorize or Deny.")
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
            return _consent_page(
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


# -- pages ------------------------------------------------------------------------------------

_STYLE = """*{box-sizing:border-box}
body{margin:0;min-height:100vh;background:#f6f8fa;color:#1a1f36;display:flex;align-items:center;
 justify-content:center;padding:24px;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",
 Roboto,Helvetica,Arial,sans-serif}
main{width:100%;max-width:440px;background:#fff;border:1px solid #e3e8ee;border-radius:10px;
 box-shadow:0 2px 6px rgba(26,31,54,.06);padding:32px}
.badge{display:inline-block;font-size:12px;font-weight:600;letter-spacing:.02em;color:#8a5a00;
 background:#fff4d6;border-radius:4px;padding:2px 8px;margin-bottom:16px}
h1{font-size:20px;line-height:1.35;margin:0 0 8px;font-weight:600} p{margin:0 0 16px;color:#4f566b}
ul{margin:0 0 20px;padding-left:20px;color:#4f566b}
.box{border:1px solid #e3e8ee;border-radius:8px;padding:12px 14px;margin:0 0 20px}
.box strong{display:block;font-weight:600} .box span{font-size:13px;color:#697386}
label{display:block;font-size:13px;font-weight:600;margin:0 0 4px}
.opt{font-weight:400;color:#8792a2}
input{width:100%;font:inherit;padding:8px 10px;border:1px solid #cfd7df;border-radius:6px;
 margin:0 0 14px;color:#1a1f36} input:focus{outline:2px solid #7a9cf5;border-color:#7a9cf5}
.actions{display:flex;flex-direction:row-reverse;gap:12px;margin-top:8px}
button{flex:1;font:inherit;font-weight:600;padding:10px 14px;border-radius:6px;cursor:pointer}
.primary{background:#1a1f36;color:#fff;border:1px solid #1a1f36}
.secondary{background:#fff;color:#1a1f36;border:1px solid #cfd7df}
.error{color:#b3093c;background:#fff0f3;border-radius:6px;padding:8px 12px}
.foot{font-size:12px;color:#8792a2;margin:20px 0 0;word-break:break-all}"""

_CAN_READ = "View your account's data, such as customers, subscriptions and invoices"
_CAN_WRITE = "Create and change objects such as charges, customers and subscriptions"
_CAN_HEAR = "Receive notifications about events in your account"
_SCOPE_TEXT = {
    "read_write": [_CAN_READ, _CAN_WRITE, _CAN_HEAR],
    "read_only": [_CAN_READ, _CAN_HEAR],
}


def _shell(title: str, body: str, status: int = 200) -> Response:
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _consent_page(name: str, fields: dict[str, Any], error: str | None = None) -> Response:
    e = html.escape
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{e(str(fields.get(k) or ""))}">'
        for k in ("client_id", "redirect_uri", "scope", "state", "express")
    )
    items = "".join(f"<li>{e(t)}</li>" for t in _SCOPE_TEXT.get(fields["scope"], []))
    host = urlsplit(str(fields["redirect_uri"])).netloc
    problem = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    body = (
        '<div class="badge">Test mode &middot; Stripe sandbox</div>'
        f"<h1>{e(name)} would like to connect to your Stripe account</h1>"
        f"<p>If you authorize, {e(name)} will be able to:</p><ul>{items}</ul>"
        '<div class="box"><strong>A new sandbox account</strong>'
        "<span>Created in test mode and connected to this platform.</span></div>"
        f'{problem}<form method="post" action="/oauth/authorize">{hidden}'
        '<label for="business_name">Business name <span class="opt">(optional)</span></label>'
        '<input type="text" id="business_name" name="business_name" maxlength="100" '
        f'autocomplete="organization" value="{e(str(fields.get("business_name") or ""))}">'
        '<label for="email">Email <span class="opt">(optional)</span></label>'
        '<input type="email" id="email" name="email" maxlength="254" autocomplete="email" '
        f'value="{e(str(fields.get("email") or ""))}">'
        '<div class="actions">'
        '<button type="submit" name="decision" value="authorize" class="primary">'
        "Authorize access</button>"
        '<button type="submit" name="decision" value="deny" class="secondary">Deny</button>'
        "</div></form>"
        f'<p class="foot">You will be sent back to {e(host)}.</p>'
    )
    return _shell(f"Connect to {name}", body, 400 if error else 200)


def _error_page(message: str) -> Response:
    body = (
        '<div class="badge">Test mode &middot; Stripe sandbox</div>'
        "<h1>This authorization link is not valid</h1>"
        f'<p class="error" role="alert">{html.escape(message)}</p>'
        "<p>Go back to the application you came from and try again.</p>"
    )
    return _shell("Authorization error", body, 400)
