"""The wire contract, through the official SDK and through raw ``requests``: bodies, auth,
error shapes and statuses, idempotency, pagination, ``expand[]``, API version and
``Stripe-Account`` headers."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import pytest
import requests
import stripe

from .conftest import make_client

API_VERSION = "2026-10-28.endive"


def raw(
    sandbox_url: str,
    method: str,
    path: str,
    key: str | None = None,
    *,
    basic: bool = False,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """One HTTP request as any non-SDK client would make it."""
    sent = dict(headers or {})
    if key is not None:
        if basic:
            sent["Authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        else:
            sent["Authorization"] = f"Bearer {key}"
    return requests.request(method, sandbox_url + path, headers=sent, timeout=10, **kwargs)


def error_of(response: requests.Response, status: int) -> dict[str, Any]:
    """Stripe's error shape: JSON ``{"error": {"type", "message", ...}}`` and a request id."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Request-Id"].startswith("req_")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error["type"], str) and isinstance(error["message"], str)
    assert error["message"]
    return error


# -- nested-bracket bodies --------------------------------------------------------------------


def test_sdk_nested_params_arrive_nested(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={
            "email": "ada@example.com",
            "metadata": {"plan": "pro", "seats": "5"},
            "address": {"city": "London", "country": "GB", "line1": "1 Main St"},
            "preferred_locales": ["en", "fr"],
        }
    )
    assert customer.metadata.to_dict() == {"plan": "pro", "seats": "5"}
    assert (customer.address.city, customer.address.country) == ("London", "GB")
    assert customer.preferred_locales == ["en", "fr"]
    product = client.v1.products.create(params={"name": "Pro"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month", "interval_count": 3},
        }
    )
    assert (price.recurring.interval, price.recurring.interval_count) == ("month", 3)
    customer = client.v1.customers.update(customer.id, params={"metadata": {"plan": ""}})
    assert customer.metadata.to_dict() == {"seats": "5"}


def test_sdk_items_array_of_hashes(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_790_000_000})
    customer = client.v1.customers.create(
        params={"test_clock": clock.id, "payment_method": "pm_card_visa"}
    )
    pm = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": pm.id}}
    )
    product = client.v1.products.create(params={"name": "Seats"})
    prices = [
        client.v1.prices.create(
            params={
                "product": product.id,
                "currency": "usd",
                "unit_amount": amount,
                "recurring": {"interval": "month"},
            }
        )
        for amount in (1000, 200)
    ]
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": prices[0].id}, {"price": prices[1].id, "quantity": 3}],
            "metadata": {"source": "wire"},
        }
    )
    items = sub["items"].data
    assert [(i.price.id, i.quantity) for i in items] == [(prices[0].id, 1), (prices[1].id, 3)]


def test_raw_bracket_body_and_expand_forms(sandbox_url: str, api_key: str) -> None:
    pm = raw(
        sandbox_url,
        "POST",
        "/v1/payment_methods",
        api_key,
        data=(
            "type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2034"
            "&billing_details[address][postal_code]=94107&metadata[k]=v"
        ),
    ).json()
    assert pm["billing_details"]["address"]["postal_code"] == "94107"
    assert pm["metadata"] == {"k": "v"}
    body = (
        "email=raw@example.com&metadata[plan]=pro&metadata[tier]=gold"
        f"&payment_method={pm['id']}"
        f"&invoice_settings[default_payment_method]={pm['id']}"
    )
    for expand in (
        "expand[]=invoice_settings.default_payment_method",
        "expand[0]=invoice_settings.default_payment_method",
    ):
        response = raw(sandbox_url, "POST", "/v1/customers", api_key, data=f"{body}&{expand}")
        assert response.status_code == 200, response.text
        customer = response.json()
        assert customer["metadata"] == {"plan": "pro", "tier": "gold"}
        expanded = customer["invoice_settings"]["default_payment_method"]
        assert expanded["object"] == "payment_method" and expanded["id"] == pm["id"]
        pm = raw(
            sandbox_url,
            "POST",
            "/v1/payment_methods",
            api_key,
            data=("type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2034"),
        ).json()
        body = body.rsplit("&payment_method=", 1)[0] + (
            f"&payment_method={pm['id']}&invoice_settings[default_payment_method]={pm['id']}"
        )
    cid = customer["id"]
    for query in (
        "expand[]=invoice_settings.default_payment_method",
        "expand[0]=invoice_settings.default_payment_method",
    ):
        got = raw(sandbox_url, "GET", f"/v1/customers/{cid}?{query}", api_key).json()
        assert got["invoice_settings"]["default_payment_method"]["object"] == "payment_method"
    plain = raw(sandbox_url, "GET", f"/v1/customers/{cid}", api_key).json()
    assert isinstance(plain["invoice_settings"]["default_payment_method"], str)


