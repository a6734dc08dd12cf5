"""A pause instead of a cancellation: ``pause_collection`` with each behaviour, renewals
on the test clock that collect nothing while paused, and collection resuming by itself
at ``resumes_at``."""

from __future__ import annotations

import pytest
import stripe

from .shop import DAY, T0, Shop, month, open_shop


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return open_shop(client)


def test_void_pause_over_two_renewals_charges_nothing_then_resumes(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    customer = sub.customer
    shop.advance_to(T0 + DAY)
    resumes_at = month(2, T0 + DAY)  # a two-month pause: the renewals of months 1 and 2
    sub = client.v1.subscriptions.update(
        sub.id,
        params={"pause_collection": {"behavior": "void", "resumes_at": resumes_at}},
        options={"idempotency_key": "pause-2m"},
    )
    assert sub.status == "active"
    assert sub.pause_collection.to_dict() == {"behavior": "void", "resumes_at": resumes_at}
    update = shop.events("customer.subscription.updated")[-1]
    assert update.data.previous_attributes.pause_collection is None

    shop.advance_to(month(2) + DAY // 2)  # both renewals happened, the pause still runs
    charges = client.v1.charges.list(params={"customer": customer}).data
    assert len(charges) == 1  # the first invoice's, before the pause
    paid = [e.data.object.id for e in shop.events("invoice.paid")]
    renewals = shop.invoices(sub.id)[1:]
    assert [i.created for i in renewals] == [month(1), month(2)]
    for invoice in renewals:
        assert invoice.status == "void" and invoice.id not in paid
        assert (invoice.attempt_count, invoice.attempted, invoice.amount_paid) == (0, False, 0)
        assert invoice.status_transitions.voided_at == invoice.created
    assert shop.events("invoice.payment_failed") == []
    assert shop.sub(sub.id).pause_collection is not None

    shop.advance_to(month(3) + DAY)
    sub = shop.sub(sub.id)
    assert sub.pause_collection is None and sub.status == "active"
    resumed = [
        e
        for e in shop.events("customer.subscription.updated")
        if "pause_collection" in e.data.previous_attributes
    ][-1]
    assert resumed.created == resumes_at
    assert resumed.data.previous_attributes.pause_collection.behavior == "void"
    first_after = shop.latest_invoice(sub.id)
    assert first_after.created == month(3)
    assert first_after.status == "paid" and first_after.amount_paid == 3000
    assert first_after.id in [e.data.object.id for e in shop.events("invoice.paid")]
    assert len(client.v1.charges.list(params={"customer": customer}).data) == 2


def test_keep_as_draft_leaves_renewals_as_drafts(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "keep_as_draft"}}
    )
    shop.advance_to(month(1) + 2 * DAY)
    draft = shop.latest_invoice(sub.id)
    assert (draft.status, draft.auto_advance, draft.amount_due) == ("draft", False, 3000)
    assert len(client.v1.charges.list(params={"customer": sub.customer}).data) == 1
    # Collected later, by hand: the draft can still be finalized and paid.
    assert client.v1.invoices.pay(draft.id).status == "paid"


def test_mark_uncollectible_then_clearing_the_pause(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "mark_uncollectible"}}
    )
    shop.advance_to(month(1) + DAY)
    assert shop.latest_invoice(sub.id).status == "uncollectible"
    sub = client.v1.subscriptions.update(sub.id, params={"pause_collection": ""})
    assert sub.pause_collection is None
    update = shop.events("customer.subscription.updated")[-1]
    assert update.data.previous_attributes.pause_collection.behavior == "mark_uncollectible"
    shop.advance_to(month(2) + DAY)
    assert shop.latest_invoice(sub.id).status == "paid"


@pytest.mark.parametrize(
    ("pause", "param"),
    [
        ({"behavior": "stop"}, "pause_collection[behavior]"),
        ({"resumes_at": T0 + 40 * DAY}, "pause_collection[behavior]"),
        ({"behavior": "void", "resumes_at": T0 - DAY}, "pause_collection[resumes_at]"),
        ({"behavior": "void", "resume_at": T0 + 40 * DAY}, "pause_collection[resume_at]"),
    ],
)
def test_bad_pauses_are_refused(shop: Shop, pause, param) -> None:
    sub = shop.subscribe()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        shop.client.v1.subscriptions.update(sub.id, params={"pause_collection": pause})
    assert refused.value.http_status == 400 and refused.value.param == param
    assert shop.sub(sub.id).pause_collection is None


def test_voided_paused_renewals_leave_the_credit_balance_alone(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    client.v1.customers.update(sub.customer, params={"balance": -1000})
    client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void", "resumes_at": month(1) + DAY}}
    )
    shop.advance_to(month(1) + DAY // 2)
    assert shop.latest_invoice(sub.id).status == "void"
    assert client.v1.customers.retrieve(sub.customer).balance == -1000
    shop.advance_to(month(2) + DAY)
    renewal = shop.latest_invoice(sub.id)
    assert (renewal.starting_balance, renewal.amount_paid) == (-1000, 2000)
    assert client.v1.customers.retrieve(sub.customer).balance == 0
