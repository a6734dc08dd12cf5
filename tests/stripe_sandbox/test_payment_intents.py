"""Payment intents and 3-D Secure through the official SDK: a renewal that needs the
customer to authenticate, ``invoices.pay`` off session on it, the challenge approved or
failed (the invoice paid or still open), on-session confirmation, the redirect flow, and
publishable-key access with the client secret."""

from __future__ import annotations

import secrets

import pytest
import requests
import stripe

from .intents import (
    answer_challenge,
    event_ids,
    events_since,
    publishable,
    renewal_needing_authentication,
)

AUTH_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)
PAID_EVENTS = [
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice_payment.paid",
    "invoice.paid",
    "invoice.payment_succeeded",
    "customer.subscription.updated",
]


@pytest.mark.parametrize(
    "pm", ["pm_card_sandbox_authentication_required", "pm_card_authenticationRequired"]
)
def test_renewal_needing_authentication(
    client: stripe.StripeClient, sandbox_url: str, pm: str
) -> None:
    _, invoice, pi = renewal_needing_authentication(client, pm)
    error = pi.last_payment_error
    assert (error.type, error.code, error.decline_code) == (
        "card_error",
        "authentication_required",
        "authentication_required",
    )
    assert pi.next_action.type == "use_stripe_sdk"
    assert pi.next_action.use_stripe_sdk.type == "three_d_secure_redirect"
    assert pi.next_action.use_stripe_sdk.stripe_js.startswith(f"{sandbox_url}/v3/authenticate/")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.failure_code) == ("failed", "authentication_required")
    types = events_since(client, set())
    assert types.index("payment_intent.requires_action") < types.index(
        "invoice.payment_action_required"
    )

    seen = event_ids(client)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id, params={"off_session": True})
    assert caught.value.http_status == 402
    assert caught.value.code == "authentication_required"
    assert caught.value.error.decline_code == "authentication_required"
    assert caught.value.error.payment_intent.status == "requires_action"
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_action"
    assert client.v1.invoices.retrieve(invoice.id).attempt_count == 2
    assert events_since(client, seen) == [
        "charge.failed",
        "payment_intent.payment_failed",
        "payment_intent.requires_action",
        "invoice.payment_failed",
        "invoice.payment_action_required",
    ]


def test_approved_challenge_pays_the_invoice(client: stripe.StripeClient) -> None:
    sub, invoice, pi = renewal_needing_authentication(client)
    seen = event_ids(client)
    done = answer_challenge(pi.next_action.use_stripe_sdk.stripe_js, "approve")
    assert "stripe-sandbox:3ds-complete" in done.text
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert (pi.status, pi.amount_received, pi.next_action) == ("succeeded", 2000, None)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.status == "succeeded"
    assert charge.payment_method_details.card.three_d_secure.result == "authenticated"
    invoice = client.v1.invoices.retrieve(invoice.id)
    assert (invoice.status, invoice.amount_paid, invoice.attempt_count) == ("paid", 2000, 2)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert events_since(client, seen) == PAID_EVENTS


def test_failed_challenge_leaves_the_invoice_open(client: stripe.StripeClient) -> None:
    sub, invoice, pi = renewal_needing_authentication(client)
    seen = event_ids(client)
    url = pi.next_action.use_stripe_sdk.stripe_js
    answer_challenge(url, "fail")
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert (pi.status, pi.next_action) == ("requires_payment_method", None)
    error = pi.last_payment_error
    assert (error.type, error.code, error.message) == (
        "invalid_request_error",
        "payment_intent_authentication_failure",
        AUTH_FAILED,
    )
    assert error.payment_method.card.last4 == "0007"
    assert client.v1.invoices.retrieve(invoice.id).status == "open"
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    assert events_since(client, seen) == ["payment_intent.payment_failed"]
    assert "Authentication failed" in requests.get(url, timeout=10).text  # single use