def test_numeric_metadata_keys_are_kept(client: stripe.StripeClient) -> None:
    """Metadata keys are free-form: ``metadata[0]=x`` is the key "0" (Stripe knows
    ``metadata`` is a hash). The sandbox read it as a list and answered 400."""
    customer = client.v1.customers.create(params={"metadata": {"0": "zero", "1": "one"}})
    assert customer.metadata.to_dict() == {"0": "zero", "1": "one"}


def test_unicode_digit_metadata_keys_are_kept(client: stripe.StripeClient) -> None:
    """``"²".isdigit()`` is true but it is no index; the sandbox crashed (HTML 500)."""
    customer = client.v1.customers.create(params={"metadata": {"²": "squared"}})
    assert customer.metadata.to_dict() == {"²": "squared"}


@pytest.mark.parametrize("body", ["a[b=1", "a]=1", "[a]=1", "email=a&email[x]=b"])
def test_malformed_bodies_get_a_json_400(sandbox_url: str, api_key: str, body: str) -> None:
    response = raw(
        sandbox_url,
        "POST",
        "/v1/customers",
        api_key,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert error_of(response, 400)["type"] == "invalid_request_error"


@pytest.mark.parametrize("body", ["emial=typo@example.com", "0=x", "email=a@b.co&plan=pro"])
def test_unknown_parameter_is_400(sandbox_url: str, api_key: str, body: str) -> None:
    """Stripe rejects any parameter the endpoint does not take (a typo in SDK params is a
    400 there); the sandbox ignored them, and a digit-only name crashed it (HTML 500)."""
    response = raw(
        sandbox_url,
        "POST",
        "/v1/customers",
        api_key,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    error = error_of(response, 400)
    unknown = next(k.split("=")[0] for k in body.split("&") if not k.startswith("email="))
    assert error["message"] == f"Received unknown parameter: {unknown}"
    assert error["param"] == unknown


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "basic"),
    [("sk_test_", False), ("sk_test_", True), ("rk_test_", False), ("rk_test_", True)],
)
def test_bearer_and_basic_auth(sandbox_url: str, prefix: str, basic: bool) -> None:
    suffix = secrets.token_hex(8)
    key = prefix + suffix
    created = raw(
        sandbox_url, "POST", "/v1/customers", key, basic=basic, data={"email": "k@example.com"}
    )
    assert created.status_code == 200, created.text
    # Secret and restricted keys with the same suffix are the same account.
    other = ("rk_test_" if prefix == "sk_test_" else "sk_test_") + suffix
    got = raw(sandbox_url, "GET", f"/v1/customers/{created.json()['id']}", other, basic=not basic)
    assert got.status_code == 200 and got.json()["email"] == "k@example.com"


def test_sdk_works_with_a_restricted_key(sandbox_url: str) -> None:
    client = make_client(sandbox_url, "rk_test_" + secrets.token_hex(8))
    customer = client.v1.customers.create(params={"name": "R"})
    assert client.v1.customers.retrieve(customer.id).name == "R"


def test_no_key_is_401(sandbox_url: str) -> None:
    error = error_of(raw(sandbox_url, "GET", "/v1/customers"), 401)
    assert error["type"] == "invalid_request_error"
    assert "did not provide an API key" in error["message"]
    error = error_of(
        raw(sandbox_url, "GET", "/v1/customers", headers={"Authorization": "Bearer "}), 401
    )
    assert "did not provide an API key" in error["message"]


