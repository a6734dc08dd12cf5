"""The session cookie: signed as Flask signs it, never opened on machine endpoints."""

from __future__ import annotations

from flask import Flask

from app.extensions import db
from app.sessions import SessionInterface, is_stateless

from ..conftest import WEBHOOK_SECRET
from . import factories as f


def test_webhook_paths_are_stateless_and_pages_are_not() -> None:
    assert is_stateless("/webhooks/stripe")
    assert is_stateless("/webhooks/stripe/acme")
    assert is_stateless("/webhooks/ses")
    assert not is_stateless("/webhooks")  # no such route; the prefix ends with its slash
    assert not is_stateless("/login")
    assert not is_stateless("/update-card/abc")


def test_a_webhook_never_reads_or_sets_the_session_cookie(web, ctx) -> None:
    owner = f.user()
    ws = f.workspace(owner)
    f.connection(ws, account="acct_sessions")
    db.session.commit()
    f.login(web, owner)  # a browser's cookie, sent along by mistake
    raw, headers = f.signed(f.event(account="acct_sessions"), WEBHOOK_SECRET)
    response = web.post("/webhooks/stripe", data=raw, headers=headers)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_pages_still_keep_their_session(web, ctx) -> None:
    owner = f.user()
    ws = f.workspace(owner)
    db.session.commit()
    f.login(web, owner)
    response = web.get("/dashboard")
    assert response.status_code == 200  # signed in: the overview, not the log-in page
    assert ws.name.encode() in response.data


def test_the_signing_serializer_is_built_once_per_secret_key() -> None:
    app = Flask("sessions")
    app.secret_key = "first-secret"
    interface = SessionInterface()
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    signed = first.dumps({"a": 1})
    app.secret_key = "second-secret"
    app.config["SECRET_KEY_FALLBACKS"] = ["first-secret"]
    second = interface.get_signing_serializer(app)
    assert second is not first
    assert second.loads(signed) == {"a": 1}  # the old key still reads old cookies
    app.secret_key = None
    assert interface.get_signing_serializer(app) is None
