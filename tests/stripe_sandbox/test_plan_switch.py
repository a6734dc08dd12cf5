"""Switching plans as a save offer: Stripe's prorations (invoice items crediting the
unused time and charging the rest of the period at the new price, to the second),
picked up by the next renewal or invoiced at once, with ``proration_date``."""

from __future__ import annotations

import pytest
import stripe

from .shop import DAY, T0, Shop, month, open_shop


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return open_shop(client)


def shares(sub, at: int) -> tuple[int, int, float]:
    item = sub["items"].data[0]
    start, end = item.current_period_start, item.current_period_end
    return start, end, (end - at) / (end - start)


def test_switch_creates_prorations_for_the_next_renewal(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 10 * DAY)
    at = T0 + 10 * DAY - 3600  # the moment a preview was shown, an hour earlier
    start, end, share = shares(sub, at)
    item = sub["items"].data[0]
    sub = client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": item.id, "price": shop.team.id}],
            "proration_behavior": "create_prorations",
            "proration_date": at,
        },
    )
    assert sub["items"].data[0].id == item.id and sub["items"].data[0].price.id == shop.team.id
    assert sub.latest_invoice == shop.invoices(sub.id)[0].id  # nothing invoiced yet
    pending = client.v1.invoice_items.list(params={"customer": sub.customer, "pending": True})
    by_amount = sorted(pending.data, key=lambda ii: ii.amount)
    credit, charge = by_amount
    assert credit.amount == -round(3000 * share) and charge.amount == round(6000 * share)
    for ii in by_amount:
        assert ii.proration and not ii.discountable and ii.invoice is None
        assert ii.period.to_dict() == {"start": at, "end": end}
        assert ii.parent.subscription_details.subscription == sub.id
    assert credit.description == "Unused time on Pro after 01 Oct 2026"
    assert charge.description == "Remaining time on Pro after 01 Oct 2026"
    assert {e.data.object.id for e in shop.events("invoiceitem.created")} == {
        credit.id,
        charge.id,
    }

    shop.advance_to(month(1) + DAY)
    renewal = shop.latest_invoice(sub.id)
    prorations = [
        line for line in renewal.lines.data if line.parent.subscription_item_details.proration
    ]
    assert sorted(line.amount for line in prorations) == [credit.amount, charge.amount]
    assert {line.parent.subscription_item_details.invoice_item for line in prorations} == {
        credit.id,
        charge.id,
    }
    credit_line = next(line for line in prorations if line.amount < 0)
    first = shop.invoices(sub.id)[0]
    assert (
        credit_line.parent.subscription_item_details.proration_details.credited_items.to_dict()
        == {
            "invoice": first.id,
            "invoice_line_items": [first.lines.data[0].id],
        }
    )
    regular = next(
        line for line in renewal.lines.data if not line.parent.subscription_item_details.proration
    )
    assert regular.amount == 6000 and regular.period.start == end
    assert renewal.amount_paid == 6000 + charge.amount + credit.amount
    assert (renewal.period_start, renewal.period_end) == (start, end)
    assert client.v1.invoice_items.retrieve(credit.id).invoice == renewal.id