@pytest.mark.parametrize(
    "key",
    [
        "sk_live_" + "a" * 24,
        "pk_test_" + "a" * 24,
        "garbage-key-1234",
        "sk_test_",
        "whsec_" + "a" * 24,
    ],
)
@pytest.mark.parametrize("basic", [False, True])
def test_bad_key_is_401(sandbox_url: str, key: str, basic: bool) -> None:
    error = error_of(raw(sandbox_url, "GET", "/v1/customers", key, basic=basic), 401)
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Invalid API Key provided")
    if len(key) > 12:
        assert key not in error["message"]  # redacted, as Stripe does


def test_sdk_raises_authentication_error(sandbox_url: str) -> None:
    client = make_client(sandbox_url, "sk_live_" + "b" * 24)
    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.customers.list()
    assert info.value.http_status == 401
    assert info.value.json_body["error"]["type"] == "invalid_request_error"


# -- error statuses and shapes ------------------------------------------------------------------


def test_missing_object_is_404_resource_missing(
    sandbox_url: str, api_key: str, client: stripe.StripeClient
) -> None:
    error = error_of(raw(sandbox_url, "GET", "/v1/customers/cus_nope", api_key), 404)
    assert error == {
        **error,
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "id",
        "message": "No such customer: 'cus_nope'",
    }
    assert error["doc_url"].startswith("https://stripe.com/docs/error-codes/")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.products.retrieve("prod_nope")
    assert (info.value.http_status, info.value.code, info.value.param) == (
        404,
        "resource_missing",
        "id",
    )
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_methods.attach("pm_nope", params={"customer": "cus_nope"})
    assert (info.value.http_status, info.value.code, info.value.param) == (
        404,
        "resource_missing",
        "customer",
    )
    # Another account's object does not exist for this one.
    theirs = make_client(sandbox_url, "sk_test_" + secrets.token_hex(8)).v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve(theirs.id)
    assert info.value.http_status == 404


@pytest.mark.parametrize(
    ("path", "data", "param"),
    [
        ("/v1/customers", {"balance": "lots"}, "balance"),
        ("/v1/prices", {"unit_amount": "100", "product_data[name]": "P"}, "currency"),
        ("/v1/coupons", {"percent_off": "250"}, "percent_off"),
        (
            "/v1/prices",
            {
                "currency": "usd",
                "unit_amount": "100",
                "product_data[name]": "P",
                "recurring[interval]": "fortnight",
            },
            "recurring[interval]",
        ),
        ("/v1/webhook_endpoints", {"url": "not a url", "enabled_events[]": "*"}, "url"),
    ],
)
def test_invalid_params_are_400_with_param(
    sandbox_url: str, api_key: str, path: str, data: dict[str, str], param: str
) -> None:
    error = error_of(raw(sandbox_url, "POST", path, api_key, data=data), 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


def test_sdk_invalid_request_error_carries_param(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.prices.create(params={"unit_amount": 100, "product_data": {"name": "P"}})
    assert (info.value.http_status, info.value.param, info.value.code) == (
        400,
        "currency",
        "parameter_missing",
    )


def test_declined_card_is_402_card_error(
    sandbox_url: str, api_key: str, client: stripe.StripeClient
) -> None:
    customer = client.v1.customers.create()
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_methods.attach(
            "pm_card_visa_chargeDeclinedInsufficientFunds", params={"customer": customer.id}
        )
    assert info.value.http_status == 402
    assert info.value.code == "card_declined"
    error = info.value.json_body["error"]
    assert error["type"] == "card_error"
    assert error["decline_code"] == "insufficient_funds"
    assert error["advice_code"] == "try_again_later"
    assert error["message"] == "Your card has insufficient funds."
    response = raw(
        sandbox_url,
        "POST",
        "/v1/payment_methods/pm_card_visa_chargeDeclinedInsufficientFunds/attach",
        api_key,
        data={"customer": customer.id},
    )
    error = error_of(response, 402)
    assert {k: error[k] for k in ("type", "code", "decline_code", "advice_code")} == {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "advice_code": "try_again_later",
    }
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nope"),
        ("POST", "/v1/customerz"),
        ("GET", "/v2/customers"),
        ("GET", "/v1/customers/cus_1/nope"),
    ],
)
def test_unknown_url_is_404(sandbox_url: str, api_key: str, method: str, path: str) -> None:
    error = error_of(raw(sandbox_url, method, path, api_key), 404)
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"Unrecognized request URL ({method}: {path})")


