"""The session cookie: Flask's signed cookie, minus work a request does not need.

- Machine endpoints (``/webhooks/...``: Stripe, SES, Resend) authenticate by signature
  and never read or write a session, so they get Flask's null session: no cookie is
  parsed, none is ever set.
- The signing serializer is built once per secret key, not on every request as Flask's
  own interface does (a fresh ``URLSafeTimedSerializer`` costs a test ``dumps``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from .observability.health import PROBE_PATHS

#: Path prefixes served without a session: machine endpoints (webhooks, the health
#: checks and /metrics).
STATELESS_PREFIXES = ("/webhooks/", *PROBE_PATHS)


def is_stateless(path: str) -> bool:
    return path.startswith(STATELESS_PREFIXES)


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {key: serializer}  # a changed key replaces the old one
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_stateless(request.path):
            return None  # Flask substitutes its null session, which is never saved
        return super().open_session(app, request)