def test_preview_shows_exactly_what_the_switch_then_bills(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 12 * DAY)
    at = T0 + 12 * DAY
    item = sub["items"].data[0]
    events_before = len(shop.all_events())
    details = {
        "items": [{"id": item.id, "price": shop.lite.id}],
        "proration_date": at,
        "proration_behavior": "create_prorations",
    }
    preview = client.v1.invoices.create_preview(
        params={"customer": sub.customer, "subscription": sub.id, "subscription_details": details}
    )
    _, end, share = shares(sub, at)
    assert preview.object == "invoice" and preview.id.startswith("upcoming_in_")
    assert (preview.status, preview.billing_reason, preview.subscription) == (
        "draft",
        "upcoming",
        sub.id,
    )
    assert (preview.period_end, preview.created, preview.next_payment_attempt) == (
        end,
        end,
        end + 3600,
    )
    amounts = sorted(line.amount for line in preview.lines.data)
    assert amounts == sorted([-round(3000 * share), round(1500 * share), 1500])
    assert preview.total == preview.amount_due == sum(amounts)
    proration_lines = [
        line for line in preview.lines.data if line.parent.subscription_item_details.proration
    ]
    assert {line.period.start for line in proration_lines} == {at}
    # Nothing changed: no event, no invoice item, the same plan, no stored invoice.
    assert len(shop.all_events()) == events_before
    assert shop.sub(sub.id)["items"].data[0].price.id == shop.pro.id
    assert client.v1.invoice_items.list(params={"customer": sub.customer}).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.retrieve(preview.id)

    shop.advance_to(T0 + 12 * DAY + 7200)  # the customer accepts two hours later
    client.v1.subscriptions.update(
        sub.id,
        params={"items": [{"id": item.id, "price": shop.lite.id}], "proration_date": at},
    )
    shop.advance_to(month(1) + DAY)
    renewal = shop.latest_invoice(sub.id)
    assert sorted(line.amount for line in renewal.lines.data) == amounts
    assert renewal.amount_paid == preview.amount_due


def test_plain_preview_is_the_next_renewal_with_its_discount(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    coupon = client.v1.coupons.create(
        params={"percent_off": 20, "duration": "repeating", "duration_in_months": 2}
    )
    sub = client.v1.subscriptions.update(sub.id, params={"discounts": [{"coupon": coupon.id}]})
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert (preview.subtotal, preview.total, preview.amount_due) == (3000, 2400, 2400)
    assert preview.discounts == sub.discounts
    assert preview.total_discount_amounts[0].amount == 600
    line = preview.lines.data[0]
    assert (line.period.start, line.period.end) == (month(1), month(2))
    assert line.id.startswith("il_tmp_") and line.invoice == preview.id
    # A coupon the customer is offered, previewed in place of the current discounts.
    offer = client.v1.coupons.create(params={"percent_off": 50, "duration": "forever"})
    offered = client.v1.invoices.create_preview(
        params={"subscription": sub.id, "discounts": [{"coupon": offer.id}]}
    )
    assert offered.amount_due == 1500
    assert client.v1.coupons.retrieve(offer.id).times_redeemed == 0
    shop.advance_to(month(1) + DAY)
    assert shop.latest_invoice(sub.id).amount_paid == preview.amount_due


def test_preview_of_a_cancellation_at_period_end(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    with pytest.raises(stripe.InvalidRequestError) as none:
        client.v1.invoices.create_preview(
            params={"subscription": sub.id, "subscription_details": {"cancel_at_period_end": True}}
        )
    assert none.value.http_status == 404 and none.value.code == "invoice_upcoming_none"
    client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.create_preview(params={"subscription": sub.id})
    kept = client.v1.invoices.create_preview(
        params={"subscription": sub.id, "subscription_details": {"cancel_at_period_end": False}}
    )
    assert kept.amount_due == 3000


def test_always_invoice_bills_the_prorations_at_once(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 15 * DAY)
    at = T0 + 15 * DAY
    _, _, share = shares(sub, at)
    preview = client.v1.invoices.create_preview(
        params={
            "subscription": sub.id,
            "subscription_details": {
                "items": [{"id": sub["items"].data[0].id, "price": shop.team.id}],
                "proration_behavior": "always_invoice",
                "proration_date": at,
            },
        }
    )
    sub = client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "price": shop.team.id}],
            "proration_behavior": "always_invoice",
            "proration_date": at,
        },
    )
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    expected = round(6000 * share) - round(3000 * share)
    assert invoice.amount_paid == expected == preview.amount_due
    assert (preview.created, preview.next_payment_attempt) == (at, at)
    assert all(line.parent.subscription_item_details.proration for line in invoice.lines.data)
    assert (
        client.v1.invoice_items.list(params={"customer": sub.customer, "pending": True}).data == []
    )
    shop.advance_to(month(1) + DAY)
    assert shop.latest_invoice(sub.id).amount_paid == 6000