def test_sdk_unknown_url_raises_invalid_request(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.raw_request("get", "/v1/definitely_not_a_resource")
    assert info.value.http_status == 404


# -- idempotency --------------------------------------------------------------------------------


def test_same_key_same_params_replays(
    sandbox_url: str, api_key: str, client: stripe.StripeClient
) -> None:
    headers = {"Idempotency-Key": "idem-" + secrets.token_hex(6)}
    data = {"email": "once@example.com", "metadata[a]": "1"}
    first = raw(sandbox_url, "POST", "/v1/customers", api_key, data=data, headers=headers)
    second = raw(sandbox_url, "POST", "/v1/customers", api_key, data=data, headers=headers)
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert second.headers["Request-Id"] != first.headers["Request-Id"]
    assert [c.id for c in client.v1.customers.list().data] == [first.json()["id"]]
    assert len(client.v1.events.list(params={"type": "customer.created"}).data) == 1


def test_sdk_idempotency_key_replays(client: stripe.StripeClient) -> None:
    options: Any = {"idempotency_key": "sdk-" + secrets.token_hex(6)}
    first = client.v1.customers.create(params={"name": "Once"}, options=options)
    second = client.v1.customers.create(params={"name": "Once"}, options=options)
    assert first.id == second.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.customers.list().data) == 1


def test_replay_includes_errors_from_execution(client: stripe.StripeClient) -> None:
    """A declined attach ran, so its 402 is saved and replayed like a success."""
    customer = client.v1.customers.create()
    options: Any = {"idempotency_key": "decl-" + secrets.token_hex(6)}
    bodies = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as info:
            client.v1.payment_methods.attach(
                "pm_card_visa_chargeDeclined", params={"customer": customer.id}, options=options
            )
        bodies.append(info.value.json_body)
    assert bodies[0] == bodies[1]
    assert info.value.headers["Idempotent-Replayed"] == "true"


def test_same_key_different_params_is_idempotency_error(
    sandbox_url: str, api_key: str, client: stripe.StripeClient
) -> None:
    key = "idem-" + secrets.token_hex(6)
    raw(
        sandbox_url,
        "POST",
        "/v1/customers",
        api_key,
        data={"email": "a@example.com"},
        headers={"Idempotency-Key": key},
    )
    error = error_of(
        raw(
            sandbox_url,
            "POST",
            "/v1/customers",
            api_key,
            data={"email": "b@example.com"},
            headers={"Idempotency-Key": key},
        ),
        400,
    )
    assert error["type"] == "idempotency_error"
    assert key in error["message"]
    # The same key on another endpoint is a different request too.
    error = error_of(
        raw(
            sandbox_url,
            "POST",
            "/v1/products",
            api_key,
            data={"name": "P"},
            headers={"Idempotency-Key": key},
        ),
        400,
    )
    assert error["type"] == "idempotency_error"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(
            params={"email": "c@example.com"}, options={"idempotency_key": key}
        )
    assert len(client.v1.customers.list().data) == 1
    assert len(client.v1.products.list().data) == 0


def test_idempotency_keys_are_per_account(sandbox_url: str) -> None:
    key = "shared-" + secrets.token_hex(6)
    ids = []
    for _ in range(2):
        response = raw(
            sandbox_url,
            "POST",
            "/v1/customers",
            "sk_test_" + secrets.token_hex(8),
            data={"email": "same@example.com"},
            headers={"Idempotency-Key": key},
        )
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response.headers
        ids.append(response.json()["id"])
    assert ids[0] != ids[1]


