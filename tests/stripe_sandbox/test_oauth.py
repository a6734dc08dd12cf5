"""Stripe Connect OAuth against the sandbox, driven by the official SDK and a browser-like
client: the consent page, the code exchange, refresh, and deauthorization."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe
from stripe import oauth_error

from .conftest import Receiver, make_client

REDIRECT = "https://platform.example/stripe/callback?from=sandbox"


def platform_client(sandbox_url: str, api_key: str) -> stripe.StripeClient:
    """The platform of ``sk_test_X`` has the Connect client id ``ca_X``."""
    return make_client(sandbox_url, api_key, client_id="ca_" + api_key[len("sk_test_") :])


def consent_form(page: str) -> dict[str, str]:
    """What a browser would submit: every input's name and (prefilled) value."""
    fields = re.findall(r'<input[^>]*?\bname="(\w+)"[^>]*?\bvalue="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in fields}


def authorize(
    sandbox_url: str, platform: stripe.StripeClient, decision: str = "authorize", **extra: str
) -> dict[str, list[str]]:
    """Open the consent page the SDK links to, press a button, return the redirect's query."""
    url = platform.oauth.authorize_url(
        params={
            "scope": "read_write",
            "redirect_uri": REDIRECT,
            "state": "st-42",
            "stripe_user": {"email": "owner@shop.example"},
        }
    )
    page = requests.get(url, timeout=10)
    assert page.status_code == 200, page.text
    form = {**consent_form(page.text), "decision": decision, **extra}
    answer = requests.post(
        f"{sandbox_url}/oauth/authorize", data=form, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith("https://platform.example/stripe/callback?")
    return parse_qs(urlsplit(location).query)


def connect_via_oauth(sandbox_url: str, platform: stripe.StripeClient, **extra: str):
    query = authorize(sandbox_url, platform, **extra)
    return platform.oauth.token(
        params={"grant_type": "authorization_code", "code": query["code"][0]}
    )


def test_authorize_url_shows_a_consent_page(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, "sk_test_acme_tools")
    url = platform.oauth.authorize_url(
        params={
            "scope": "read_write",
            "redirect_uri": REDIRECT,
            "state": "s<1>",
            "stripe_user": {"email": "a&b@shop.example", "business_name": "Bob's <Shop>"},
        }
    )
    assert url.startswith(f"{sandbox_url}/oauth/authorize?")
    page = requests.get(url, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Acme Tools would like to connect to your Stripe account" in page.text
    assert "A new sandbox account" in page.text
    assert 'value="a&amp;b@shop.example"' in page.text
    assert "Bob&#x27;s &lt;Shop&gt;" in page.text and "<Shop>" not in page.text
    assert 'value="authorize"' in page.text and 'value="deny"' in page.text
    form = consent_form(page.text)
    assert form["client_id"] == "ca_acme_tools" and form["state"] == "s<1>"
    assert form["redirect_uri"] == REDIRECT and form["scope"] == "read_write"


def test_authorize_then_token_reaches_the_connected_account(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, api_key)
    query = authorize(sandbox_url, platform, business_name="Corner Shop")
    assert query["state"] == ["st-42"] and query["scope"] == ["read_write"]
    assert query["from"] == ["sandbox"]  # the redirect_uri's own query is kept
    code = query["code"][0]
    assert code.startswith("ac_")

    token = platform.oauth.token(params={"grant_type": "authorization_code", "code": code})
    assert token.token_type == "bearer" and token.scope == "read_write"
    assert token.livemode is False
    assert token.access_token.startswith("sk_test_")
    assert token.refresh_token.startswith("rt_")
    assert token.stripe_publishable_key.startswith("pk_test_")
    account_id = token.stripe_user_id
    assert account_id.startswith("acct_")

    merchant = make_client(sandbox_url, token.access_token)
    account = merchant.v1.accounts.retrieve_current()
    assert account.id == account_id
    assert account.email == "owner@shop.example"
    assert account.business_profile.name == "Corner Shop"
    customer = merchant.v1.customers.create(params={"email": "buyer@example.com"})

    seen = platform.v1.customers.retrieve(customer.id, options={"stripe_account": account_id})
    assert seen.email == "buyer@example.com"
    with pytest.raises(stripe.InvalidRequestError):
        platform.v1.customers.retrieve(customer.id)  # not in the platform's own account
    listed = platform.v1.accounts.list()
    assert account_id in [a.id for a in listed.data]
    assert platform.v1.accounts.retrieve(account_id).controller.type == "application"


def test_deny_redirects_with_access_denied(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, api_key)
    query = authorize(sandbox_url, platform, decision="deny")
    assert query["error"] == ["access_denied"]
    assert query["error_description"][0]
    assert query["state"] == ["st-42"]
    assert "code" not in query
    assert platform.v1.accounts.list().data == []


def test_bad_links_get_an_error_page(sandbox_url: str) -> None:
    base = f"{sandbox_url}/oauth/authorize"
    cases = [
        {"response_type": "code", "redirect_uri": REDIRECT},
        {"response_type": "code", "client_id": "not-a-client", "redirect_uri": REDIRECT},
        {"response_type": "code", "client_id": "ca_x"},
        {"response_type": "code", "client_id": "ca_x", "redirect_uri": "javascript:alert(1)"},
        {"response_type": "code", "client_id": "ca_x", "redirect_uri": "/relative"},
    ]
    for params in cases:
        page = requests.get(base, params=params, timeout=10, allow_redirects=False)
        assert page.status_code == 400, params
        assert page.headers["Content-Type"].startswith("text/html")
        assert "not valid" in page.text
    forged = requests.post(
        base,
        data={"client_id": "ca_x", "redirect_uri": "ftp://x/", "decision": "authorize"},
        timeout=10,
    )
    assert forged.status_code == 400
    bad_scope = requests.get(
        base,
        params={
            "response_type": "code",
            "client_id": "ca_x",
            "redirect_uri": REDIRECT,
            "scope": "admin",
            "state": "z",
        },
        timeout=10,
        allow_redirects=False,
    )
    assert bad_scope.status_code == 302
    assert parse_qs(urlsplit(bad_scope.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_invalid_email_redisplays_the_form(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, api_key)
    url = platform.oauth.authorize_url(params={"scope": "read_write", "redirect_uri": REDIRECT})
    form = consent_form(requests.get(url, timeout=10).text)
    answer = requests.post(
        f"{sandbox_url}/oauth/authorize",
        timeout=10,
        allow_redirects=False,
        data={**form, "decision": "authorize", "email": "nope"},
    )
    assert answer.status_code == 400
    assert "Enter a valid email address." in answer.text
    assert platform.v1.accounts.list().data == []


def test_codes_are_single_use(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, api_key)
    code = authorize(sandbox_url, platform)["code"][0]
    platform.oauth.token(params={"grant_type": "authorization_code", "code": code})
    with pytest.raises(oauth_error.InvalidGrantError) as reused:
        platform.oauth.token(params={"grant_type": "authorization_code", "code": code})
    assert "already used" in str(reused.value)
    with pytest.raises(oauth_error.InvalidGrantError):
        platform.oauth.token(params={"grant_type": "authorization_code", "code": "ac_unknown"})
    with pytest.raises(oauth_error.UnsupportedGrantTypeError):
        platform.oauth.token(params={"grant_type": "password", "code": code})


def test_oauth_errors_have_stripes_oauth_shape(sandbox_url: str, api_key: str) -> None:
    answer = requests.post(
        f"{sandbox_url}/oauth/token",
        timeout=10,
        data={"grant_type": "authorization_code", "code": "ac_nothing", "client_secret": api_key},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_grant" and "ac_nothing" in body["error_description"]
    anonymous = requests.post(
        f"{sandbox_url}/oauth/token",
        timeout=10,
        data={"grant_type": "authorization_code", "code": "ac_x"},
    )
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"


def test_wrong_client_secret_is_refused(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, api_key)
    code = authorize(sandbox_url, platform)["code"][0]
    other = platform_client(sandbox_url, api_key + "other")
    with pytest.raises(oauth_error.InvalidGrantError) as foreign:
        other.oauth.token(params={"grant_type": "authorization_code", "code": code})
    assert "does not belong to you" in str(foreign.value)
    garbage = make_client(sandbox_url, "sk_live_nope")
    with pytest.raises(oauth_error.InvalidClientError):
        garbage.oauth.token(params={"grant_type": "authorization_code", "code": code})
    # client_secret in the body names the platform without an Authorization header
    wrong = requests.post(
        f"{sandbox_url}/oauth/token",
        timeout=10,
        data={"grant_type": "authorization_code", "code": code, "client_secret": "sk_test_wrong"},
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    right = requests.post(
        f"{sandbox_url}/oauth/token",
        timeout=10,
        data={"grant_type": "authorization_code", "code": code, "client_secret": api_key},
    )
    assert right.status_code == 200, right.text
    assert right.json()["stripe_user_id"].startswith("acct_")


def test_refresh_token_issues_a_new_access_token(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, api_key)
    token = connect_via_oauth(sandbox_url, platform)
    fresh = platform.oauth.token(
        params={"grant_type": "refresh_token", "refresh_token": token.refresh_token}
    )
    assert fresh.access_token != token.access_token
    assert fresh.stripe_user_id == token.stripe_user_id
    assert fresh.refresh_token == token.refresh_token
    account = make_client(sandbox_url, fresh.access_token).v1.accounts.retrieve_current()
    assert account.id == token.stripe_user_id
    other = platform_client(sandbox_url, api_key + "x")
    with pytest.raises(oauth_error.InvalidGrantError):
        other.oauth.token(
            params={"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        )


def test_deauthorize_revokes_access_and_tells_the_platform(
    sandbox_url: str, api_key: str, receiver: Receiver
) -> None:
    platform = platform_client(sandbox_url, api_key)
    platform.v1.webhook_endpoints.create(
        params={
            "url": receiver.url,
            "enabled_events": ["account.application.deauthorized"],
            "connect": True,
        }
    )
    token = connect_via_oauth(sandbox_url, platform)
    account_id = token.stripe_user_id
    merchant = make_client(sandbox_url, token.access_token)
    customer = merchant.v1.customers.create()

    done = platform.oauth.deauthorize(params={"stripe_user_id": account_id})
    assert done.stripe_user_id == account_id

    events = receiver.wait_for(
        lambda got: any(e["type"] == "account.application.deauthorized" for e in got)
    )
    event = next(e for e in events if e["type"] == "account.application.deauthorized")
    assert event["account"] == account_id
    client_id = "ca_" + api_key[len("sk_test_") :]
    assert event["data"]["object"]["id"] == client_id
    assert event["data"]["object"]["object"] == "application"
    assert set(event["data"]["object"]) == {"id", "object", "name"}

    with pytest.raises(stripe.PermissionError):
        platform.v1.customers.retrieve(customer.id, options={"stripe_account": account_id})
    with pytest.raises((stripe.AuthenticationError, stripe.InvalidRequestError)):
        merchant.v1.customers.retrieve(customer.id)  # the token no longer reaches it
    assert account_id not in [a.id for a in platform.v1.accounts.list().data]
    with pytest.raises(oauth_error.InvalidGrantError):
        platform.oauth.token(
            params={"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        )
    with pytest.raises(oauth_error.InvalidClientError):
        platform.oauth.deauthorize(params={"stripe_user_id": account_id})


def test_deauthorize_checks_client_and_account(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, api_key)
    token = connect_via_oauth(sandbox_url, platform)
    other = platform_client(sandbox_url, api_key + "other")
    with pytest.raises(oauth_error.InvalidClientError):  # not the other platform's account
        other.oauth.deauthorize(params={"stripe_user_id": token.stripe_user_id})
    with pytest.raises(oauth_error.InvalidClientError):  # a client id that is not the key's
        other.oauth.deauthorize(
            params={"stripe_user_id": token.stripe_user_id, "client_id": "ca_" + api_key[8:]}
        )
    assert make_client(sandbox_url, token.access_token).v1.accounts.retrieve_current()


def test_a_revoked_access_token_is_an_authentication_error(sandbox_url: str, api_key: str) -> None:
    platform = platform_client(sandbox_url, api_key)
    token = connect_via_oauth(sandbox_url, platform)
    platform.oauth.deauthorize(params={"stripe_user_id": token.stripe_user_id})
    with pytest.raises(stripe.AuthenticationError):
        make_client(sandbox_url, token.access_token).v1.customers.list()
