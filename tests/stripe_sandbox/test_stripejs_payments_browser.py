"""The Stripe.js stand-in paying an invoice in headless Chromium: a subscription's renewal
needed 3-D Secure off session, and the customer, back on a merchant page (its own
origin), completes it with ``confirmCardPayment`` (or ``handleNextAction`` /
``handleCardAction``) and the sandbox's challenge; Approve pays the invoice, Fail leaves
it open and resolves ``{error}``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import stripe

from ..conftest import serve_html
from .intents import event_ids, events_since, renewal_needing_authentication
from .test_payment_intents import AUTH_FAILED, PAID_EVENTS

pytestmark = pytest.mark.browser

SHOTS = "/tmp"
CHALLENGE = 'iframe[title="3D Secure authentication"]'

PAY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pay your invoice</title>
<script src="__SANDBOX__/v3/"></script>
<style>
body{font-family:system-ui,sans-serif;max-width:440px;margin:40px auto;padding:0 16px;
color:#30313d}
button{margin-top:12px;width:100%;padding:12px;font:inherit;font-weight:600;color:#fff;
background:#0570de;border:0;border-radius:6px}
#card-element{margin-top:20px}
#error{color:#df1b41;margin-top:12px}
</style></head>
<body><h1>Pay your invoice</h1>
<p>Your bank asks you to confirm this payment.</p><p id="before"></p>
<button id="pay" type="button">Confirm payment</button>
<button id="authenticate" type="button">Authenticate</button>
<div id="card-element"></div>
<button id="new-card" type="button">Pay with this card</button>
<div id="error" role="alert"></div><div id="status"></div>
<script>
const q = new URLSearchParams(location.search);
const cs = q.get("cs");
const stripe = Stripe(q.get("pk"));
const card = stripe.elements().create("card");
card.mount("#card-element");
async function run(call) {
  document.getElementById("status").textContent = "";
  document.getElementById("error").textContent = "";
  const result = await call();
  if (result.error) {
    document.body.dataset.code = result.error.code || "";
    document.getElementById("error").textContent = result.error.message;
  } else {
    const intent = result.paymentIntent || result.setupIntent;
    document.getElementById("status").textContent = intent.status;
  }
}
document.getElementById("pay").onclick = () => run(() => stripe.confirmCardPayment(cs));
document.getElementById("authenticate").onclick = () => run(() =>
  q.get("action") === "card" ? stripe.handleCardAction(cs)
                             : stripe.handleNextAction({clientSecret: cs}));
document.getElementById("new-card").onclick = () => run(() => stripe.confirmCardPayment(cs, {
  payment_method: {card: card, billing_details: {name: "Ada Lovelace"}}}));
(cs.startsWith("pi_") ? stripe.retrievePaymentIntent(cs) : stripe.retrieveSetupIntent(cs))
  .then((r) => {
    const i = r.paymentIntent || r.setupIntent;
    document.getElementById("before").textContent = r.error ? r.error.message
      : [i.status, i.amount, "customer" in i ? "sees customer" : "no customer"].join(" ");
    document.body.dataset.ready = "yes";
  });
</script></body></html>
"""


@pytest.fixture(scope="module")
def merchant(sandbox_url: str) -> Iterator[str]:
    with serve_html(PAY_PAGE.replace("__SANDBOX__", sandbox_url), "/pay") as url:
        yield url


def open_page(page: Any, merchant: str, api_key: str, secret: str, **extra: str) -> None:
    pk = "pk_test_" + api_key[len("sk_test_") :]
    page.goto(f"{merchant}?{urlencode({'pk': pk, 'cs': secret, **extra})}")
    page.wait_for_selector("body[data-ready=yes]")


def assert_paid(client: stripe.StripeClient, sub: Any, invoice: Any, pi: Any) -> Any:
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert (pi.status, pi.amount_received) == ("succeeded", 2000)
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.paid) == ("succeeded", True)
    invoice = client.v1.invoices.retrieve(invoice.id)
    assert (invoice.status, invoice.amount_paid, invoice.amount_remaining) == ("paid", 2000, 0)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    return charge


