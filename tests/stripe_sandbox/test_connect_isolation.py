"""Connect isolation: connected accounts of one platform, and a second platform, never see
each other's objects, lists or events, and a platform reaches only its own accounts."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import stripe

from .conftest import Receiver, make_client
from .test_oauth import connect_via_oauth, platform_client


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _flush(client: stripe.StripeClient) -> None:
    client.raw_request("post", "/v1/test_helpers/sandbox/webhooks/flush")


def test_connected_accounts_and_platforms_are_isolated(
    sandbox_url: str, api_key: str, receiver: Receiver, second_receiver: Receiver
) -> None:
    platform = platform_client(sandbox_url, api_key)
    rival = platform_client(sandbox_url, "sk_test_" + secrets.token_hex(12))
    platform.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.created"], "connect": True}
    )
    rival.v1.webhook_endpoints.create(
        params={"url": second_receiver.url, "enabled_events": ["*"], "connect": True}
    )

    token = connect_via_oauth(sandbox_url, platform)  # connected through OAuth
    one = token.stripe_user_id
    two = platform.v1.accounts.create(params={"type": "standard"}).id  # through the API
    three = connect_via_oauth(sandbox_url, rival).stripe_user_id  # the rival's own
    as_one = {"stripe_account": one}
    as_two = {"stripe_account": two}

    c1 = platform.v1.customers.create(params={"email": "one@example.com"}, options=as_one)
    c2 = platform.v1.customers.create(params={"email": "two@example.com"}, options=as_two)
    own = platform.v1.customers.create(params={"email": "platform@example.com"})
    c3 = rival.v1.customers.create(
        params={"email": "three@example.com"}, options={"stripe_account": three}
    )

    # each object lives only in its own account
    merchant = make_client(sandbox_url, token.access_token)
    assert merchant.v1.customers.retrieve(c1.id).email == "one@example.com"
    for client, options, cid in [
        (platform, as_two, c1.id),
        (platform, {}, c1.id),
        (merchant, {}, c2.id),
        (platform, as_one, c2.id),
        (platform, as_one, own.id),
        (rival, {}, c1.id),
        (platform, as_one, c3.id),
        (merchant, {}, own.id),
    ]:
        with pytest.raises(stripe.InvalidRequestError) as missing:
            client.v1.customers.retrieve(cid, options=options)
        assert missing.value.http_status == 404

    # lists are disjoint
    def ids(client: stripe.StripeClient, options: dict[str, str]) -> set[str]:
        return {c.id for c in client.v1.customers.list(options=options).data}

    assert ids(platform, as_one) == {c1.id} == ids(merchant, {})
    assert ids(platform, as_two) == {c2.id}
    assert ids(platform, {}) == {own.id}
    assert ids(rival, {}) == set()
    assert ids(rival, {"stripe_account": three}) == {c3.id}

    # events are disjoint, and those of connected accounts name the account
    def events(client: stripe.StripeClient, options: dict[str, str]) -> list[stripe.Event]:
        return list(
            client.v1.events.list(params={"type": "customer.created"}, options=options).data
        )

    assert [(e.data.object.id, e.account) for e in events(platform, as_one)] == [(c1.id, one)]
    assert [(e.data.object.id, e.account) for e in events(platform, as_two)] == [(c2.id, two)]
    assert [e.data.object.id for e in events(platform, {})] == [own.id]
    assert "account" not in events(platform, {})[0].to_dict()  # the platform's own event
    with pytest.raises(stripe.InvalidRequestError):
        platform.v1.events.retrieve(events(platform, as_one)[0].id)

    # a platform cannot reach another platform's accounts, nor an account its sibling
    for client, target in [(rival, one), (rival, two), (platform, three), (merchant, two)]:
        with pytest.raises(stripe.PermissionError) as refused:
            client.v1.customers.list(options={"stripe_account": target})
        assert refused.value.http_status == 403
    with pytest.raises(stripe.InvalidRequestError):
        rival.v1.accounts.retrieve(one)
    assert {a.id for a in platform.v1.accounts.list().data} == {one, two}
    assert {a.id for a in rival.v1.accounts.list().data} == {three}

    # Connect webhooks: each platform hears its own connected accounts only
    _flush(platform)
    heard = receiver.wait_for(lambda got: len(got) >= 2)
    assert sorted((e["account"], e["data"]["object"]["id"]) for e in heard) == sorted(
        [(one, c1.id), (two, c2.id)]
    )
    rival_heard = second_receiver.wait_for(
        lambda got: any(e["data"]["object"].get("id") == c3.id for e in got)
    )
    assert {e.get("account") for e in rival_heard} == {three}
    assert all(e["data"]["object"].get("id") not in (c1.id, c2.id, own.id) for e in rival_heard)
