"""What a customer portal does to a subscription, as Stripe does it: resume a pause early
(``pause_collection=""``), take back a scheduled cancellation, switch the price with or
without prorations, and preview the change first with ``invoices.create_preview``."""

from __future__ import annotations

import pytest
import stripe

from .shop import DAY, T0, Shop, month, open_shop


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return open_shop(client)


def _charges(shop: Shop, customer: str) -> list[int]:
    found = shop.client.v1.charges.list(params={"customer": customer}).data
    return [ch.amount for ch in reversed(found)]


def test_resuming_a_pause_early_with_an_empty_pause_collection(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    resumes_at = month(3)
    client.v1.subscriptions.update(
        sub.id, params={"pause_collection": {"behavior": "void", "resumes_at": resumes_at}}
    )
    shop.advance_to(month(1) + DAY)
    assert shop.latest_invoice(sub.id).status == "void"

    sub = client.v1.subscriptions.update(sub.id, params={"pause_collection": ""})
    assert sub.pause_collection is None and sub.status == "active"
    resumed = shop.events("customer.subscription.updated")[-1]
    assert resumed.data.previous_attributes.to_dict() == {
        "pause_collection": {"behavior": "void", "resumes_at": resumes_at}
    }
    assert resumed.created == month(1) + DAY
    shop.advance_to(month(2) + DAY)
    renewal = shop.latest_invoice(sub.id)
    assert (renewal.created, renewal.status, renewal.amount_paid) == (month(2), "paid", 3000)
    assert _charges(shop, sub.customer) == [3000, 3000]
    updates = len(shop.events("customer.subscription.updated"))
    shop.advance_to(resumes_at + DAY)  # the pause's old end passes: nothing more happens
    assert len(shop.events("customer.subscription.updated")) == updates + 1  # the renewal's
    assert shop.sub(sub.id).pause_collection is None


def test_taking_back_a_scheduled_cancellation(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 5 * DAY)
    end = sub["items"].data[0].current_period_end
    client.v1.subscriptions.update(
        sub.id,
        params={"cancel_at_period_end": True, "cancellation_details": {"feedback": "unused"}},
    )
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": False})
    assert (sub.cancel_at_period_end, sub.cancel_at, sub.canceled_at) == (False, None, None)
    assert sub.cancellation_details.to_dict() == {
        "comment": None,
        "feedback": None,
        "reason": None,
    }
    previous = shop.events("customer.subscription.updated")[-1].data.previous_attributes
    assert previous.to_dict() == {
        "cancel_at": end,
        "cancel_at_period_end": True,
        "canceled_at": T0 + 5 * DAY,
        "cancellation_details": {"feedback": "unused", "reason": "cancellation_requested"},
    }
    shop.advance_to(month(1) + DAY)
    assert shop.sub(sub.id).status == "active"
    assert shop.latest_invoice(sub.id).amount_paid == 3000
    assert shop.events("customer.subscription.deleted") == []


def test_switching_the_price_without_prorations(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    first_invoice = sub.latest_invoice
    shop.advance_to(T0 + 20 * DAY)
    item = sub["items"].data[0]
    details = {"items": [{"id": item.id, "price": shop.team.id}], "proration_behavior": "none"}
    preview = client.v1.invoices.create_preview(
        params={"subscription": sub.id, "subscription_details": details}
    )
    assert [line.amount for line in preview.lines.data] == [6000]
    assert (preview.amount_due, preview.created) == (6000, month(1))

    sub = client.v1.subscriptions.update(sub.id, params=details)
    assert sub["items"].data[0].id == item.id and sub["items"].data[0].price.id == shop.team.id
    assert sub.latest_invoice == first_invoice  # nothing billed now
    assert shop.events("invoiceitem.created") == []
    previous = shop.events("customer.subscription.updated")[-1].data.previous_attributes
    assert previous["items"]["data"][0]["price"]["id"] == shop.pro.id
    shop.advance_to(month(1) + DAY)
    renewal = shop.latest_invoice(sub.id)
    assert [line.amount for line in renewal.lines.data] == [6000]
    assert renewal.amount_paid == preview.amount_due


@pytest.mark.parametrize(
    ("behavior", "billed_now"), [("create_prorations", False), ("always_invoice", True)]
)
def test_preview_of_a_switch_then_the_switch(shop: Shop, behavior: str, billed_now: bool) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 10 * DAY + 3600)
    at = T0 + 10 * DAY  # the moment the customer saw the preview
    item = sub["items"].data[0]
    share = (item.current_period_end - at) / (item.current_period_end - item.current_period_start)
    details = {
        "items": [{"id": item.id, "price": shop.team.id}],
        "proration_behavior": behavior,
        "proration_date": at,
    }
    preview = client.v1.invoices.create_preview(
        params={"customer": sub.customer, "subscription": sub.id, "subscription_details": details}
    )
    credit, charge = -round(3000 * share), round(6000 * share)
    lines = preview.lines.data
    prorations = [x for x in lines if x.parent.subscription_item_details.proration]
    assert sorted(line.amount for line in prorations) == [credit, charge]
    assert {line.period.start for line in prorations} == {at}
    expected = credit + charge + (0 if billed_now else 6000)
    assert preview.amount_due == preview.total == expected

    sub = client.v1.subscriptions.update(sub.id, params=details)
    if billed_now:
        invoice = client.v1.invoices.retrieve(sub.latest_invoice)
        assert invoice.billing_reason == "subscription_update"
        assert invoice.amount_paid == preview.amount_due
    else:
        shop.advance_to(month(1) + DAY)
        assert shop.latest_invoice(sub.id).amount_paid == preview.amount_due


def test_a_proration_date_outside_the_period_is_refused(shop: Shop) -> None:
    sub = shop.subscribe()
    item = sub["items"].data[0]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        shop.client.v1.invoices.create_preview(
            params={
                "subscription": sub.id,
                "subscription_details": {
                    "items": [{"id": item.id, "price": shop.team.id}],
                    "proration_date": T0 - DAY,
                },
            }
        )
    assert refused.value.param == "subscription_details[proration_date]"
