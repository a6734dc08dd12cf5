"""Setup intents through the official SDK: a good card, a decline, 3-D Secure approved and
failed on the sandbox's challenge page, publishable-key access with the client secret,
setup attempts, and connected-account isolation."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import requests
import stripe

from .intents import answer_challenge, publishable

#: The top-level keys of Stripe's objects (fixtures3.json ``resources.setup_intent`` and
#: ``resources.setup_attempt``).
SETUP_INTENT_KEYS = {
    "application",
    "automatic_payment_methods",
    "cancellation_reason",
    "client_secret",
    "created",
    "customer",
    "description",
    "flow_directions",
    "id",
    "last_setup_error",
    "latest_attempt",
    "livemode",
    "mandate",
    "metadata",
    "next_action",
    "object",
    "on_behalf_of",
    "payment_method",
    "payment_method_configuration_details",
    "payment_method_options",
    "payment_method_types",
    "single_use_mandate",
    "status",
    "usage",
    "excluded_payment_method_types",
}
SETUP_ATTEMPT_KEYS = {
    "application",
    "created",
    "customer",
    "flow_directions",
    "id",
    "livemode",
    "object",
    "on_behalf_of",
    "payment_method",
    "payment_method_details",
    "setup_error",
    "setup_intent",
    "status",
    "usage",
    "customer_account",
}


def event_types(client: stripe.StripeClient, **options: Any) -> list[str]:
    events = client.v1.events.list(params={"limit": 100}, options=options or None)
    return [e.type for e in reversed(events.data)]


def test_good_card_succeeds_and_attaches(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "ada@example.com"})
    si = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "payment_method_types": ["card"],
            "metadata": {"plan": "pro"},
        }
    )
    assert si.status == "requires_payment_method"
    assert si.usage == "off_session"
    assert si.client_secret.startswith(si.id + "_secret_")
    assert set(si.to_dict()) == SETUP_INTENT_KEYS

    si = client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    assert si.status == "succeeded"
    assert si.last_setup_error is None
    assert si.latest_attempt.startswith("setatt_")
    pm = client.v1.payment_methods.retrieve(si.payment_method)
    assert pm.customer == customer.id
    assert pm.card.last4 == "4242"

    attempts = client.v1.setup_attempts.list(params={"setup_intent": si.id}).data
    assert [a.id for a in attempts] == [si.latest_attempt]
    assert attempts[0].status == "succeeded"
    assert attempts[0].payment_method == pm.id
    assert set(attempts[0].to_dict()) == SETUP_ATTEMPT_KEYS
    assert event_types(client) == [
        "customer.created",
        "setup_intent.created",
        "payment_method.attached",
        "setup_intent.succeeded",
    ]

    listed = client.v1.setup_intents.list(params={"customer": customer.id}).data
    assert [s.id for s in listed] == [si.id]
    assert client.v1.setup_intents.list(params={"customer": "cus_other"}).data == []
    expanded = client.v1.setup_intents.retrieve(
        si.id, params={"expand": ["latest_attempt", "payment_method"]}
    )
    assert expanded.latest_attempt.status == "succeeded"
    assert expanded.payment_method.id == pm.id

    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    assert again.value.code == "setup_intent_unexpected_state"


def test_create_and_confirm_in_one_call_with_card_data(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    si = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "confirm": True,
            "usage": "on_session",
            "payment_method_data": {
                "type": "card",
                "card": {
                    "number": "5555555555554444",
                    "exp_month": "4",
                    "exp_year": "41",
                    "cvc": "123",
                },
                "billing_details": {"address": {"postal_code": "94107"}},
            },
        }
    )
    assert (si.status, si.usage) == ("succeeded", "on_session")
    pm = client.v1.payment_methods.retrieve(si.payment_method)
    assert (pm.card.brand, pm.card.exp_year, pm.customer) == ("mastercard", 2041, customer.id)
    assert pm.billing_details.address.postal_code == "94107"


def test_decline_returns_402_and_resets_the_intent(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    si = client.v1.setup_intents.create(params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as declined:
        client.v1.setup_intents.confirm(
            si.id, params={"payment_method": "pm_card_visa_chargeDeclinedInsufficientFunds"}
        )
    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert declined.value.error.decline_code == "insufficient_funds"
    assert declined.value.error.setup_intent.status == "requires_payment_method"

    si = client.v1.setup_intents.retrieve(si.id)
    assert si.status == "requires_payment_method"
    assert si.payment_method is None
    error = si.last_setup_error
    assert (error.type, error.code, error.decline_code) == (
        "card_error",
        "card_declined",
        "insufficient_funds",
    )
    assert error.message == "Your card has insufficient funds."
    assert error.payment_method.customer is None
    attempt = client.v1.setup_attempts.list(params={"setup_intent": si.id}).data[0]
    assert attempt.status == "failed"
    assert attempt.setup_error.decline_code == "insufficient_funds"
    assert "setup_intent.setup_failed" in event_types(client)
    assert "payment_method.attached" not in event_types(client)

    si = client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    assert si.status == "succeeded"
    assert si.last_setup_error is None
    assert len(client.v1.setup_attempts.list(params={"setup_intent": si.id}).data) == 2


def test_three_d_secure_approved(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    si = client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method": "pm_card_authenticationRequiredOnSetup"}
    )
    assert si.status == "requires_confirmation"
    si = client.v1.setup_intents.confirm(si.id)
    assert si.status == "requires_action"
    assert si.next_action.type == "use_stripe_sdk"
    url = si.next_action.use_stripe_sdk.stripe_js
    assert client.v1.payment_methods.retrieve(si.payment_method).customer is None
    assert event_types(client)[-1] == "setup_intent.requires_action"

    done = answer_challenge(url, "approve")
    assert done.status_code == 200
    assert "stripe-sandbox:3ds-complete" in done.text
    si = client.v1.setup_intents.retrieve(si.id)
    assert si.status == "succeeded"
    assert si.next_action is None
    assert client.v1.payment_methods.retrieve(si.payment_method).customer == customer.id
    attempt = client.v1.setup_attempts.list(params={"setup_intent": si.id}).data[0]
    tds = attempt.payment_method_details.card.three_d_secure
    assert (attempt.status, tds.result) == ("succeeded", "authenticated")
    assert event_types(client)[-2:] == ["payment_method.attached", "setup_intent.succeeded"]
    # the page is single use: opened again it only reports the outcome
    assert "Authentication complete" in requests.get(url, timeout=10).text


def test_three_d_secure_failed(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    si = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "confirm": True,
            "payment_method": "pm_card_authenticationRequired",
        }
    )
    assert si.status == "requires_action"
    answer_challenge(si.next_action.use_stripe_sdk.stripe_js, "fail")
    si = client.v1.setup_intents.retrieve(si.id)
    assert si.status == "requires_payment_method"
    assert si.last_setup_error.code == "setup_intent_authentication_failure"
    assert si.last_setup_error.type == "invalid_request_error"
    assert si.payment_method is None
    assert event_types(client)[-1] == "setup_intent.setup_failed"
    attempt = client.v1.setup_attempts.list(params={"setup_intent": si.id}).data[0]
    assert attempt.status == "failed"
    assert attempt.payment_method_details.card.three_d_secure.result == "failed"
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []


def test_redirect_flow_returns_to_return_url(client: stripe.StripeClient) -> None:
    si = client.v1.setup_intents.create(
        params={
            "confirm": True,
            "payment_method": "pm_card_threeDSecure2Required",
            "return_url": "https://shop.example/done?x=1",
        }
    )
    assert si.next_action.type == "redirect_to_url"
    assert si.next_action.redirect_to_url.return_url == "https://shop.example/done?x=1"
    back = answer_challenge(si.next_action.redirect_to_url.url, "approve")
    assert back.status_code == 303
    assert back.headers["Location"] == (
        f"https://shop.example/done?x=1&setup_intent={si.id}"
        f"&setup_intent_client_secret={si.client_secret}&redirect_status=succeeded"
    )
    assert client.v1.setup_intents.retrieve(si.id).status == "succeeded"


def test_challenge_page_needs_the_client_secret(client: stripe.StripeClient) -> None:
    si = client.v1.setup_intents.create(
        params={"confirm": True, "payment_method": "pm_card_authenticationRequiredOnSetup"}
    )
    url = si.next_action.use_stripe_sdk.stripe_js
    assert requests.get(url.split("?")[0], timeout=10).status_code == 404
    forged = requests.post(
        url.split("?")[0],
        timeout=10,
        data={"client_secret": si.id + "_secret_nope", "result": "approve"},
    )
    assert forged.status_code == 404
    assert client.v1.setup_intents.retrieve(si.id).status == "requires_action"


def test_publishable_key_needs_the_client_secret(
    client: stripe.StripeClient, sandbox_url: str, api_key: str
) -> None:
    pk = publishable(sandbox_url, api_key)
    si = client.v1.setup_intents.create(params={"customer": client.v1.customers.create().id})
    seen = pk.v1.setup_intents.retrieve(si.id, params={"client_secret": si.client_secret})
    assert seen.id == si.id
    with pytest.raises(stripe.InvalidRequestError) as missing:
        pk.v1.setup_intents.retrieve(si.id)
    assert missing.value.error.param == "client_secret"
    with pytest.raises(stripe.InvalidRequestError) as wrong:
        pk.v1.setup_intents.retrieve(si.id, params={"client_secret": si.id + "_secret_x"})
    assert wrong.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError):
        pk.v1.setup_intents.confirm(
            si.id, params={"payment_method": "pm_card_visa", "client_secret": "seti_x_secret_y"}
        )
    for call in (
        lambda: pk.v1.setup_intents.create(),
        lambda: pk.v1.setup_intents.list(),
        lambda: pk.v1.setup_intents.cancel(si.id),
    ):
        with pytest.raises(stripe.AuthenticationError):
            call()

    si = pk.v1.setup_intents.confirm(
        si.id, params={"payment_method": "pm_card_visa", "client_secret": si.client_secret}
    )
    assert si.status == "succeeded"


def test_update_and_cancel(client: stripe.StripeClient) -> None:
    si = client.v1.setup_intents.create(params={"description": "first"})
    customer = client.v1.customers.create()
    si = client.v1.setup_intents.update(
        si.id, params={"customer": customer.id, "description": "second", "metadata": {"k": "v"}}
    )
    assert (si.customer, si.description, si.metadata.to_dict()) == (
        customer.id,
        "second",
        {"k": "v"},
    )
    si = client.v1.setup_intents.cancel(si.id, params={"cancellation_reason": "abandoned"})
    assert (si.status, si.cancellation_reason) == ("canceled", "abandoned")
    with pytest.raises(stripe.InvalidRequestError) as canceled:
        client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    assert canceled.value.code == "setup_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.setup_intents.retrieve("seti_missing")
    assert missing.value.http_status == 404
    assert "setup_intent.canceled" in event_types(client)


def test_connected_account_isolation(
    client: stripe.StripeClient, sandbox_url: str, api_key: str
) -> None:
    connected = client.v1.accounts.create(params={"type": "standard"}).id
    as_connected = {"stripe_account": connected}
    si = client.v1.setup_intents.create(
        params={"payment_method_types": ["card"]}, options=as_connected
    )
    with pytest.raises(stripe.InvalidRequestError) as elsewhere:
        client.v1.setup_intents.retrieve(si.id)
    assert elsewhere.value.http_status == 404
    assert client.v1.setup_intents.list().data == []

    pk = publishable(sandbox_url, api_key)
    secret = {"client_secret": si.client_secret}
    assert pk.v1.setup_intents.retrieve(si.id, params=secret, options=as_connected).id == si.id
    with pytest.raises(stripe.InvalidRequestError):
        pk.v1.setup_intents.retrieve(si.id, params=secret)
    rival = publishable(sandbox_url, "sk_test_" + secrets.token_hex(12))
    with pytest.raises(stripe.PermissionError):
        rival.v1.setup_intents.retrieve(si.id, params=secret, options=as_connected)

    done = pk.v1.setup_intents.confirm(
        si.id, params={**secret, "payment_method": "pm_card_visa"}, options=as_connected
    )
    assert done.status == "succeeded"
    assert event_types(client, stripe_account=connected)[-1] == "setup_intent.succeeded"
    assert "setup_intent.succeeded" not in event_types(client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.setup_attempts.list(params={"setup_intent": si.id})
    attempts = client.v1.setup_attempts.list(params={"setup_intent": si.id}, options=as_connected)
    assert len(attempts.data) == 1


def test_cors_preflight_for_stripe_js(client: stripe.StripeClient, sandbox_url: str) -> None:
    si = client.v1.setup_intents.create()
    for path in (f"/v1/setup_intents/{si.id}", f"/v1/setup_intents/{si.id}/confirm"):
        answer = requests.options(
            sandbox_url + path,
            timeout=10,
            headers={
                "Origin": "http://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,stripe-account,content-type",
            },
        )
        assert answer.status_code == 204
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        allowed = answer.headers["Access-Control-Allow-Headers"].lower()
        assert {"authorization", "stripe-account", "content-type"} <= {
            h.strip() for h in allowed.split(",")
        }
    script = requests.get(sandbox_url + "/v3/", timeout=10)
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "window.Stripe = Stripe" in script.text