def test_downgrade_invoiced_at_once_leaves_a_credit_balance(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 15 * DAY)
    _, _, share = shares(sub, T0 + 15 * DAY)
    sub = client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "price": shop.lite.id}],
            "proration_behavior": "always_invoice",
        },
    )
    credit = round(1500 * share) - round(3000 * share)
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert (invoice.total, invoice.amount_due, invoice.status) == (credit, 0, "paid")
    assert (invoice.starting_balance, invoice.ending_balance) == (0, credit)
    assert client.v1.customers.retrieve(sub.customer).balance == credit
    shop.advance_to(month(1) + DAY)
    renewal = shop.latest_invoice(sub.id)
    assert renewal.starting_balance == credit
    assert renewal.amount_paid == 1500 + credit
    assert client.v1.customers.retrieve(sub.customer).balance == 0


def test_no_prorations_bills_the_new_price_from_the_next_renewal(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 20 * DAY)
    client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "price": shop.lite.id}],
            "proration_behavior": "none",
        },
    )
    assert client.v1.invoice_items.list(params={"customer": sub.customer}).data == []
    shop.advance_to(month(1) + DAY)
    renewal = shop.latest_invoice(sub.id)
    assert [line.amount for line in renewal.lines.data] == [1500]


def test_switch_to_a_yearly_price_restarts_the_period_and_bills_now(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    at = T0 + 10 * DAY
    shop.advance_to(at)
    _, _, share = shares(sub, at)
    sub = client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "price": shop.yearly.id}]}
    )
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (at, month(12, at))
    assert sub.billing_cycle_anchor == at
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert sorted(line.amount for line in invoice.lines.data) == [-round(3000 * share), 30000]
    assert invoice.status == "paid" and invoice.billing_reason == "subscription_update"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"proration_behavior": "sometimes"}, "proration_behavior"),
        ({"proration_date": T0 - 40 * DAY}, "proration_date"),
        ({"prorate": True}, "prorate"),
        ({"items": [{"id": "ITEM", "prise": "x"}]}, "items[0][prise]"),
    ],
)
def test_bad_switches_are_refused(shop: Shop, params, param) -> None:
    sub = shop.subscribe()
    item = sub["items"].data[0].id
    params = {k: [{**e, "id": item} for e in v] if k == "items" else v for k, v in params.items()}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        shop.client.v1.subscriptions.update(
            sub.id, params={"items": [{"id": item, "price": shop.team.id}], **params}
        )
    assert refused.value.http_status == 400 and refused.value.param == param
    assert shop.sub(sub.id)["items"].data[0].price.id == shop.pro.id


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"subscription_details": {"proration_dates": 1}}, "subscription_details[proration_dates]"),
        (
            {"subscription_details": {"items": [{"prize": "x"}]}},
            "subscription_details[items][0][prize]",
        ),
        ({"subscriptions": "sub_x"}, "subscriptions"),
        ({"customer": "cus_nobody"}, "customer"),
    ],
)
def test_bad_previews_are_refused(shop: Shop, params, param) -> None:
    sub = shop.subscribe()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        shop.client.v1.invoices.create_preview(params={"subscription": sub.id, **params})
    assert refused.value.param == param


def test_switching_during_a_trial_prorates_nothing(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe(trial_period_days=14)
    shop.advance_to(T0 + 5 * DAY)
    client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "price": shop.team.id}]}
    )
    assert client.v1.invoice_items.list(params={"customer": sub.customer}).data == []
    shop.advance_to(T0 + 15 * DAY)
    assert shop.latest_invoice(sub.id).amount_paid == 6000
