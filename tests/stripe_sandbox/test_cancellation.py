"""The end of a cancel flow: cancelling at the period's end (and taking it back) with the
customer's reason, cancelling at once (with ``prorate`` / ``invoice_now``), and giving
a free period instead (``trial_end``)."""

from __future__ import annotations

import pytest
import stripe

from .shop import DAY, T0, Shop, month, open_shop


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return open_shop(client)


def test_cancel_at_period_end_with_feedback_and_taking_it_back(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 5 * DAY)
    end = sub["items"].data[0].current_period_end
    sub = client.v1.subscriptions.update(
        sub.id,
        params={
            "cancel_at_period_end": True,
            "cancellation_details": {"feedback": "too_expensive", "comment": "Pricey"},
        },
    )
    assert (sub.status, sub.cancel_at_period_end, sub.cancel_at) == ("active", True, end)
    assert sub.canceled_at == T0 + 5 * DAY and sub.ended_at is None
    assert sub.cancellation_details.to_dict() == {
        "comment": "Pricey",
        "feedback": "too_expensive",
        "reason": "cancellation_requested",
    }
    previous = shop.events("customer.subscription.updated")[-1].data.previous_attributes
    assert previous.cancel_at_period_end is False and previous.cancel_at is None

    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": False})
    assert (sub.cancel_at_period_end, sub.cancel_at, sub.canceled_at) == (False, None, None)
    assert sub.cancellation_details.reason is None
    shop.advance_to(month(1) + DAY)
    assert shop.sub(sub.id).status == "active"

    sub = client.v1.subscriptions.update(
        sub.id,
        params={
            "cancel_at_period_end": True,
            "cancellation_details": {"feedback": "switched_service"},
        },
    )
    assert sub.cancel_at == month(2)
    shop.advance_to(month(2) + DAY)
    sub = shop.sub(sub.id)
    assert (sub.status, sub.ended_at, sub.canceled_at) == ("canceled", month(2), month(1) + DAY)
    assert sub.cancellation_details.feedback == "switched_service"
    assert sub.cancellation_details.reason == "cancellation_requested"
    deleted = shop.events("customer.subscription.deleted")
    assert [e.data.object.id for e in deleted] == [sub.id] and deleted[0].created == month(2)
    assert shop.latest_invoice(sub.id).created == month(1)  # no renewal at the end


def test_cancel_now_with_the_customers_reason(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 3 * DAY)
    sub = client.v1.subscriptions.cancel(
        sub.id,
        params={"cancellation_details": {"feedback": "unused", "comment": "Not using it"}},
        options={"idempotency_key": "cancel-now"},
    )
    assert sub.status == "canceled"
    assert sub.canceled_at == sub.ended_at == T0 + 3 * DAY
    assert sub.cancellation_details.to_dict() == {
        "comment": "Not using it",
        "feedback": "unused",
        "reason": "cancellation_requested",
    }
    deleted = shop.events("customer.subscription.deleted")[-1]
    assert deleted.data.object.id == sub.id and deleted.created == T0 + 3 * DAY
    # A canceled subscription still takes its cancellation_details, and nothing else.
    sub = client.v1.subscriptions.update(
        sub.id, params={"cancellation_details": {"comment": "Came back later"}}
    )
    assert sub.cancellation_details.comment == "Came back later"
    assert sub.cancellation_details.feedback == "unused"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": False})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub.id)


def test_cancel_now_with_prorate_and_invoice_now_credits_the_unused_time(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    at = T0 + 10 * DAY
    shop.advance_to(at)
    item = sub["items"].data[0]
    share = (item.current_period_end - at) / (item.current_period_end - item.current_period_start)
    sub = client.v1.subscriptions.cancel(sub.id, params={"prorate": True, "invoice_now": True})
    final = client.v1.invoices.retrieve(sub.latest_invoice)
    credit = -round(3000 * share)
    assert [line.amount for line in final.lines.data] == [credit]
    assert final.lines.data[0].description == "Unused time on Pro after 01 Oct 2026"
    assert (final.total, final.amount_due, final.status) == (credit, 0, "paid")
    assert client.v1.customers.retrieve(sub.customer).balance == credit


def test_cancel_now_drops_pending_prorations(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 10 * DAY)
    client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "price": shop.team.id}]}
    )
    pending = client.v1.invoice_items.list(params={"customer": sub.customer, "pending": True})
    assert len(pending.data) == 2
    client.v1.subscriptions.cancel(sub.id)
    assert client.v1.invoice_items.list(params={"customer": sub.customer}).data == []
    assert {e.data.object.id for e in shop.events("invoiceitem.deleted")} == {
        ii.id for ii in pending.data
    }


