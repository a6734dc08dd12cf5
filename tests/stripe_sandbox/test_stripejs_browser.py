"""The Stripe.js stand-in in headless Chromium: a merchant page on its own origin loads
``<sandbox>/v3/``, mounts the Payment Element (or the Card Element), the customer types a
card and the page confirms the setup intent, with the 3-D Secure challenge when needed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import stripe

from ..conftest import serve_html

pytestmark = pytest.mark.browser

SHOTS = "/tmp"

MERCHANT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Save your card</title>
<script src="%(sandbox)s/v3/"></script>
<style>
body{font-family:system-ui,sans-serif;max-width:440px;margin:40px auto;padding:0 16px;
color:#30313d}
button{margin-top:16px;width:100%%;padding:12px;font:inherit;font-weight:600;color:#fff;
background:#0570de;border:0;border-radius:6px}
#error{color:#df1b41;margin-top:12px}
</style></head>
<body><h1>Save your card</h1>
<form id="setup"><div id="payment-element"></div>
<button id="submit" type="submit">Save card</button>
<div id="error" role="alert"></div><div id="status"></div></form>
<script>
const q = new URLSearchParams(location.search);
const stripe = Stripe(q.get("pk"), q.get("account") ? {stripeAccount: q.get("account")} : {});
const elements = stripe.elements({clientSecret: q.get("cs"), appearance: {theme: "stripe"}});
const kind = q.get("element") || "payment";
const element = elements.create(kind);
element.on("ready", () => { document.body.dataset.ready = "yes"; });
element.mount("#payment-element");
document.getElementById("setup").addEventListener("submit", async (event) => {
  event.preventDefault();
  document.getElementById("error").textContent = "";
  const result = kind === "card"
    ? await stripe.confirmCardSetup(q.get("cs"), {payment_method: {card: element}})
    : await stripe.confirmSetup({elements, redirect: "if_required",
                                 confirmParams: {return_url: location.href}});
  if (result.error) {
    document.body.dataset.code = result.error.code || "";
    document.getElementById("error").textContent = result.error.message;
  } else {
    document.getElementById("status").textContent = result.setupIntent.status;
  }
});
</script></body></html>
"""


@pytest.fixture(scope="module")
def merchant(sandbox_url: str) -> Iterator[str]:
    with serve_html(MERCHANT_PAGE % {"sandbox": sandbox_url}) as url:
        yield url


def open_checkout(page: Any, merchant: str, api_key: str, si: Any, **extra: str) -> None:
    pk = "pk_test_" + api_key[len("sk_test_") :]
    page.goto(f"{merchant}?{urlencode({'pk': pk, 'cs': si.client_secret, **extra})}")
    page.wait_for_selector("body[data-ready=yes]")


def type_card(page: Any, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date").fill("1234")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Postal code").fill("94107")


def new_intent(client: stripe.StripeClient, **options: Any) -> tuple[Any, Any]:
    customer = client.v1.customers.create(options=options or None)
    si = client.v1.setup_intents.create(params={"customer": customer.id}, options=options or None)
    return customer, si


def test_good_card_succeeds_and_attaches(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient
) -> None:
    from playwright.sync_api import expect

    customer, si = new_intent(client)
    open_checkout(page, merchant, api_key, si)
    type_card(page, "4242424242424242")
    expect(page.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")
    expect(page.get_by_label("Expiration date")).to_have_value("12 / 34")
    page.locator("#payment-element").screenshot(path=f"{SHOTS}/stripejs_payment_element.png")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("#status")).to_have_text("succeeded")
    si = client.v1.setup_intents.retrieve(si.id)
    assert si.status == "succeeded"
    pm = client.v1.payment_methods.retrieve(si.payment_method)
    assert (pm.customer, pm.card.last4, pm.card.exp_month, pm.card.exp_year) == (
        customer.id,
        "4242",
        12,
        2034,
    )
    assert pm.billing_details.address.postal_code == "94107"


def test_incomplete_card_is_caught_in_the_page(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient
) -> None:
    from playwright.sync_api import expect

    _, si = new_intent(client)
    open_checkout(page, merchant, api_key, si)
    page.get_by_label("Card number").fill("4242 4242")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("#error")).to_have_text("Your card number is incomplete.")
    expect(page.get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    assert client.v1.setup_intents.retrieve(si.id).latest_attempt is None


def test_declined_card_shows_the_error(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient
) -> None:
    from playwright.sync_api import expect

    customer, si = new_intent(client)
    open_checkout(page, merchant, api_key, si)
    type_card(page, "4000000000009995")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("#error")).to_have_text("Your card has insufficient funds.")
    expect(page.locator("body")).to_have_attribute("data-code", "card_declined")
    si = client.v1.setup_intents.retrieve(si.id)
    assert si.status == "requires_payment_method"
    assert si.last_setup_error.decline_code == "insufficient_funds"
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []

    type_card(page, "4242424242424242")  # the customer tries another card
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("#status")).to_have_text("succeeded")


def test_three_d_secure_approved(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient
) -> None:
    from playwright.sync_api import expect

    customer, si = new_intent(client)
    open_checkout(page, merchant, api_key, si)
    type_card(page, "4000002500003155")
    page.get_by_role("button", name="Save card").click()
    challenge = page.frame_locator('iframe[title="3D Secure authentication"]')
    approve = challenge.get_by_role("button", name="Approve")
    expect(approve).to_be_visible()
    expect(challenge.get_by_text("•••• 3155")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/stripejs_3ds_challenge.png")
    assert client.v1.setup_intents.retrieve(si.id).status == "requires_action"
    approve.click()
    expect(page.locator("#status")).to_have_text("succeeded")
    expect(page.locator('iframe[title="3D Secure authentication"]')).to_have_count(0)
    si = client.v1.setup_intents.retrieve(si.id)
    assert client.v1.payment_methods.retrieve(si.payment_method).customer == customer.id


def test_three_d_secure_failed(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient
) -> None:
    from playwright.sync_api import expect

    customer, si = new_intent(client)
    open_checkout(page, merchant, api_key, si)
    type_card(page, "4000002500003155")
    page.get_by_role("button", name="Save card").click()
    challenge = page.frame_locator('iframe[title="3D Secure authentication"]')
    challenge.get_by_role("button", name="Fail").click()
    expect(page.locator("#error")).to_have_text(
        "We are unable to authenticate your payment method. Please choose a different "
        "payment method and try again."
    )
    expect(page.locator("body")).to_have_attribute(
        "data-code", "setup_intent_authentication_failure"
    )
    si = client.v1.setup_intents.retrieve(si.id)
    assert si.status == "requires_payment_method"
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []


def test_card_element_on_a_connected_account(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient
) -> None:
    from playwright.sync_api import expect

    connected = client.v1.accounts.create(params={"type": "standard"}).id
    customer, si = new_intent(client, stripe_account=connected)
    open_checkout(page, merchant, api_key, si, account=connected, element="card")
    expect(page.get_by_label("Card number")).to_be_visible()
    type_card(page, "5555555555554444")
    page.locator("#payment-element").screenshot(path=f"{SHOTS}/stripejs_card_element.png")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("#status")).to_have_text("succeeded")
    as_connected = {"stripe_account": connected}
    si = client.v1.setup_intents.retrieve(si.id, options=as_connected)
    assert si.status == "succeeded"
    pm = client.v1.payment_methods.retrieve(si.payment_method, options=as_connected)
    assert (pm.customer, pm.card.brand) == (customer.id, "mastercard")
