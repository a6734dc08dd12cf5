"""Every object the sandbox returns has exactly the top-level keys of Stripe's own example
of that type (``resources.<type>`` in ``shared/stripe/fixtures3.json``, the folder beside
this checkout): no key missing, none invented.

One factory per type builds the object through the official SDK and returns every copy of
it the API hands out (as created, retrieved, listed, nested in a parent's list, expanded),
each with the extra keys Stripe adds in that place. Deleted objects are checked against
``deleted_<type>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import stripe

from .intents import answer_challenge

FIXTURES = Path(__file__).resolve().parents[3] / "shared/stripe/fixtures3.json"
DAY = 86400
T0 = 1_790_000_000

#: (where it came from, the object as a plain dict, keys allowed on top of the fixture's)
Found = tuple[str, dict[str, Any], frozenset[str]]
NONE: frozenset[str] = frozenset()


@cache
def _resources() -> dict[str, Any]:
    if not FIXTURES.is_file():
        pytest.fail(
            f"Stripe's example objects are missing: expected {FIXTURES} (the "
            "shared/stripe folder beside the repository checkout). Put "
            "fixtures3.json there to run the shape tests.",
            pytrace=False,
        )
    return json.loads(FIXTURES.read_text())["resources"]


def fixture_keys(kind: str) -> set[str]:
    resources = _resources()
    assert kind in resources, f"fixtures3.json has no resources.{kind}"
    return set(resources[kind])


def plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)


def found(where: str, obj: Any, extra: frozenset[str] = NONE) -> Found:
    return where, plain(obj), extra


def assert_shape(kind: str, where: str, obj: dict[str, Any], extra: frozenset[str]) -> None:
    expected = fixture_keys(kind) | extra
    got = set(obj)
    missing, invented = sorted(expected - got), sorted(got - expected)
    assert not missing and not invented, (
        f"{kind} ({where}): missing {missing}, not in Stripe's object {invented}"
    )
    assert obj.get("object") == kind.removeprefix("deleted_"), (
        f"{kind} ({where}): object is {obj.get('object')!r}"
    )


# -- building blocks --------------------------------------------------------------------------


def _customer_with_card(
    client: stripe.StripeClient, clock_id: str | None = None, pm: str = "pm_card_visa"
) -> tuple[Any, Any]:
    params: dict[str, Any] = {"email": "shape@example.com", "payment_method": pm}
    if clock_id:
        params["test_clock"] = clock_id
    customer = client.v1.customers.create(params=params)
    card = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
    customer = client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )
    return customer, card


def _monthly_price(client: stripe.StripeClient) -> Any:
    product = client.v1.products.create(params={"name": "Shape plan"})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 2500,
            "recurring": {"interval": "month"},
        }
    )


def _subscription(client: stripe.StripeClient, **extra: Any) -> tuple[Any, Any]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    customer, _ = _customer_with_card(client, clock.id)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": _monthly_price(client).id}], **extra}
    )
    return sub, clock


def _paid_intent(client: stripe.StripeClient, card: str = "pm_card_visa") -> Any:
    customer = client.v1.customers.create()
    return client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": card,
            "confirm": True,
            "off_session": True,
        }
    )


# -- one factory per type ---------------------------------------------------------------------


def make_customer(client: stripe.StripeClient) -> list[Found]:
    created = client.v1.customers.create(
        params={
            "email": "a@example.com",
            "name": "Ada",
            "metadata": {"plan": "pro"},
            "address": {"city": "London", "country": "GB"},
        }
    )
    customer, _ = _customer_with_card(client)
    event = client.v1.events.list(params={"type": "customer.created"}).data[0]
    return [
        found("created", created),
        found("updated", customer),
        found("retrieved", client.v1.customers.retrieve(created.id)),
        found("listed", client.v1.customers.list().data[0]),
        found("customer.created data.object", event.data.object),
    ]


def make_payment_method(client: stripe.StripeClient) -> list[Found]:
    created = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    customer = client.v1.customers.create()
    attached = client.v1.payment_methods.attach(
        "pm_card_mastercard", params={"customer": customer.id}
    )
    return [
        found("created", created),
        found("attached", attached),
        found("retrieved", client.v1.payment_methods.retrieve(created.id)),
        found("listed", client.v1.payment_methods.list(params={"customer": customer.id}).data[0]),
    ]


def make_product(client: stripe.StripeClient) -> list[Found]:
    created = client.v1.products.create(params={"name": "Widget"})
    return [
        found("created", created),
        found("retrieved", client.v1.products.retrieve(created.id)),
        found("updated", client.v1.products.update(created.id, params={"description": "A widget"})),
    ]


def make_price(client: stripe.StripeClient) -> list[Found]:
    product = client.v1.products.create(params={"name": "Widget"})
    one_time = client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 500}
    )
    recurring = _monthly_price(client)
    sub, _ = _subscription(client)
    return [
        found("one-time", one_time),
        found("recurring", recurring),
        found("retrieved", client.v1.prices.retrieve(recurring.id)),
        found("subscription_item.price", sub["items"].data[0].price),
    ]


def make_plan(client: stripe.StripeClient) -> list[Found]:
    sub, _ = _subscription(client)
    return [found("subscription_item.plan", sub["items"].data[0].plan)]


def make_coupon(client: stripe.StripeClient) -> list[Found]:
    percent = client.v1.coupons.create(params={"percent_off": 25, "duration": "once"})
    amount = client.v1.coupons.create(
        params={
            "amount_off": 500,
            "currency": "usd",
            "duration": "repeating",
            "duration_in_months": 3,
        }
    )
    return [
        found("percent", percent),
        found("amount", amount),
        found("retrieved", client.v1.coupons.retrieve(amount.id)),
    ]


def make_webhook_endpoint(client: stripe.StripeClient) -> list[Found]:
    created = client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/hook", "enabled_events": ["customer.created"]}
    )
    return [
        found("created", created, frozenset({"secret"})),
        found("retrieved", client.v1.webhook_endpoints.retrieve(created.id)),
        found("listed", client.v1.webhook_endpoints.list().data[0]),
    ]


def make_event(client: stripe.StripeClient) -> list[Found]:
    customer = client.v1.customers.create()
    event = client.v1.events.list(params={"type": "customer.created"}).data[0]
    assert event.data.object.id == customer.id
    connected = client.v1.accounts.create(params={"type": "standard"})
    client.v1.customers.create(options={"stripe_account": connected.id})
    theirs = client.v1.events.list(options={"stripe_account": connected.id}).data[0]
    return [
        found("listed", event),
        found("retrieved", client.v1.events.retrieve(event.id)),
        found("connected account", theirs, frozenset({"account"})),
    ]


def make_account(client: stripe.StripeClient) -> list[Found]:
    connected = client.v1.accounts.create(params={"type": "express", "email": "c@example.com"})
    own = client.raw_request("get", "/v1/account")
    return [
        found("created", connected),
        found("retrieved", client.v1.accounts.retrieve(connected.id)),
        found("listed", client.v1.accounts.list().data[0]),
        found("GET /v1/account", json.loads(own.body)),
    ]


def make_subscription(client: stripe.StripeClient) -> list[Found]:
    sub, _ = _subscription(client)
    return [
        found("created", sub),
        found("retrieved", client.v1.subscriptions.retrieve(sub.id)),
        found("listed", client.v1.subscriptions.list(params={"customer": sub.customer}).data[0]),
    ]


def make_subscription_item(client: stripe.StripeClient) -> list[Found]:
    sub, _ = _subscription(client)
    item = sub["items"].data[0]
    return [
        found("subscription.items.data[]", item),
        found("retrieved", client.v1.subscription_items.retrieve(item.id)),
        found("listed", client.v1.subscription_items.list(params={"subscription": sub.id}).data[0]),
    ]


def make_invoice(client: stripe.StripeClient) -> list[Found]:
    sub, clock = _subscription(client)
    first = client.v1.invoices.retrieve(sub.latest_invoice)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 31 * DAY})
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    return [
        found("first", first),
        found("renewal", renewal),
        found("listed", client.v1.invoices.list(params={"subscription": sub.id}).data[0]),
    ]


def make_line_item(client: stripe.StripeClient) -> list[Found]:
    sub, _ = _subscription(client)
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    return [
        found("invoice.lines.data[]", invoice.lines.data[0]),
        found("listed", client.v1.invoices.line_items.list(invoice.id).data[0]),
    ]


def make_invoice_payment(client: stripe.StripeClient) -> list[Found]:
    sub, _ = _subscription(client)
    payment = client.v1.invoice_payments.list(params={"invoice": sub.latest_invoice}).data[0]
    return [
        found("listed", payment),
        found("retrieved", client.v1.invoice_payments.retrieve(payment.id)),
    ]


def _intent_awaiting_3ds(client: stripe.StripeClient) -> Any:
    return client.v1.payment_intents.create(
        params={
            "amount": 1200,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
        }
    )


def make_payment_intent(client: stripe.StripeClient) -> list[Found]:
    paid = _paid_intent(client)
    pending = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})
    waiting = _intent_awaiting_3ds(client)
    answer_challenge(waiting.next_action.use_stripe_sdk.stripe_js, "fail")
    return [
        found("confirmed", paid),
        found("unconfirmed", pending),
        found("retrieved", client.v1.payment_intents.retrieve(paid.id)),
        found("awaiting 3-D Secure", waiting),
        found("3-D Secure failed", client.v1.payment_intents.retrieve(waiting.id)),
    ]


def make_charge(client: stripe.StripeClient) -> list[Found]:
    paid = _paid_intent(client)
    waiting = _intent_awaiting_3ds(client)
    answer_challenge(waiting.next_action.use_stripe_sdk.stripe_js, "approve")
    authenticated = client.v1.payment_intents.retrieve(waiting.id)
    return [
        found("retrieved", client.v1.charges.retrieve(paid.latest_charge)),
        found("listed", client.v1.charges.list(params={"payment_intent": paid.id}).data[0]),
        found("after 3-D Secure", client.v1.charges.retrieve(authenticated.latest_charge)),
    ]


def make_discount(client: stripe.StripeClient) -> list[Found]:
    coupon = client.v1.coupons.create(params={"percent_off": 10, "duration": "forever"})
    sub, _ = _subscription(client, discounts=[{"coupon": coupon.id}])
    expanded = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["discounts"]})
    event = client.v1.events.list(params={"type": "customer.discount.created"}).data[0]
    return [
        found("subscription expand[]=discounts", expanded.discounts[0]),
        found("customer.discount.created", event.data.object),
    ]


def make_test_clock(client: stripe.StripeClient) -> list[Found]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "shape"})
    advanced = client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": T0 + DAY}
    )
    return [
        found("created", clock),
        found("advanced", advanced),
        found("retrieved", client.v1.test_helpers.test_clocks.retrieve(clock.id)),
    ]


def make_setup_intent(client: stripe.StripeClient) -> list[Found]:
    customer = client.v1.customers.create()
    si = client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method_types": ["card"]}
    )
    confirmed = client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    return [
        found("created", si),
        found("confirmed", confirmed),
        found("retrieved", client.v1.setup_intents.retrieve(si.id)),
    ]


def make_setup_attempt(client: stripe.StripeClient) -> list[Found]:
    customer = client.v1.customers.create()
    si = client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method": "pm_card_visa", "confirm": True}
    )
    return [found("listed", client.v1.setup_attempts.list(params={"setup_intent": si.id}).data[0])]


def make_dispute(client: stripe.StripeClient) -> list[Found]:
    paid = _paid_intent(client, "pm_card_createDispute")
    dispute = client.v1.disputes.list(params={"charge": paid.latest_charge}).data[0]
    return [found("listed", dispute), found("retrieved", client.v1.disputes.retrieve(dispute.id))]


def make_file(client: stripe.StripeClient) -> list[Found]:
    import io

    upload = io.BytesIO(b"%PDF-1.4\n%%EOF\n")
    created = client.v1.files.create(params={"purpose": "dispute_evidence", "file": upload})
    return [
        found("created", created),
        found("retrieved", client.v1.files.retrieve(created.id)),
        found("listed", client.v1.files.list().data[0]),
    ]


def make_refund(client: stripe.StripeClient) -> list[Found]:
    paid = _paid_intent(client, "pm_card_visa")
    refund = client.v1.refunds.create(params={"charge": paid.latest_charge, "amount": 100})
    return [
        found("created", refund),
        found("retrieved", client.v1.refunds.retrieve(refund.id)),
        found("listed", client.v1.refunds.list(params={"charge": paid.latest_charge}).data[0]),
    ]


FACTORIES: dict[str, Callable[[stripe.StripeClient], list[Found]]] = {
    "customer": make_customer,
    "payment_method": make_payment_method,
    "product": make_product,
    "price": make_price,
    "plan": make_plan,
    "coupon": make_coupon,
    "webhook_endpoint": make_webhook_endpoint,
    "event": make_event,
    "account": make_account,
    "subscription": make_subscription,
    "subscription_item": make_subscription_item,
    "invoice": make_invoice,
    "line_item": make_line_item,
    "invoice_payment": make_invoice_payment,
    "payment_intent": make_payment_intent,
    "charge": make_charge,
    "discount": make_discount,
    "test_helpers.test_clock": make_test_clock,
    "setup_intent": make_setup_intent,
    "setup_attempt": make_setup_attempt,
    "dispute": make_dispute,
    "file": make_file,
    "refund": make_refund,
}


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_object_has_stripes_keys(client: stripe.StripeClient, kind: str) -> None:
    fixture_keys(kind)  # fail on a missing fixture before touching the sandbox
    copies = FACTORIES[kind](client)
    assert copies
    for where, obj, extra in copies:
        assert_shape(kind, where, obj, extra)


# -- deleted objects ----------------------------------------------------------------------------


def delete_customer(client: stripe.StripeClient) -> list[Found]:
    customer = client.v1.customers.create()
    deleted = client.v1.customers.delete(customer.id)
    return [
        found("deleted", deleted),
        found("retrieved after delete", client.v1.customers.retrieve(customer.id)),
    ]


def delete_product(client: stripe.StripeClient) -> list[Found]:
    product = client.v1.products.create(params={"name": "Gone"})
    return [found("deleted", client.v1.products.delete(product.id))]


def delete_coupon(client: stripe.StripeClient) -> list[Found]:
    coupon = client.v1.coupons.create(params={"percent_off": 5})
    return [found("deleted", client.v1.coupons.delete(coupon.id))]


def delete_webhook_endpoint(client: stripe.StripeClient) -> list[Found]:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/hook", "enabled_events": ["*"]}
    )
    return [found("deleted", client.v1.webhook_endpoints.delete(endpoint.id))]


def delete_account(client: stripe.StripeClient) -> list[Found]:
    connected = client.v1.accounts.create(params={"type": "standard"})
    return [found("deleted", client.v1.accounts.delete(connected.id))]


def delete_test_clock(client: stripe.StripeClient) -> list[Found]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    return [found("deleted", client.v1.test_helpers.test_clocks.delete(clock.id))]


DELETERS: dict[str, Callable[[stripe.StripeClient], list[Found]]] = {
    "customer": delete_customer,
    "product": delete_product,
    "coupon": delete_coupon,
    "webhook_endpoint": delete_webhook_endpoint,
    "account": delete_account,
    "test_helpers.test_clock": delete_test_clock,
}


@pytest.mark.parametrize("kind", list(DELETERS))
def test_deleted_object_has_stripes_keys(client: stripe.StripeClient, kind: str) -> None:
    fixture_keys(f"deleted_{kind}")
    for where, obj, extra in DELETERS[kind](client):
        assert obj["deleted"] is True and obj["object"] == kind
        assert_shape(f"deleted_{kind}", where, obj, extra)