def test_validation_errors_are_not_saved(client: stripe.StripeClient) -> None:
    """Stripe saves a result only once the endpoint began executing: a request that
    failed parameter validation can be retried, fixed, with the same key."""
    options: Any = {"idempotency_key": "fix-" + secrets.token_hex(6)}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.coupons.create(params={"percent_off": 250}, options=options)
    coupon = client.v1.coupons.create(params={"percent_off": 25}, options=options)
    assert coupon.percent_off == 25


# -- pagination ---------------------------------------------------------------------------------


@pytest.fixture
def customers(client: stripe.StripeClient) -> list[str]:
    """25 customers' ids, newest first (the order lists return)."""
    created = [client.v1.customers.create(params={"name": f"c{i:02d}"}).id for i in range(25)]
    return created[::-1]


def test_list_walks_forward_and_back(sandbox_url: str, api_key: str, customers: list[str]) -> None:
    def page(query: str) -> dict[str, Any]:
        response = raw(sandbox_url, "GET", f"/v1/customers?{query}", api_key)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["object"] == "list" and body["url"] == "/v1/customers"
        return body

    default = page("")
    assert [c["id"] for c in default["data"]] == customers[:10] and default["has_more"]
    seen, has_more, cursor = [], [], None
    while True:
        body = page("limit=10" + (f"&starting_after={cursor}" if cursor else ""))
        seen += [c["id"] for c in body["data"]]
        has_more.append(body["has_more"])
        if not body["has_more"]:
            break
        cursor = body["data"][-1]["id"]
    assert seen == customers
    assert has_more == [True, True, False]
    back, has_more, cursor = [], [], seen[-1]
    while True:
        body = page(f"limit=10&ending_before={cursor}")
        back = [c["id"] for c in body["data"]] + back
        has_more.append(body["has_more"])
        if not body["has_more"]:
            break
        cursor = body["data"][0]["id"]
    assert back == customers[:-1]
    assert has_more == [True, True, False]
    assert page(f"ending_before={customers[0]}") == {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": "/v1/customers",
    }
    assert page(f"starting_after={customers[-1]}")["data"] == []
    everything = page("limit=100")
    assert [c["id"] for c in everything["data"]] == customers and not everything["has_more"]
    one = page("limit=1")
    assert [c["id"] for c in one["data"]] == customers[:1] and one["has_more"]
    exact = page(f"limit=5&starting_after={customers[19]}")
    assert [c["id"] for c in exact["data"]] == customers[20:] and not exact["has_more"]


def test_sdk_pages_and_auto_paging(client: stripe.StripeClient, customers: list[str]) -> None:
    first = client.v1.customers.list(params={"limit": 7})
    assert [c.id for c in first.data] == customers[:7] and first.has_more
    assert [c.id for c in first.auto_paging_iter()] == customers
    after = client.v1.customers.list(params={"limit": 7, "starting_after": customers[6]})
    assert [c.id for c in after.data] == customers[7:14]
    before = client.v1.customers.list(params={"limit": 3, "ending_before": customers[10]})
    assert [c.id for c in before.data] == customers[7:10] and before.has_more


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1000", "ten"])
def test_limit_out_of_bounds_is_400(sandbox_url: str, api_key: str, limit: str) -> None:
    error = error_of(raw(sandbox_url, "GET", f"/v1/customers?limit={limit}", api_key), 400)
    assert error["type"] == "invalid_request_error" and error["param"] == "limit"


def test_unknown_cursor_is_an_error(sandbox_url: str, api_key: str) -> None:
    error = error_of(raw(sandbox_url, "GET", "/v1/customers?starting_after=cus_nope", api_key), 400)
    assert error["param"] == "starting_after"
    error = error_of(raw(sandbox_url, "GET", "/v1/customers?ending_before=cus_nope", api_key), 400)
    assert error["param"] == "ending_before"


# -- expand[] --------------------------------------------------------------------------------------


