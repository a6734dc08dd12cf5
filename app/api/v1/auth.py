"""Bearer authentication with API keys, the key's scope, and the key a request's rate
limit counts against. The key is looked up once per request and kept with the request
(not in ``g``, which outlives a request when an app context is already pushed)."""

from __future__ import annotations

from flask import current_app, request

from ...accounts import api_keys
from ...accounts.models import ApiKey, Workspace
from ...extensions import db
from ...models import utcnow
from .errors import AUTHENTICATION, PERMISSION, ApiError

SCHEME = "bearer"
_KEPT = "backstop.api_key"


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != SCHEME or not token.strip():
        return None
    return token.strip()


def current_key() -> ApiKey:
    """The request's key, or a 401 (missing, unknown or revoked)."""
    found = request.environ.get(_KEPT)
    if found is not None:
        return found
    secret = _bearer()
    if secret is None:
        raise ApiError(
            401,
            "api_key_missing",
            "Send an API key in the Authorization header: `Authorization: Bearer bk_...`. "
            "Make one in Settings → API keys.",
            type_=AUTHENTICATION,
        )
    key = api_keys.find(db.session, secret)
    if key is None:
        raise ApiError(401, "api_key_invalid", "Invalid API key provided.", type_=AUTHENTICATION)
    if key.revoked_at is not None:
        raise ApiError(401, "api_key_revoked", "This API key was revoked.", type_=AUTHENTICATION)
    if api_keys.touch(db.session, key, now=utcnow()):
        # Its own small transaction: a read answers with a rollback.
        db.session.commit()
    request.environ[_KEPT] = key
    return key


def workspace() -> Workspace:
    key = current_key()
    found = db.session.get(Workspace, key.workspace_id)
    assert found is not None  # the key's row cascades with its workspace
    return found


def require_write() -> ApiKey:
    key = current_key()
    if key.scope != "read_write":
        raise ApiError(
            403,
            "read_only_key",
            "This key is read-only; make a key with read and write access for this request.",
            type_=PERMISSION,
        )
    return key


def rate_limit_key() -> str:
    """Each key has its own budget (Flask-Limiter's key function)."""
    return f"api-key:{current_key().id}"


def rate_limit() -> str:
    return current_app.config["BACKSTOP"].api_rate_limit
