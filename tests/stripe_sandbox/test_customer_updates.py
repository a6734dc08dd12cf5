"""What a customer portal changes on the customer: address, name, email and locales,
each with ``customer.updated`` and Stripe's ``previous_attributes`` (a hash shows only
the keys that changed), and the invoices that show the customer while still drafts."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from .shop import DAY, Shop, month, open_shop


def _last_update(client: stripe.StripeClient) -> Any:
    return client.v1.events.list(params={"type": "customer.updated", "limit": 1}).data[0]


def _updates(client: stripe.StripeClient) -> list[Any]:
    return client.v1.events.list(params={"type": "customer.updated"}).data


def test_address_set_changed_and_cleared(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Ada"})
    address = {
        "line1": "1 Main St",
        "line2": "Flat 2",
        "city": "London",
        "state": "Greater London",
        "postal_code": "N1 9GU",
        "country": "GB",
    }
    customer = client.v1.customers.update(customer.id, params={"address": address})
    assert customer.address.to_dict() == address
    event = _last_update(client)
    assert event.data.previous_attributes.to_dict() == {"address": None}
    assert event.data.object.address.to_dict() == address

    moved = client.v1.customers.update(
        customer.id, params={"address": {"city": "Cambridge", "postal_code": "CB1 1AA"}}
    )
    assert moved.address.to_dict() == {**address, "city": "Cambridge", "postal_code": "CB1 1AA"}
    assert _last_update(client).data.previous_attributes.to_dict() == {
        "address": {"city": "London", "postal_code": "N1 9GU"}
    }

    unset = client.v1.customers.update(customer.id, params={"address": {"line2": ""}})
    assert unset.address.line2 is None
    assert _last_update(client).data.previous_attributes.to_dict() == {
        "address": {"line2": "Flat 2"}
    }

    cleared = client.v1.customers.update(customer.id, params={"address": ""})
    assert cleared.address is None
    previous = _last_update(client).data.previous_attributes.to_dict()
    assert previous == {"address": {**moved.address.to_dict(), "line2": None}}
    assert client.v1.customers.retrieve(customer.id).address is None


def test_name_email_and_locales(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Ada", "email": "ada@example.com"})
    updated = client.v1.customers.update(
        customer.id,
        params={
            "name": "Ada Lovelace",
            "email": "ada@lovelace.example",
            "preferred_locales": ["fr-FR", "en"],
        },
    )
    assert (updated.name, updated.email, updated.preferred_locales) == (
        "Ada Lovelace",
        "ada@lovelace.example",
        ["fr-FR", "en"],
    )
    event = _last_update(client)
    assert event.data.previous_attributes.to_dict() == {
        "name": "Ada",
        "email": "ada@example.com",
        "preferred_locales": [],
    }
    assert event.data.object.name == "Ada Lovelace"

    reordered = client.v1.customers.update(customer.id, params={"preferred_locales": ["en"]})
    assert reordered.preferred_locales == ["en"]
    assert _last_update(client).data.previous_attributes.to_dict() == {
        "preferred_locales": ["fr-FR", "en"]  # an array shows whole
    }
    cleared = client.v1.customers.update(customer.id, params={"email": "", "preferred_locales": ""})
    assert (cleared.email, cleared.preferred_locales) == (None, [])
    assert _last_update(client).data.previous_attributes.to_dict() == {
        "email": "ada@lovelace.example",
        "preferred_locales": ["en"],
    }


def test_nothing_changed_emits_nothing(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Ada", "metadata": {"plan": "pro"}})
    client.v1.customers.update(customer.id, params={"name": "Ada", "metadata": {"plan": "pro"}})
    assert _updates(client) == []
    client.v1.customers.update(customer.id, params={"metadata": {"seats": "3"}})
    assert _last_update(client).data.previous_attributes.to_dict() == {"metadata": {"seats": None}}


@pytest.mark.parametrize("email", ["ada", "ada@localhost", " ada@example.com", "a b@example.com"])
def test_a_malformed_email_is_refused_and_changes_nothing(
    client: stripe.StripeClient, email: str
) -> None:
    customer = client.v1.customers.create(params={"name": "Ada", "email": "ada@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.update(customer.id, params={"name": "Bob", "email": email})
    error = refused.value
    assert (error.http_status, error.code, error.param) == (400, "email_invalid", "email")
    assert error.user_message == f"Invalid email address: {email}"
    kept = client.v1.customers.retrieve(customer.id)
    assert (kept.name, kept.email) == ("Ada", "ada@example.com")
    assert _updates(client) == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create(params={"email": email})


def test_unknown_address_fields_are_refused(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.update(customer.id, params={"address": {"zip": "94107"}})
    assert refused.value.param == "address[zip]"


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return open_shop(client)


def test_a_draft_invoice_follows_the_customer_until_finalized(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(month(1))  # the renewal is a draft for an hour
    draft = shop.latest_invoice(sub.id)
    assert draft.status == "draft" and draft.customer_name == "Ada"
    client.v1.customers.update(
        sub.customer,
        params={"name": "Ada Ltd", "address": {"line1": "1 Main St", "country": "DE"}},
    )
    client.v1.customers.tax_ids.create(
        sub.customer, params={"type": "eu_vat", "value": "DE123456789"}
    )
    draft = client.v1.invoices.retrieve(draft.id)
    assert draft.customer_name == "Ada Ltd" and draft.customer_address.line1 == "1 Main St"
    assert [t.to_dict() for t in draft.customer_tax_ids] == [
        {"type": "eu_vat", "value": "DE123456789"}
    ]
    shop.advance_to(month(1) + DAY)
    final = client.v1.invoices.retrieve(draft.id)
    assert final.status == "paid"
    client.v1.customers.update(sub.customer, params={"name": "Someone Else"})
    assert client.v1.invoices.retrieve(draft.id).customer_name == "Ada Ltd"
    first = shop.invoices(sub.id)[0]
    assert first.customer_name == "Ada" and first.customer_tax_ids == []
