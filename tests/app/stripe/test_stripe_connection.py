"""Connecting Stripe with a restricted key, importing the mirror, disconnecting —
against the sandbox, through the official SDK."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from app.crypto import decrypt
from app.extensions import db
from app.stripe.models import MirrorCustomer, MirrorInvoice, MirrorSubscription, StripeConnection

from ...conftest import make_client
from .. import factories as f
from ..forms import submit


@pytest.fixture
def merchant(sandbox_url):
    """A merchant's own Stripe account in the sandbox, with a little history."""
    key = "rk_test_" + secrets.token_hex(8)
    client = make_client(sandbox_url, key)
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    )
    for i in range(7):
        customer = client.v1.customers.create(
            params={
                "email": f"c{i}@example.com",
                "name": f"Customer {i}",
                "payment_method": "pm_card_visa",
            }
        )
        pm = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
        client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price.id}],
                "default_payment_method": pm.id,
            }
        )
    return key, client


@pytest.fixture
def owner(web, ctx):
    user = f.user("owner@example.com")
    ws = f.workspace(user, "Acme")
    db.session.commit()
    f.login(web, user)
    return user, ws


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_restricted_key_connects_and_imports(web, owner, merchant, app, monkeypatch) -> None:
    _, ws = owner
    key, client = merchant
    from dataclasses import replace

    # Several pages, each its own task, resumed from the saved cursor.
    monkeypatch.setitem(app.config, "BACKSTOP", replace(app.config["BACKSTOP"], import_page_size=3))
    response = submit(web, "/settings/stripe/restricted-key", {"key": key}, page="/settings/stripe")
    assert response.status_code == 302
    connection = db.session.execute(select(StripeConnection)).scalar_one()
    assert connection.mode == "restricted_key" and connection.is_connected
    assert decrypt(connection.secret_enc) == key and key not in connection.secret_enc
    assert connection.import_status == "done"
    assert connection.import_progress["customers"]["count"] == 7
    assert (count(MirrorCustomer), count(MirrorSubscription), count(MirrorInvoice)) == (7, 7, 7)
    # Backstop added its own endpoint to the merchant's account, with the secret we keep.
    endpoints = client.v1.webhook_endpoints.list().data
    assert [e.url for e in endpoints] == [f"http://localhost/webhooks/stripe/{ws.slug}"]
    assert "invoice.payment_failed" in endpoints[0].enabled_events
    page = web.get("/customers").get_data(as_text=True)
    assert "c0@example.com" in page and "Customer 6" in page
    assert "Test mode" in web.get("/dashboard").get_data(as_text=True)


def test_a_bad_key_is_refused_and_changes_nothing(web, owner) -> None:
    for bad in ("pk_test_nope", "not a key"):
        response = submit(
            web, "/settings/stripe/restricted-key", {"key": bad}, page="/settings/stripe"
        )
        assert response.status_code == 400
    assert count(StripeConnection) == 0


def test_disconnect_removes_our_endpoint_and_turns_off(web, owner, merchant) -> None:
    key, client = merchant
    submit(web, "/settings/stripe/restricted-key", {"key": key}, page="/settings/stripe")
    response = submit(web, "/settings/stripe/disconnect", {}, page="/settings/stripe")
    assert response.status_code == 302
    connection = db.session.execute(select(StripeConnection)).scalar_one()
    assert connection.status == "disconnected" and connection.disconnect_reason == "merchant"
    assert client.v1.webhook_endpoints.list().data == []
    assert "Stripe not connected" in web.get("/dashboard").get_data(as_text=True)


def test_viewers_cannot_connect_or_disconnect(web, ctx, merchant) -> None:
    ws = f.workspace()
    viewer = f.member(ws, "viewer")
    db.session.commit()
    f.login(web, viewer)
    key, _ = merchant
    assert (
        submit(
            web, "/settings/stripe/restricted-key", {"key": key}, page="/settings/stripe"
        ).status_code
        == 403
    )
    assert web.get("/stripe/connect").status_code == 403
    assert count(StripeConnection) == 0


def test_events_from_the_sandbox_reach_the_workspace_endpoint(
    web, owner, merchant, sandbox_url
) -> None:
    """The sandbox signs with the endpoint secret Backstop stored; intake accepts it."""
    _, ws = owner
    key, client = merchant
    submit(web, "/settings/stripe/restricted-key", {"key": key}, page="/settings/stripe")
    connection = db.session.execute(select(StripeConnection)).scalar_one()
    secret = decrypt(connection.webhook_secret_enc)
    customer = client.v1.customers.create(params={"email": "late@example.com"})
    listing = client.v1.events.list(params={"limit": 1})
    event = listing.last_response.data["data"][0]
    assert event["data"]["object"]["id"] == customer.id
    raw, headers = f.signed(event, secret)
    assert web.post(f"/webhooks/stripe/{ws.slug}", data=raw, headers=headers).status_code == 200
    assert (
        db.session.execute(
            select(MirrorCustomer.email).where(MirrorCustomer.stripe_id == customer.id)
        ).scalar_one()
        == "late@example.com"
    )
