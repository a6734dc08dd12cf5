"""Save offers made of coupons: creating them, applying one to a running subscription,
and the renewals it discounts (exactly ``duration_in_months`` of them for a monthly
price), until Stripe removes the discount."""

from __future__ import annotations

import pytest
import stripe

from .shop import DAY, T0, Shop, month, open_shop


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return open_shop(client)


def test_coupons_take_stripes_parameters(client: stripe.StripeClient) -> None:
    percent = client.v1.coupons.create(
        params={
            "id": "SAVE50-3M",
            "percent_off": 50,
            "duration": "repeating",
            "duration_in_months": 3,
            "name": "50% off for 3 months",
            "metadata": {"offer": "discount"},
        }
    )
    assert (percent.id, percent.percent_off, percent.amount_off) == ("SAVE50-3M", 50, None)
    assert (percent.duration, percent.duration_in_months) == ("repeating", 3)
    assert (percent.name, percent.metadata.to_dict()) == (
        "50% off for 3 months",
        {"offer": "discount"},
    )
    assert percent.valid and percent.times_redeemed == 0
    amount = client.v1.coupons.create(
        params={"amount_off": 500, "currency": "USD", "duration": "forever"}
    )
    assert (amount.amount_off, amount.currency, amount.duration) == (500, "usd", "forever")
    assert amount.duration_in_months is None
    once = client.v1.coupons.create(params={"percent_off": 12.5, "duration": "once"})
    assert once.percent_off == 12.5 and once.duration == "once"
    assert client.v1.coupons.retrieve("SAVE50-3M").name == "50% off for 3 months"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"amount_off": 500, "duration": "once"}, "currency"),
        ({"percent_off": 10, "amount_off": 5, "currency": "usd"}, "percent_off"),
        ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
        ({"percent_off": 10, "duration": "sometimes"}, "duration"),
        ({"percent_off": 10, "durations": "once"}, "durations"),
    ],
)
def test_bad_coupons_are_refused(client: stripe.StripeClient, params, param) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.coupons.create(params=params)
    assert refused.value.http_status == 400 and refused.value.param == param


def test_coupon_id_is_unique_and_creation_is_idempotent(client: stripe.StripeClient) -> None:
    params = {"id": "WINBACK", "percent_off": 20, "duration": "once"}
    first = client.v1.coupons.create(params=params, options={"idempotency_key": "coupon-1"})
    again = client.v1.coupons.create(params=params, options={"idempotency_key": "coupon-1"})
    assert again.id == first.id == "WINBACK"
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    with pytest.raises(stripe.InvalidRequestError) as taken:
        client.v1.coupons.create(params=params)
    assert taken.value.code == "resource_already_exists"