def test_on_session_confirmation_asks_before_charging(
    client: stripe.StripeClient, sandbox_url: str, api_key: str
) -> None:
    customer = client.v1.customers.create()
    pi = client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
        }
    )
    assert (pi.status, pi.latest_charge) == ("requires_action", None)
    assert client.v1.charges.list(params={"customer": customer.id}).data == []
    answer_challenge(pi.next_action.use_stripe_sdk.stripe_js, "fail")
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"

    pk = publishable(sandbox_url, api_key)
    again = pk.v1.payment_intents.confirm(
        pi.id, params={"client_secret": pi.client_secret, "use_stripe_sdk": True}
    )
    assert again.status == "requires_action"
    assert "customer" not in again  # a publishable key sees Stripe's subset
    page = requests.get(again.next_action.use_stripe_sdk.stripe_js, timeout=10)
    assert "authorize a payment of EUR 15.00" in page.text
    answer_challenge(again.next_action.use_stripe_sdk.stripe_js, "approve")
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert (pi.status, pi.last_payment_error) == ("succeeded", None)
    assert events_since(client, set())[-2:] == ["charge.succeeded", "payment_intent.succeeded"]


def test_redirect_flow_returns_to_return_url(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "usd",
            "payment_method": "pm_card_threeDSecure2Required",
            "confirm": True,
            "return_url": "https://shop.example/paid?x=1",
        }
    )
    assert pi.next_action.type == "redirect_to_url"
    back = answer_challenge(pi.next_action.redirect_to_url.url, "approve")
    assert back.status_code == 303
    assert back.headers["Location"] == (
        f"https://shop.example/paid?x=1&payment_intent={pi.id}"
        f"&payment_intent_client_secret={pi.client_secret}&redirect_status=succeeded"
    )
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_publishable_key_needs_the_client_secret(
    client: stripe.StripeClient, sandbox_url: str, api_key: str
) -> None:
    pk = publishable(sandbox_url, api_key)
    customer = client.v1.customers.create()
    pi = client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "customer": customer.id}
    )
    with pytest.raises(stripe.InvalidRequestError) as missing:
        pk.v1.payment_intents.retrieve(pi.id)
    assert (missing.value.http_status, missing.value.error.param) == (400, "client_secret")
    with pytest.raises(stripe.InvalidRequestError) as wrong:
        pk.v1.payment_intents.retrieve(pi.id, params={"client_secret": pi.id + "_secret_x"})
    assert wrong.value.code == "payment_intent_invalid_parameter"
    with pytest.raises(stripe.InvalidRequestError):
        pk.v1.payment_intents.confirm(
            pi.id, params={"payment_method": "pm_card_visa", "client_secret": "pi_x_secret_y"}
        )
    seen = pk.v1.payment_intents.retrieve(pi.id, params={"client_secret": pi.client_secret})
    assert (seen.id, seen.status, seen.amount) == (pi.id, "requires_payment_method", 2000)
    assert "customer" not in seen and "metadata" not in seen
    full = client.v1.payment_intents.retrieve(pi.id, params={"client_secret": pi.client_secret})
    assert full.customer == customer.id  # a secret key sees everything
    for call in (
        lambda: pk.v1.payment_intents.create(params={"amount": 100, "currency": "usd"}),
        lambda: pk.v1.payment_intents.list(),
        lambda: pk.v1.payment_intents.update(pi.id, params={"description": "x"}),
        lambda: pk.v1.payment_intents.cancel(pi.id),
    ):
        with pytest.raises(stripe.AuthenticationError):
            call()
    rival = publishable(sandbox_url, "sk_test_" + secrets.token_hex(12))
    with pytest.raises(stripe.InvalidRequestError) as elsewhere:
        rival.v1.payment_intents.retrieve(pi.id, params={"client_secret": pi.client_secret})
    assert elsewhere.value.http_status == 404


def test_cors_preflight_for_payment_intents(client: stripe.StripeClient, sandbox_url: str) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    for path in (f"/v1/payment_intents/{pi.id}", f"/v1/payment_intents/{pi.id}/confirm"):
        answer = requests.options(
            sandbox_url + path,
            timeout=10,
            headers={"Origin": "http://shop.example", "Access-Control-Request-Method": "POST"},
        )
        assert answer.status_code == 204
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
