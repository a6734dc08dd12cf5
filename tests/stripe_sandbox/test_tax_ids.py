"""Customer tax IDs for the customer portal: create, list, retrieve and delete under
``/v1/customers/{customer}/tax_ids``, Stripe's format check of each value, the events,
``expand[]=tax_ids`` on the customer and the tax IDs an invoice shows."""

from __future__ import annotations

import pytest
import stripe

from stripe_sandbox.tax_id_formats import TYPES, InvalidTaxId, check


def test_create_list_retrieve_delete(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Ada"})
    tax_ids = client.v1.customers.tax_ids
    vat = tax_ids.create(customer.id, params={"type": "eu_vat", "value": "DE123456789"})
    assert vat.id.startswith("txi_") and vat.object == "tax_id"
    assert (vat.type, vat.value, vat.country, vat.customer) == (
        "eu_vat",
        "DE123456789",
        "DE",
        customer.id,
    )
    assert vat.owner.to_dict() == {
        "type": "customer",
        "customer": customer.id,
        "customer_account": None,
    }
    assert vat.verification.to_dict() == {
        "status": "pending",
        "verified_address": None,
        "verified_name": None,
    }
    assert vat.livemode is False and vat.created > 0
    ein = tax_ids.create(customer.id, params={"type": "us_ein", "value": "12-3456789"})
    assert (ein.country, ein.verification) == ("US", None)

    assert [t.id for t in tax_ids.list(customer.id).data] == [ein.id, vat.id]
    page = tax_ids.list(customer.id, params={"limit": 1})
    assert [t.id for t in page.data] == [ein.id] and page.has_more
    assert page.url == f"/v1/customers/{customer.id}/tax_ids"
    rest = tax_ids.list(customer.id, params={"starting_after": ein.id})
    assert [t.id for t in rest.data] == [vat.id] and not rest.has_more
    assert tax_ids.retrieve(customer.id, vat.id).to_dict() == vat.to_dict()

    deleted = tax_ids.delete(customer.id, vat.id)
    assert deleted.to_dict() == {"id": vat.id, "object": "tax_id", "deleted": True}
    assert [t.id for t in tax_ids.list(customer.id).data] == [ein.id]
    with pytest.raises(stripe.InvalidRequestError) as gone:
        tax_ids.retrieve(customer.id, vat.id)
    assert gone.value.http_status == 404 and gone.value.code == "resource_missing"
    assert str(gone.value.user_message) == f"No such tax id: '{vat.id}'"


def test_events(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    tax_id = client.v1.customers.tax_ids.create(
        customer.id, params={"type": "gb_vat", "value": "GB123456789"}
    )
    client.v1.customers.tax_ids.delete(customer.id, tax_id.id)
    created = client.v1.events.list(params={"type": "customer.tax_id.created"}).data
    deleted = client.v1.events.list(params={"type": "customer.tax_id.deleted"}).data
    assert [e.data.object.id for e in created] == [tax_id.id]
    assert [e.data.object.id for e in deleted] == [tax_id.id]
    assert created[0].data.object.to_dict() == tax_id.to_dict()
    # Adding a tax ID changes no field of the customer itself.
    assert client.v1.events.list(params={"type": "customer.updated"}).data == []


@pytest.mark.parametrize(
    ("kind", "value", "country"),
    [
        ("eu_vat", "DE123456789", "DE"),
        ("eu_vat", "FRAB123456789", "FR"),
        ("eu_vat", "ATU12345678", "AT"),
        ("eu_vat", "NL123456789B12", "NL"),
        ("eu_vat", "EL123456789", "GR"),
        ("eu_vat", "XI123456789", "GB"),
        ("eu_vat", "BE 0123.456.789", "BE"),
        ("gb_vat", "GB123456789", "GB"),
        ("us_ein", "12-3456789", "US"),
        ("au_abn", "12345678912", "AU"),
        ("au_abn", "12 345 678 912", "AU"),
        ("ca_bn", "123456789", "CA"),
        ("ch_vat", "CHE-123.456.789 MWST", "CH"),
        ("no_vat", "123456789MVA", "NO"),
        ("ca_gst_hst", "123456789RT0002", "CA"),
        ("in_gst", "12ABCDE3456FGZH", "IN"),
        ("jp_trn", "T1234567891234", "JP"),
        ("br_cnpj", "01.234.456/5432-10", "BR"),
        ("mx_rfc", "ABC010203AB9", "MX"),
    ],
)
def test_documented_examples_are_accepted(
    client: stripe.StripeClient, kind: str, value: str, country: str
) -> None:
    customer = client.v1.customers.create()
    tax_id = client.v1.customers.tax_ids.create(customer.id, params={"type": kind, "value": value})
    assert (tax_id.type, tax_id.value, tax_id.country) == (kind, value, country)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("eu_vat", "DE12345678"),  # a digit short
        ("eu_vat", "123456789"),  # no country prefix
        ("eu_vat", "US123456789"),  # not an EU prefix
        ("eu_vat", "GB123456789"),  # the UK has gb_vat
        ("gb_vat", "DE123456789"),
        ("gb_vat", "GB12345"),
        ("us_ein", "123456789"),  # Stripe's format is NN-NNNNNNN
        ("us_ein", "12-345678"),
        ("au_abn", "1234567891"),
        ("ca_bn", "12345678A"),
        ("ch_vat", "CHE-123.456.789"),  # that is a ch_uid: the VAT suffix is missing
        ("no_vat", "123456789"),
        ("mx_rfc", "!!"),
        ("eu_vat", ""),
    ],
)
def test_malformed_values_are_refused(client: stripe.StripeClient, kind: str, value: str) -> None:
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.tax_ids.create(customer.id, params={"type": kind, "value": value})
    error = refused.value
    if value == "":
        assert (error.code, error.param) == ("parameter_invalid_empty", "value")
        return
    assert error.http_status == 400 and error.error.type == "invalid_request_error"
    assert (error.code, error.param) == ("tax_id_invalid", "value")
    assert error.user_message == f"Invalid value for {kind}."
    assert client.v1.customers.tax_ids.list(customer.id).data == []