def test_repeating_coupon_discounts_the_next_three_renewals(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    coupon = client.v1.coupons.create(
        params={"id": "STAY50", "percent_off": 50, "duration": "repeating", "duration_in_months": 3}
    )
    shop.advance_to(T0 + 10 * DAY)
    invoices_before = len(shop.invoices(sub.id))
    sub = client.v1.subscriptions.update(
        sub.id,
        params={"discounts": [{"coupon": coupon.id}], "proration_behavior": "none"},
        options={"idempotency_key": "apply-stay50"},
    )
    assert len(sub.discounts) == 1 and len(shop.invoices(sub.id)) == invoices_before
    created = shop.events("customer.discount.created")[-1].data.object
    assert created.id == sub.discounts[0] and created.source.coupon.id == "STAY50"
    assert created.start == T0 + 10 * DAY and created.end == month(3, T0 + 10 * DAY)
    assert created.subscription == sub.id
    updated = shop.events("customer.subscription.updated")[-1]
    assert updated.data.previous_attributes.discounts == []
    assert client.v1.coupons.retrieve("STAY50").times_redeemed == 1

    paid = []
    for n in range(1, 6):
        shop.advance_to(month(n) + DAY)
        invoice = shop.latest_invoice(sub.id)
        assert invoice.billing_reason == "subscription_cycle" and invoice.created == month(n)
        paid.append(invoice.amount_paid)
        if n <= 3:
            assert invoice.discounts == [created.id]
            assert invoice.total_discount_amounts[0].to_dict() == {
                "amount": 1500,
                "discount": created.id,
            }
            assert (invoice.subtotal, invoice.total) == (3000, 1500)
            line = invoice.lines.data[0]
            assert line.discount_amounts[0].to_dict() == {"amount": 1500, "discount": created.id}
        else:
            assert invoice.discounts == [] and invoice.total_discount_amounts == []
    assert paid == [1500, 1500, 1500, 3000, 3000]

    deleted = shop.events("customer.discount.deleted")
    assert [e.data.object.id for e in deleted] == [created.id]
    assert deleted[0].created == created.end
    assert shop.sub(sub.id).discounts == []
    removal = [
        e
        for e in shop.events("customer.subscription.updated")
        if "discounts" in (e.data.to_dict().get("previous_attributes") or {})
    ][-1]
    assert removal.created == created.end and removal.data.object.discounts == []


def test_once_coupon_discounts_one_renewal_then_goes(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    coupon = client.v1.coupons.create(params={"percent_off": 100, "duration": "once"})
    client.v1.subscriptions.update(
        sub.id, params={"discounts": [{"coupon": coupon.id}], "proration_behavior": "none"}
    )
    shop.advance_to(month(1) + DAY)
    free = shop.latest_invoice(sub.id)
    assert (free.total, free.amount_due, free.status) == (0, 0, "paid")
    assert shop.sub(sub.id).discounts == []
    assert shop.events("customer.discount.deleted")[-1].created == month(1)
    shop.advance_to(month(2) + DAY)
    assert shop.latest_invoice(sub.id).amount_paid == 3000


def test_forever_amount_off_coupon_and_replacing_a_discount(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    five_off = client.v1.coupons.create(
        params={"amount_off": 500, "currency": "usd", "duration": "forever"}
    )
    half = client.v1.coupons.create(params={"percent_off": 50, "duration": "forever"})
    sub = client.v1.subscriptions.update(sub.id, params={"discounts": [{"coupon": five_off.id}]})
    first = sub.discounts[0]
    sub = client.v1.subscriptions.update(sub.id, params={"discounts": [{"coupon": half.id}]})
    assert sub.discounts != [first]
    assert shop.events("customer.discount.deleted")[-1].data.object.id == first
    sub = client.v1.subscriptions.update(
        sub.id, params={"discounts": [{"discount": sub.discounts[0]}, {"coupon": five_off.id}]}
    )
    assert len(sub.discounts) == 2
    for n in (1, 2):
        shop.advance_to(month(n) + DAY)
        # 50% of 30.00, then 5.00 off what is left
        assert shop.latest_invoice(sub.id).amount_paid == 1000
    sub = client.v1.subscriptions.update(sub.id, params={"discounts": ""})
    assert sub.discounts == []
    shop.advance_to(month(3) + DAY)
    assert shop.latest_invoice(sub.id).amount_paid == 3000


def test_coupons_that_cannot_apply_are_refused(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    euros = client.v1.coupons.create(
        params={"amount_off": 500, "currency": "eur", "duration": "once"}
    )
    spent = client.v1.coupons.create(
        params={"percent_off": 10, "duration": "once", "max_redemptions": 1}
    )
    client.v1.subscriptions.update(sub.id, params={"discounts": [{"coupon": spent.id}]})
    for params, param in [
        ({"discounts": [{"coupon": euros.id}]}, "discounts[0][coupon]"),
        ({"discounts": [{"coupon": spent.id}]}, "discounts[0][coupon]"),
        ({"discounts": [{"coupon": "nope"}]}, "discounts[0][coupon]"),
        ({"discounts": [{"coupon": spent.id, "percent": 5}]}, "discounts[0][percent]"),
    ]:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.subscriptions.update(sub.id, params=params)
        assert refused.value.param == param


def test_a_refused_update_changes_nothing(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    coupon = client.v1.coupons.create(params={"percent_off": 50, "duration": "forever"})
    events = len(shop.all_events())
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.subscriptions.update(
            sub.id,
            params={
                "discounts": [{"coupon": coupon.id}],
                "items": [{"id": sub["items"].data[0].id, "price": shop.team.id}],
                "cancel_at_period_end": True,
                "pause_collection": {"behavior": "void", "resumes_at": T0 - DAY},
            },
        )
    assert refused.value.param == "pause_collection[resumes_at]"
    assert len(shop.all_events()) == events
    after = shop.sub(sub.id)
    assert after.discounts == [] and not after.cancel_at_period_end
    assert after["items"].data[0].price.id == shop.pro.id
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 0
    assert client.v1.invoice_items.list(params={"customer": sub.customer}).data == []