def test_prorations_pending_at_a_period_end_cancellation_are_still_billed(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    shop.advance_to(T0 + 10 * DAY)
    client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "price": shop.team.id}],
            "cancel_at_period_end": True,
        },
    )
    pending = client.v1.invoice_items.list(params={"customer": sub.customer, "pending": True})
    shop.advance_to(month(1) + 2 * DAY)
    final = shop.latest_invoice(sub.id)
    assert final.created == month(1) and final.status == "paid"
    assert sorted(line.amount for line in final.lines.data) == sorted(
        ii.amount for ii in pending.data
    )
    assert shop.sub(sub.id).status == "canceled"


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (
            lambda c, s: c.v1.subscriptions.update(
                s, params={"cancellation_details": {"feedback": "too_pricey"}}
            ),
            "cancellation_details[feedback]",
        ),
        (
            lambda c, s: c.v1.subscriptions.update(
                s, params={"cancellation_details": {"reason": "cancellation_requested"}}
            ),
            "cancellation_details[reason]",
        ),
        (
            lambda c, s: c.v1.subscriptions.cancel(s, params={"invoice_later": True}),
            "invoice_later",
        ),
        (
            lambda c, s: c.v1.subscriptions.cancel(
                s, params={"cancellation_details": {"feedbacks": "unused"}}
            ),
            "cancellation_details[feedbacks]",
        ),
        (
            lambda c, s: c.v1.subscriptions.update(
                s, params={"cancel_at_period_end": True, "cancel_at": T0 + 9 * DAY}
            ),
            "cancel_at",
        ),
    ],
)
def test_bad_cancellations_are_refused(shop: Shop, call, param) -> None:
    sub = shop.subscribe()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        call(shop.client, sub.id)
    assert refused.value.http_status == 400 and refused.value.param == param
    sub = shop.sub(sub.id)
    assert sub.status == "active" and not sub.cancel_at_period_end


def test_a_free_month_moves_an_active_subscription_into_a_trial(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe()
    at = T0 + 20 * DAY
    shop.advance_to(at)
    free_until = month(2)  # the rest of this period and the next one free
    invoices = len(shop.invoices(sub.id))
    sub = client.v1.subscriptions.update(
        sub.id, params={"trial_end": free_until, "proration_behavior": "none"}
    )
    assert (sub.status, sub.trial_start, sub.trial_end) == ("trialing", at, free_until)
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (at, free_until)
    assert len(shop.invoices(sub.id)) == invoices
    assert client.v1.invoice_items.list(params={"customer": sub.customer}).data == []

    shop.advance_to(month(1) + 2 * DAY)  # the old renewal date passes without a charge
    assert len(shop.invoices(sub.id)) == invoices
    assert len(client.v1.charges.list(params={"customer": sub.customer}).data) == 1

    shop.advance_to(free_until + DAY)
    will_end = shop.events("customer.subscription.trial_will_end")
    assert [e.created for e in will_end] == [free_until - 3 * DAY]
    sub = shop.sub(sub.id)
    assert sub.status == "active"
    renewal = shop.latest_invoice(sub.id)
    assert (renewal.created, renewal.amount_paid, renewal.status) == (free_until, 3000, "paid")
    assert sub["items"].data[0].current_period_end == month(3)


def test_extending_a_trial(shop: Shop) -> None:
    client = shop.client
    sub = shop.subscribe(trial_period_days=7)
    longer = T0 + 21 * DAY
    sub = client.v1.subscriptions.update(
        sub.id, params={"trial_end": longer, "proration_behavior": "none"}
    )
    assert (sub.status, sub.trial_start, sub.trial_end) == ("trialing", T0, longer)
    shop.advance_to(T0 + 10 * DAY)  # the first trial end passes quietly
    assert shop.sub(sub.id).status == "trialing"
    shop.advance_to(longer + DAY)
    assert shop.sub(sub.id).status == "active"
    assert shop.latest_invoice(sub.id).created == longer
    with pytest.raises(stripe.InvalidRequestError) as past:
        client.v1.subscriptions.update(sub.id, params={"trial_end": T0})
    assert past.value.param == "trial_end"
