"""Helpers of the intent and Stripe.js tests: a publishable-key client, the customer's
answer on the 3-D Secure page, the events since a moment, and a subscription whose
renewal needs the customer to authenticate."""

from __future__ import annotations

import html
import re
from typing import Any

import requests
import stripe

from .conftest import make_client

DAY = 86400
T0 = 1_790_000_000


def publishable(sandbox_url: str, api_key: str) -> stripe.StripeClient:
    return make_client(sandbox_url, "pk_test_" + api_key[len("sk_test_") :])


def answer_challenge(url: str, result: str) -> requests.Response:
    """What the customer does on the 3-D Secure page: press Approve or Fail."""
    page = requests.get(url, timeout=10)
    assert page.status_code == 200, page.text
    assert ">Approve</button>" in page.text and ">Fail</button>" in page.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    form = {k: html.unescape(v) for k, v in fields.items()} | {"result": result}
    return requests.post(url.split("?")[0], data=form, timeout=10, allow_redirects=False)


def event_ids(client: stripe.StripeClient) -> set[str]:
    return {e.id for e in client.v1.events.list(params={"limit": 100}).data}


def events_since(client: stripe.StripeClient, seen: set[str]) -> list[str]:
    """The types of the events not in ``seen``, oldest first."""
    events = client.v1.events.list(params={"limit": 100}).data
    return [e.type for e in reversed(events) if e.id not in seen]


def renewal_needing_authentication(
    client: stripe.StripeClient, pm: str = "pm_card_sandbox_authentication_required"
) -> tuple[Any, Any, Any]:
    """A subscription whose off-session renewal the bank refused for want of 3-D Secure:
    (subscription, its open invoice, the invoice's payment intent in requires_action).

    ``pm_card_sandbox_authentication_required`` pays the first invoice and asks on every
    later charge; ``pm_card_authenticationRequired`` (4000002760003184) asks on every
    charge, so its subscription starts on a trial."""
    trial = pm == "pm_card_authenticationRequired"
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    customer = client.v1.customers.create(
        params={"test_clock": clock.id, "payment_method": pm, "email": "ada@example.com"}
    )
    card = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )
    product = client.v1.products.create(params={"name": "Pro"})
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2000,
            "recurring": {"interval": "month"},
            "product": product.id,
        }
    )
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            **({"trial_period_days": 7} if trial else {}),
        }
    )
    assert sub.status == ("trialing" if trial else "active")
    days = 8 if trial else 31
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + days * DAY})
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    invoice = client.v1.invoices.retrieve(
        sub.latest_invoice, params={"expand": ["payments.data.payment.payment_intent"]}
    )
    assert (invoice.status, invoice.billing_reason) == (
        "open",
        "subscription_cycle",
    )
    pi = invoice.payments.data[0].payment.payment_intent
    assert pi.status == "requires_action"
    return sub, invoice, pi
