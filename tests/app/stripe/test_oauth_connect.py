"""Connecting through Stripe Connect OAuth: Backstop -> the sandbox's consent page ->
back with a code -> token -> connection, import, and deauthorization by Stripe."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from app.extensions import db
from app.stripe.models import StripeConnection

from ...conftest import WEBHOOK_SECRET, make_client
from .. import factories as f


def _consent(web, decision: str) -> str:
    """Follow Backstop's redirect to the consent page and press a button; returns the
    path and query Stripe redirects back to."""
    start = web.get("/stripe/connect")
    assert start.status_code == 302
    authorize_url = start.location
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert query["client_id"] == "ca_backstop_tests"
    assert query["redirect_uri"] == "http://localhost/stripe/oauth/callback"
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200 and "Authorize" in page.text
    form = {k: query.get(k, "") for k in ("client_id", "redirect_uri", "scope", "state")}
    answer = requests.post(
        authorize_url.split("?")[0],
        data={**form, "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def test_oauth_connect_imports_and_deauthorization_turns_it_off(
    web, ctx, sandbox_url, receiver
) -> None:
    owner = f.user("owner@example.com")
    f.workspace(owner, "Acme")
    db.session.commit()
    f.login(web, owner)
    callback = web.get(_consent(web, "authorize"))
    assert callback.status_code == 302 and callback.location.endswith("/dashboard")
    connection = db.session.execute(select(StripeConnection)).scalar_one()
    assert connection.mode == "oauth" and connection.stripe_account_id.startswith("acct_")
    assert connection.import_status == "done"
    assert "Test mode" in web.get("/dashboard").get_data(as_text=True)

    # The merchant revokes access at Stripe; Stripe tells the platform's Connect endpoint.
    platform = make_client(sandbox_url, "sk_test_backstop_tests", client_id="ca_backstop_tests")
    endpoint = platform.v1.webhook_endpoints.create(
        params={
            "url": receiver.url,
            "enabled_events": ["account.application.deauthorized"],
            "connect": True,
        }
    )
    try:
        platform.oauth.deauthorize(params={"stripe_user_id": connection.stripe_account_id})
        delivered = receiver.wait_for(lambda got: bool(got))
    finally:
        platform.v1.webhook_endpoints.delete(endpoint.id)
    raw_event = delivered[0]
    assert raw_event["type"] == "account.application.deauthorized"
    assert raw_event["account"] == connection.stripe_account_id
    raw, headers = f.signed(raw_event, WEBHOOK_SECRET)
    assert web.post("/webhooks/stripe", data=raw, headers=headers).status_code == 200
    db.session.refresh(connection)
    assert connection.status == "disconnected" and connection.disconnect_reason == "deauthorized"


def test_denying_on_stripe_connects_nothing(web, ctx) -> None:
    owner = f.user()
    f.workspace(owner)
    db.session.commit()
    f.login(web, owner)
    back = web.get(_consent(web, "deny"))
    assert back.status_code == 302 and back.location.endswith("/settings/stripe")
    assert db.session.execute(select(StripeConnection)).first() is None


def test_a_callback_with_a_forged_state_is_refused(web, ctx) -> None:
    owner = f.user()
    f.workspace(owner)
    db.session.commit()
    f.login(web, owner)
    web.get("/stripe/connect")
    assert web.get("/stripe/oauth/callback?code=ac_x&state=forged").status_code == 400
    assert web.get("/stripe/oauth/callback?code=ac_x").status_code == 400
    assert db.session.execute(select(StripeConnection)).first() is None