def test_expand_default_payment_method(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"payment_method": "pm_card_visa"})
    pm = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
    updated = client.v1.customers.update(
        customer.id,
        params={
            "invoice_settings": {"default_payment_method": pm.id},
            "expand": ["invoice_settings.default_payment_method"],
        },
    )
    assert isinstance(updated.invoice_settings.default_payment_method, stripe.PaymentMethod)
    got = client.v1.customers.retrieve(
        customer.id, params={"expand": ["invoice_settings.default_payment_method"]}
    )
    expanded = got.invoice_settings.default_payment_method
    assert isinstance(expanded, stripe.PaymentMethod)
    assert expanded.id == pm.id and expanded.card.last4 == "4242"
    assert (
        client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method == pm.id
    )


def test_list_expansion_of_data_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "x@example.com"})
    for card in ("pm_card_visa", "pm_card_mastercard"):
        client.v1.payment_methods.attach(card, params={"customer": customer.id})
    listed = client.v1.payment_methods.list(
        params={"customer": customer.id, "expand": ["data.customer"]}
    )
    assert len(listed.data) == 2
    for pm in listed.data:
        assert isinstance(pm.customer, stripe.Customer)
        assert pm.customer.email == "x@example.com"
    plain = client.v1.payment_methods.list(params={"customer": customer.id})
    assert all(pm.customer == customer.id for pm in plain.data)


def test_expanding_an_unexpandable_field_is_400(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve(customer.id, params={"expand": ["no_such_field"]})
    assert (info.value.http_status, info.value.param) == (400, "expand")


# -- API version and Stripe-Account ----------------------------------------------------------------


@pytest.mark.parametrize("version", [API_VERSION, "2025-03-31.basil", "2024-06-20"])
def test_stripe_version_header_is_accepted(sandbox_url: str, api_key: str, version: str) -> None:
    response = raw(
        sandbox_url,
        "POST",
        "/v1/customers",
        api_key,
        data={"name": "V"},
        headers={"Stripe-Version": version},
    )
    assert response.status_code == 200, response.text
    assert response.headers["Stripe-Version"]


def test_sdk_sends_its_version(sandbox_url: str, api_key: str) -> None:
    client = make_client(sandbox_url, api_key, stripe_version=API_VERSION)
    customer = client.v1.customers.create()
    assert customer.last_response.headers["Stripe-Version"] == API_VERSION


def test_stripe_account_not_connected_is_403(
    sandbox_url: str, api_key: str, client: stripe.StripeClient
) -> None:
    stranger = make_client(sandbox_url, "sk_test_" + secrets.token_hex(8))
    theirs = stranger.v1.accounts.create(params={"type": "standard"}).id
    for account in (theirs, "acct_1NoSuchAccount00"):
        response = raw(
            sandbox_url, "GET", "/v1/customers", api_key, headers={"Stripe-Account": account}
        )
        error = error_of(response, 403)
        assert error["type"] == "invalid_request_error"
        assert account in error["message"]
        with pytest.raises(stripe.PermissionError) as info:
            client.v1.customers.list(options={"stripe_account": account})
        assert info.value.http_status == 403


def test_stripe_account_of_a_connected_account(
    sandbox_url: str, api_key: str, client: stripe.StripeClient
) -> None:
    connected = client.v1.accounts.create(params={"type": "standard"}).id
    theirs = client.v1.customers.create(params={"name": "T"}, options={"stripe_account": connected})
    listed = raw(
        sandbox_url, "GET", "/v1/customers", api_key, headers={"Stripe-Account": connected}
    ).json()
    assert [c["id"] for c in listed["data"]] == [theirs.id]
    assert client.v1.customers.list().data == []
    own_id = raw(sandbox_url, "GET", "/v1/account", api_key).json()["id"]
    mine = raw(sandbox_url, "GET", "/v1/customers", api_key, headers={"Stripe-Account": own_id})
    assert mine.status_code == 200 and mine.json()["data"] == []


def test_every_response_is_json_with_request_id(sandbox_url: str, api_key: str) -> None:
    for method, path in (
        ("GET", "/v1/customers"),
        ("GET", "/v1/customers/cus_x"),
        ("GET", "/v1/nope"),
    ):
        response = raw(sandbox_url, method, path, api_key)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.headers["Request-Id"].startswith("req_")
        json.loads(response.content)