def test_unknown_type_and_unknown_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.customers.tax_ids.create(
            customer.id, params={"type": "xx_vat", "value": "123456789"}
        )
    assert (unknown.value.http_status, unknown.value.param) == (400, "type")
    assert "must be one of" in unknown.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.tax_ids.create(customer.id, params={"value": "DE123456789"})
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "type")
    with pytest.raises(stripe.InvalidRequestError) as nobody:
        client.v1.customers.tax_ids.list("cus_nobody")
    assert nobody.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as extra:
        client.v1.customers.tax_ids.create(
            customer.id, params={"type": "eu_vat", "value": "DE123456789", "country": "DE"}
        )
    assert extra.value.param == "country"


def test_another_customers_tax_id_is_not_found(client: stripe.StripeClient) -> None:
    ada, bob = client.v1.customers.create(), client.v1.customers.create()
    theirs = client.v1.customers.tax_ids.create(
        ada.id, params={"type": "eu_vat", "value": "DE123456789"}
    )
    with pytest.raises(stripe.InvalidRequestError) as hidden:
        client.v1.customers.tax_ids.retrieve(bob.id, theirs.id)
    assert hidden.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.tax_ids.delete(bob.id, theirs.id)
    assert client.v1.customers.tax_ids.list(bob.id).data == []
    assert client.v1.customers.tax_ids.retrieve(ada.id, theirs.id).id == theirs.id


def test_customer_expands_its_tax_ids(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={"tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}]}
    )
    assert "tax_ids" not in customer  # includable, not part of the customer
    expanded = client.v1.customers.retrieve(customer.id, params={"expand": ["tax_ids"]})
    assert expanded.tax_ids.object == "list"
    assert [t.value for t in expanded.tax_ids.data] == ["DE123456789"]
    assert expanded.tax_ids.url == f"/v1/customers/{customer.id}/tax_ids"
    assert expanded.tax_ids.total_count == 1 and not expanded.tax_ids.has_more
    listed = client.v1.customers.list(params={"expand": ["data.tax_ids"]}).data[0]
    assert [t.id for t in listed.tax_ids.data] == [expanded.tax_ids.data[0].id]
    tax_id = client.v1.customers.tax_ids.retrieve(
        customer.id, expanded.tax_ids.data[0].id, params={"expand": ["customer"]}
    )
    assert tax_id.customer.id == customer.id


def test_tax_id_data_on_create_is_checked_before_anything_is_made(
    client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.create(
            params={
                "email": "ada@example.com",
                "tax_id_data": [
                    {"type": "eu_vat", "value": "DE123456789"},
                    {"type": "us_ein", "value": "123"},
                ],
            }
        )
    assert (refused.value.code, refused.value.param) == (
        "tax_id_invalid",
        "tax_id_data[1][value]",
    )
    assert client.v1.customers.list().data == []


def test_deleting_the_customer_deletes_its_tax_ids(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={"tax_id_data": [{"type": "gb_vat", "value": "GB123456789"}]}
    )
    tax_id = client.v1.customers.tax_ids.list(customer.id).data[0]
    client.v1.customers.delete(customer.id)
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.customers.tax_ids.retrieve(customer.id, tax_id.id)
    assert gone.value.http_status == 404


def test_every_type_stripe_takes_has_a_check() -> None:
    assert len(TYPES) == len(set(TYPES)) > 100
    for kind in TYPES:
        with pytest.raises(InvalidTaxId):
            check(kind, "")
        with pytest.raises(InvalidTaxId):
            check(kind, "not a tax id")
