"""Checkout Sessions in subscription mode: created, listed, expired by hand or on the
test clock (with a recovery URL when recovery is on, and the customer's promotional
consent), completed (customer, subscription, first invoice paid), and recovered into a
new session with the same line items; bad input is a 400 that changes nothing."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import stripe

from .shop import DAY, T0, Shop, open_shop

HOUR = 3600


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return open_shop(client)


def helper(client: stripe.StripeClient, session_id: str, action: str, **params: Any) -> Any:
    response = client.raw_request(
        "post", f"/v1/test_helpers/checkout/sessions/{session_id}/{action}", **params
    )
    return json.loads(response.body)


def new_session(shop: Shop, customer: Any | None = None, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": shop.pro.id, "quantity": 2}],
        "success_url": "https://shop.example/done?s={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/pricing",
        "after_expiration": {"recovery": {"enabled": True, "allow_promotion_codes": True}},
        "consent_collection": {"promotions": "auto"},
        **extra,
    }
    if customer is not None:
        params["customer"] = customer.id
    elif "customer_email" not in extra:
        params["customer_email"] = "ada@example.com"
    return shop.client.v1.checkout.sessions.create(params=params)


def test_a_session_expires_on_its_customers_clock_with_a_recovery_url(shop: Shop) -> None:
    customer = shop.client.v1.customers.create(
        params={"test_clock": shop.clock.id, "email": "ada@example.com"}
    )
    session = new_session(shop, customer, expires_at=T0 + HOUR)
    assert (session.status, session.mode, session.amount_total) == ("open", "subscription", 6000)
    assert session.url and session.after_expiration.recovery.url is None
    helper(shop.client, session.id, "fill", promotions="opt_in")
    shop.advance_to(T0 + HOUR - 60)
    assert shop.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    shop.advance_to(T0 + HOUR + 60)
    expired = shop.client.v1.checkout.sessions.retrieve(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert expired.consent.promotions == "opt_in"
    recovery = expired.after_expiration.recovery
    assert recovery.url and recovery.expires_at == T0 + HOUR + 30 * DAY
    (event,) = shop.events("checkout.session.expired")
    assert event.created == T0 + HOUR and event.data.object.id == session.id
    items = shop.client.v1.checkout.sessions.line_items.list(session.id).data
    assert [(i.price.id, i.quantity, i.amount_total) for i in items] == [(shop.pro.id, 2, 6000)]


def test_the_recovery_url_makes_a_new_session_that_completes_into_a_subscription(
    shop: Shop,
) -> None:
    session = new_session(shop)
    shop.client.v1.checkout.sessions.expire(session.id)
    expired = shop.client.v1.checkout.sessions.retrieve(session.id)
    with urllib.request.urlopen(expired.after_expiration.recovery.url, timeout=10) as page:
        landed = page.geturl()
        assert b"Subscribe" in page.read()
    fresh_id = landed.rsplit("/", 1)[1]
    fresh = shop.client.v1.checkout.sessions.retrieve(fresh_id)
    assert (fresh.status, fresh.recovered_from, fresh.customer_email) == (
        "open",
        session.id,
        "ada@example.com",
    )
    assert fresh.allow_promotion_codes is True
    again = helper(shop.client, session.id, "recover")
    assert again["id"] == fresh_id  # one open session per recovery
    done = helper(shop.client, fresh_id, "complete", promotions="opt_in")
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    assert done["consent"]["promotions"] == "opt_in"
    sub = shop.client.v1.subscriptions.retrieve(done["subscription"])
    assert sub.status == "active" and sub["items"].data[0].quantity == 2
    assert shop.client.v1.invoices.retrieve(done["invoice"]).status == "paid"
    customer = shop.client.v1.customers.retrieve(done["customer"])
    assert customer.email == "ada@example.com"
    (event,) = shop.events("checkout.session.completed")
    assert event.data.object.recovered_from == session.id
    listed = shop.client.v1.checkout.sessions.list(params={"status": "complete"}).data
    assert [s.id for s in listed] == [fresh_id]


def test_bad_input_is_a_400_and_changes_nothing(shop: Shop) -> None:
    before = len(shop.client.v1.checkout.sessions.list().data)
    with pytest.raises(stripe.InvalidRequestError, match="30 minutes and 24 hours"):
        new_session(shop, expires_at=T0 + 60)
    one_time = shop.client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "product": shop.pro.product}
    )
    with pytest.raises(stripe.InvalidRequestError, match="recurring"):
        new_session(shop, line_items=[{"price": one_time.id}])
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter"):
        new_session(shop, after_expiration={"recovery": {"enabled": True, "typo": 1}})
    assert len(shop.client.v1.checkout.sessions.list().data) == before
    session = new_session(shop, consent_collection="")
    with pytest.raises(stripe.InvalidRequestError, match="promotional consent"):
        helper(shop.client, session.id, "fill", promotions="opt_in")
    with pytest.raises(stripe.InvalidRequestError, match="cannot be recovered"):
        helper(shop.client, session.id, "recover")
    shop.client.v1.checkout.sessions.expire(session.id)
    with pytest.raises(stripe.InvalidRequestError, match='status in \\["open"\\]'):
        shop.client.v1.checkout.sessions.expire(session.id)
    with pytest.raises(stripe.InvalidRequestError, match="open"):
        helper(shop.client, session.id, "complete")
    assert shop.events("checkout.session.completed") == []


def test_a_declined_card_leaves_the_session_open(shop: Shop) -> None:
    session = new_session(shop)
    with pytest.raises(stripe.CardError):
        helper(shop.client, session.id, "complete", payment_method="pm_card_chargeCustomerFail")
    assert shop.client.v1.checkout.sessions.retrieve(session.id).status == "open"
