"""Webhook delivery: matching endpoints only, signed, retried with backoff on failure,
Connect endpoints for connected accounts' events."""

from __future__ import annotations

import stripe

from .conftest import Receiver, make_client


def test_only_enabled_events_are_delivered(client: stripe.StripeClient, receiver: Receiver) -> None:
    client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.updated"]}
    )
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    client.v1.customers.update(customer.id, params={"name": "Ann"})
    client.raw_request("post", "/v1/test_helpers/sandbox/webhooks/flush")
    events = receiver.events()
    assert [e["type"] for e in events] == ["customer.updated"]
    assert events[0]["data"]["previous_attributes"] == {"name": None}
    assert events[0]["data"]["object"]["name"] == "Ann"


def test_a_failing_receiver_is_retried_until_it_answers(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["*"]}
    )
    receiver.status = 500
    client.v1.customers.create(params={"email": "a@example.com"})
    with receiver.cond:
        assert receiver.cond.wait_for(lambda: len(receiver.requests) >= 2, 10)
    receiver.status = 200
    delivered = receiver.wait_for(lambda got: len(got) == 1)
    first, retried = receiver.requests[0], receiver.requests[-1]
    assert first["body"] == retried["body"]  # the same event, signed afresh each time
    stripe.Webhook.construct_event(
        retried["body"], retried["headers"]["Stripe-Signature"], endpoint.secret
    )
    # the receiver answers before the sandbox records the attempt: wait for it to settle
    client.raw_request("post", "/v1/test_helpers/sandbox/webhooks/flush")
    attempts = client.raw_request("get", "/v1/test_helpers/sandbox/webhook_attempts")
    statuses = [
        a["status"]
        for a in client.deserialize(attempts, api_mode="V1")["data"]
        if a["event"] == delivered[0]["id"]
    ]
    assert statuses[:2] == [500, 500] and statuses[-1] == 200


def test_connect_endpoints_get_connected_accounts_events(
    sandbox_url: str, api_key: str, receiver: Receiver
) -> None:
    platform = make_client(sandbox_url, api_key)
    platform.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["*"], "connect": True}
    )
    account = platform.v1.accounts.create(params={"type": "standard"})
    platform.v1.customers.create(params={"email": "own@example.com"})  # the platform's own
    connected = make_client(sandbox_url, api_key, stripe_account=account.id)
    customer = connected.v1.customers.create(params={"email": "theirs@example.com"})
    platform.raw_request("post", "/v1/test_helpers/sandbox/webhooks/flush")
    events = receiver.events()
    assert [(e["type"], e.get("account")) for e in events] == [("customer.created", account.id)]
    assert events[0]["data"]["object"]["id"] == customer.id