@pytest.mark.parametrize(
    ("pm", "last4"),
    [
        ("pm_card_sandbox_authentication_required", "0007"),
        ("pm_card_authenticationRequired", "3184"),
    ],
)
def test_confirm_card_payment_approved_pays_the_invoice(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient, pm: str, last4: str
) -> None:
    from playwright.sync_api import expect

    sub, invoice, pi = renewal_needing_authentication(client, pm)
    open_page(page, merchant, api_key, pi.client_secret)
    expect(page.locator("#before")).to_have_text("requires_action 2000 no customer")
    seen = event_ids(client)
    page.get_by_role("button", name="Confirm payment").click()
    challenge = page.frame_locator(CHALLENGE)
    expect(challenge.get_by_text("asks you to authorize a payment of USD 20.00")).to_be_visible()
    expect(challenge.get_by_text(f"•••• {last4}")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/stripejs_payment_3ds_challenge.png")
    challenge.get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_have_text("succeeded")
    expect(page.locator(CHALLENGE)).to_have_count(0)
    charge = assert_paid(client, sub, invoice, pi)
    assert charge.payment_method_details.card.three_d_secure.result == "authenticated"
    assert events_since(client, seen) == PAID_EVENTS


def test_confirm_card_payment_failed_leaves_the_invoice_open(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient
) -> None:
    from playwright.sync_api import expect

    sub, invoice, pi = renewal_needing_authentication(client)
    open_page(page, merchant, api_key, pi.client_secret)
    seen = event_ids(client)
    page.get_by_role("button", name="Confirm payment").click()
    page.frame_locator(CHALLENGE).get_by_role("button", name="Fail").click()
    expect(page.locator("#error")).to_have_text(AUTH_FAILED)
    expect(page.locator("body")).to_have_attribute(
        "data-code", "payment_intent_authentication_failure"
    )
    expect(page.locator(CHALLENGE)).to_have_count(0)
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "payment_intent_authentication_failure"
    assert client.v1.invoices.retrieve(invoice.id).status == "open"
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    assert events_since(client, seen) == ["payment_intent.payment_failed"]

    # The customer pays with another card in the Card Element instead.
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_label("Expiration date").fill("1234")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Postal code").fill("94107")
    page.get_by_role("button", name="Pay with this card").click()
    expect(page.locator("#status")).to_have_text("succeeded")
    charge = assert_paid(client, sub, invoice, pi)
    assert (charge.payment_method_details.card.last4, charge.billing_details.name) == (
        "4242",
        "Ada Lovelace",
    )


@pytest.mark.parametrize("action", ["next_action", "card"])
def test_handle_next_action_on_the_invoice_payment(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient, action: str
) -> None:
    from playwright.sync_api import expect

    sub, invoice, pi = renewal_needing_authentication(client)
    open_page(page, merchant, api_key, pi.client_secret, action=action)
    page.get_by_role("button", name="Authenticate").click()
    page.frame_locator(CHALLENGE).get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_have_text("succeeded")
    assert_paid(client, sub, invoice, pi)


def test_handle_next_action_on_a_setup_intent(
    page: Any, merchant: str, api_key: str, client: stripe.StripeClient
) -> None:
    from playwright.sync_api import expect

    customer = client.v1.customers.create()
    si = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "confirm": True,
            "payment_method": "pm_card_authenticationRequiredOnSetup",
        }
    )
    assert si.status == "requires_action"
    open_page(page, merchant, api_key, si.client_secret)
    expect(page.locator("#before")).to_contain_text("requires_action")
    page.get_by_role("button", name="Authenticate").click()
    challenge = page.frame_locator(CHALLENGE)
    expect(challenge.get_by_text("asks to save your card for future payments")).to_be_visible()
    challenge.get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_have_text("succeeded")
    assert client.v1.setup_intents.retrieve(si.id).status == "succeeded"
